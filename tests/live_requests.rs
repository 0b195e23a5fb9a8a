//! Exact-request tests: the real `kube::Client` over a `tower_test` mock service, so every
//! request live mode sends for the writes that matter is seen whole — method, path, query,
//! content type and body — and answered by the test: the Argo CD operation patch, the Shop patch
//! with its precondition, the Lease acquire and takeover.

use http::{Request, Response};
use kube::client::Body;
use serde_json::{Value, json};
use shopctl::backends::live::lease::LeaseLock;
use shopctl::backends::live::placement::ShopPatcher;
use shopctl::backends::live::sync;
use shopctl::domain::Ts;
use shopctl::domain::placement::Move;
use shopctl::ops::placement::{Capacities, PlacementStore, Record};
use shopctl::ops::{Holder, LockStore, OpsError};
use tower_test::mock;

type Handle = mock::Handle<Request<Body>, Response<Body>>;

fn client() -> (kube::Client, Handle) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    (kube::Client::new(service, "default"), handle)
}

/// The next request: method, path and query, content type, and body as JSON (null if none).
async fn next(
    handle: &mut Handle,
) -> (
    String,
    String,
    String,
    Value,
    mock::SendResponse<Response<Body>>,
) {
    let (req, send) =
        tokio::time::timeout(std::time::Duration::from_secs(30), handle.next_request())
            .await
            .expect("a request in time")
            .expect("a request");
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = req.into_body().collect_bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (method, uri, content_type, body, send)
}

fn answer(send: mock::SendResponse<Response<Body>>, status: u16, body: Value) {
    send.send_response(
        Response::builder()
            .status(status)
            .body(Body::from(serde_json::to_vec(&body).expect("json")))
            .expect("response"),
    );
}

fn conflict() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Conflict",
           "code": 409, "message": "the object has been modified"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_argo_cd_sync_is_one_merge_patch_of_the_operation_with_the_refresh_annotation() {
    let (client, mut handle) = client();
    let gvk = kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application");
    let resource = kube::api::ApiResource::from_gvk_with_plural(&gvk, "applications");
    let apps: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(client, "argocd", &resource);
    let call = tokio::spawn(async move {
        sync::trigger(
            &apps,
            "shopset-a-1",
            "alice@ops",
            "0123abc",
            "tier-3",
            "promote prod",
        )
        .await
    });
    let (method, uri, _, _, send) = next(&mut handle).await;
    assert_eq!(
        (method.as_str(), uri.as_str()),
        (
            "GET",
            "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/shopset-a-1"
        )
    );
    answer(
        send,
        200,
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
               "metadata": {"name": "shopset-a-1", "namespace": "argocd", "resourceVersion": "41"},
               "status": {"operationState": {"phase": "Succeeded"}}}),
    );
    let (method, uri, content_type, body, send) = next(&mut handle).await;
    assert_eq!(method, "PATCH");
    assert_eq!(
        uri,
        "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/shopset-a-1?&fieldManager=shopctl"
    );
    assert_eq!(content_type, "application/merge-patch+json");
    assert_eq!(
        body,
        json!({
            "metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"},
                         "resourceVersion": "41"},
            "operation": {
                "initiatedBy": {"username": "alice@ops", "automated": false},
                "info": [{"name": "Reason", "value": "shopctl: promote prod"}],
                "sync": {"revision": "0123abc"},
            },
            "status": {"operationState": null}
        })
    );
    // Someone changed it meanwhile: read again, check again, write with the new version.
    answer(send, 409, conflict());
    let (method, _, _, _, send) = next(&mut handle).await;
    assert_eq!(method, "GET");
    answer(
        send,
        200,
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
               "metadata": {"name": "shopset-a-1", "namespace": "argocd", "resourceVersion": "42"}}),
    );
    let (method, _, _, body, send) = next(&mut handle).await;
    assert_eq!(method, "PATCH");
    assert_eq!(body["metadata"]["resourceVersion"], "42");
    assert!(body.get("status").is_none(), "{body}");
    answer(
        send,
        200,
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                             "metadata": {"name": "shopset-a-1", "namespace": "argocd"}}),
    );
    call.await.expect("joined").expect("synced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_operation_is_not_patched() {
    let (client, mut handle) = client();
    let gvk = kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application");
    let resource = kube::api::ApiResource::from_gvk_with_plural(&gvk, "applications");
    let apps: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(client, "argocd", &resource);
    let call = tokio::spawn(async move {
        sync::trigger(&apps, "shopset-a-1", "alice", "r", "tier-0", "x").await
    });
    let (_, _, _, _, send) = next(&mut handle).await;
    answer(
        send,
        200,
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
               "metadata": {"name": "shopset-a-1", "namespace": "argocd"},
               "status": {"operationState": {"phase": "Running"}}}),
    );
    let e = call.await.expect("joined").expect_err("refused");
    assert!(e.to_string().contains("shopset-a-1"), "{e}");
    // Nothing else was sent: no request, and the client is gone.
    assert!(matches!(
        tokio::time::timeout(std::time::Duration::from_secs(5), handle.next_request()).await,
        Ok(None)
    ));
}

fn shop(rv: &str, on: &[&str], annotations: Value) -> Value {
    json!({"apiVersion": "shopset.dev/v1alpha1", "kind": "Shop",
           "metadata": {"name": "maple-bakery", "resourceVersion": rv, "annotations": annotations},
           "spec": {"redundancy": "single", "shopSets": on}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_is_patched_with_its_resource_version_and_a_conflict_reads_it_again() {
    let (client, mut handle) = client();
    let store = ShopPatcher::new(client);
    let call = tokio::spawn(async move {
        let mv = Move {
            shop: "maple-bakery".into(),
            from: vec!["b-1".into()],
            to: vec!["c-1".into()],
        };
        store
            .apply(
                &[mv],
                &Record::Drain("drain-b-1".into()),
                &Capacities::new(),
                &[],
                &shopctl::ops::placement::unheard,
            )
            .await
    });
    let path = "/apis/shopset.dev/v1alpha1/shops/maple-bakery";
    for (rv, status) in [("41", 409), ("42", 200)] {
        let (method, uri, _, _, send) = next(&mut handle).await;
        assert_eq!((method.as_str(), uri.as_str()), ("GET", path));
        answer(send, 200, shop(rv, &["b-1"], json!({})));
        let (method, uri, content_type, body, send) = next(&mut handle).await;
        assert_eq!(method, "PATCH");
        assert_eq!(uri, format!("{path}?&fieldManager=shopctl"));
        assert_eq!(content_type, "application/merge-patch+json");
        assert_eq!(
            body,
            json!({
                "metadata": {
                    "resourceVersion": rv,
                    "annotations": {"shopset.dev/drain": "drain-b-1",
                                    "shopset.dev/previous-shopsets": "b-1"},
                },
                "spec": {"shopSets": ["c-1"]},
            }),
            "the precondition is the version just read"
        );
        if status == 409 {
            answer(send, 409, conflict());
        } else {
            answer(send, 200, shop("43", &["c-1"], json!({})));
        }
    }
    let out = call.await.expect("joined").expect("applied");
    assert_eq!(out.applied, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_the_recheck_read_is_patched_over_that_version_without_a_read_until_it_conflicts() {
    let (client, mut handle) = client();
    let store = ShopPatcher::new(client);
    let call = tokio::spawn(async move {
        let mv = Move {
            shop: "maple-bakery".into(),
            from: vec!["b-1".into()],
            to: vec!["c-1".into()],
        };
        let seen = shopctl::domain::Shop {
            name: "maple-bakery".into(),
            redundancy: shopctl::domain::Redundancy::Single,
            shopsets: vec!["b-1".into()],
            previous: None,
            version: Some("40".into()),
        };
        store
            .apply(
                &[mv],
                &Record::Drain("drain-b-1".into()),
                &Capacities::new(),
                &[seen],
                &shopctl::ops::placement::unheard,
            )
            .await
    });
    let path = "/apis/shopset.dev/v1alpha1/shops/maple-bakery";
    let expected = |rv: &str| {
        json!({
            "metadata": {
                "resourceVersion": rv,
                "annotations": {"shopset.dev/drain": "drain-b-1",
                                "shopset.dev/previous-shopsets": "b-1"},
            },
            "spec": {"shopSets": ["c-1"]},
        })
    };
    // First over the version the re-check read: no GET.
    let (method, uri, _, body, send) = next(&mut handle).await;
    assert_eq!(method, "PATCH");
    assert_eq!(uri, format!("{path}?&fieldManager=shopctl"));
    assert_eq!(body, expected("40"));
    answer(send, 409, conflict());
    // Changed since: read, judged again (still on b-1), written over the version just read.
    let (method, uri, _, _, send) = next(&mut handle).await;
    assert_eq!((method.as_str(), uri.as_str()), ("GET", path));
    answer(send, 200, shop("41", &["b-1"], json!({})));
    let (method, _, _, body, send) = next(&mut handle).await;
    assert_eq!(method, "PATCH");
    assert_eq!(body, expected("41"));
    answer(send, 200, shop("42", &["c-1"], json!({})));
    let out = call.await.expect("joined").expect("applied");
    assert_eq!((out.applied, out.already, out.skipped.len()), (1, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_is_acquired_by_create_and_taken_over_by_replace_with_its_version() {
    let (client, mut handle) = client();
    // Whether Bob's Lease has lapsed is judged by a clock the test moves.
    let elapsed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let clock: shopctl::backends::live::lease::Clock = {
        let elapsed = std::sync::Arc::clone(&elapsed);
        std::sync::Arc::new(move || {
            std::time::Duration::from_millis(elapsed.load(std::sync::atomic::Ordering::SeqCst))
        })
    };
    let lock = LeaseLock::new(client, "shopctl", "shopctl-release", 600).timed_by(clock);
    let lock = std::sync::Arc::new(lock);
    let me = Holder {
        operator: "alice@ops".into(),
        session: "elsewhere/1/a".into(),
        operation: None,
    }
    .doing("draining 'c'");
    let now = Ts::parse_rfc3339("2026-11-23T20:00:00Z").expect("time");
    let path = "/apis/coordination.k8s.io/v1/namespaces/shopctl/leases";
    let expected = |rv: Option<&str>| {
        let mut metadata = json!({"name": "shopctl-release",
                                  "annotations": {"shopset.dev/operation": "draining 'c'"}});
        if let Some(rv) = rv {
            metadata["resourceVersion"] = json!(rv);
        }
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata,
               "spec": {"holderIdentity": "alice@ops elsewhere/1/a", "leaseDurationSeconds": 600,
                        "acquireTime": "2026-11-23T20:00:00.000000Z",
                        "renewTime": "2026-11-23T20:00:00.000000Z"}})
    };

    // No Lease yet: created.
    let (l, m) = (std::sync::Arc::clone(&lock), me.clone());
    let call = tokio::spawn(async move { l.acquire(&m, now).await });
    let (method, uri, _, _, send) = next(&mut handle).await;
    assert_eq!(
        (method.as_str(), uri.as_str()),
        ("GET", format!("{path}/shopctl-release").as_str())
    );
    answer(
        send,
        404,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                             "reason": "NotFound", "code": 404, "message": "not found"}),
    );
    let (method, uri, content_type, body, send) = next(&mut handle).await;
    assert_eq!(
        (method.as_str(), uri.as_str()),
        ("POST", format!("{path}?&fieldManager=shopctl").as_str())
    );
    assert_eq!(content_type, "application/json");
    assert_eq!(body, expected(None));
    let mut created = body.clone();
    created["metadata"]["resourceVersion"] = json!("7");
    answer(send, 201, created);
    let got = call.await.expect("joined").expect("acquired");
    assert_eq!(got.operation.as_deref(), Some("draining 'c'"));

    // Bob's Lease says it was renewed long ago, by his clock. This process has not seen it
    // before: it is his for its duration (1 s) from now, and nothing is written.
    let bobs = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
           "metadata": {"name": "shopctl-release", "namespace": "shopctl", "resourceVersion": "99"},
           "spec": {"holderIdentity": "bob@ops elsewhere/2/b", "leaseDurationSeconds": 1,
                    "acquireTime": "2026-11-23T08:00:00Z", "renewTime": "2026-11-23T08:00:00Z"}});
    let (l, m) = (std::sync::Arc::clone(&lock), me.clone());
    let call = tokio::spawn(async move { l.acquire(&m, now).await });
    let (_, _, _, _, send) = next(&mut handle).await;
    answer(send, 200, bobs.clone());
    match call.await.expect("joined") {
        Err(OpsError::Locked(l)) => assert_eq!(l.holder, "bob@ops"),
        other => panic!("taken before it was seen unchanged for its duration: {other:?}"),
    }
    // Seen unchanged for its duration: taken over by replace, with its resourceVersion.
    elapsed.store(1_000, std::sync::atomic::Ordering::SeqCst);
    let (l, m) = (std::sync::Arc::clone(&lock), me.clone());
    let call = tokio::spawn(async move { l.acquire(&m, now).await });
    let (_, _, _, _, send) = next(&mut handle).await;
    answer(send, 200, bobs);
    let (method, uri, _, body, send) = next(&mut handle).await;
    assert_eq!(
        (method.as_str(), uri.as_str()),
        (
            "PUT",
            format!("{path}/shopctl-release?&fieldManager=shopctl").as_str()
        )
    );
    assert_eq!(
        body,
        expected(Some("99")),
        "a replace that only wins against version 99"
    );
    // Another contender replaced it first: this one lost, and says to whom.
    answer(send, 409, conflict());
    let (_, _, _, _, send) = next(&mut handle).await;
    answer(
        send,
        200,
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": "shopctl-release", "namespace": "shopctl", "resourceVersion": "100",
                            "annotations": {"shopset.dev/operation": "promoting 'prod'"}},
               "spec": {"holderIdentity": "carol@ops elsewhere/3/c", "leaseDurationSeconds": 600,
                        "acquireTime": "2026-11-23T20:00:00Z", "renewTime": "2026-11-23T20:00:00Z"}}),
    );
    let e = call.await.expect("joined").expect_err("lost");
    assert_eq!(
        e.to_string(),
        "locked by carol@ops (promoting 'prod') until 20:10:00"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_the_api_server_forbids_is_kept_whole_and_exits_as_not_permitted() {
    let (client, mut handle) = client();
    let store = ShopPatcher::new(client);
    let call = tokio::spawn(async move { store.set_cordon("b", true, Some("drain-b-1")).await });
    let (method, uri, _, _, send) = next(&mut handle).await;
    assert_eq!(method, "PATCH");
    assert!(
        uri.starts_with("/apis/shopset.dev/v1alpha1/fleetclusters/b"),
        "{uri}"
    );
    answer(
        send,
        403,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
               "code": 403, "message": "fleetclusters.shopset.dev \"b\" is forbidden: User \"viewer\" cannot patch resource"}),
    );
    let e = call.await.expect("joined").expect_err("forbidden");
    match &e {
        OpsError::Api(f) => {
            assert_eq!(
                (f.status, f.reason.as_deref()),
                (Some(403), Some("Forbidden"))
            );
            assert!(f.message.contains("cannot patch resource"), "{f:?}");
        }
        other => panic!("the API server's answer was lost: {other:?}"),
    }
    assert_eq!(
        shopctl::commands::exit_for(&e),
        shopctl::commands::Exit::ReadOnly
    );
}
