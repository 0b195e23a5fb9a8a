//! Live placement writes through the real `kube::Client` against the fake API server: the exact
//! Shop patch (shopSets, the resourceVersion precondition, the drain's annotations, the field
//! manager), a 409 from a concurrent writer re-read and retried, a shop moved meanwhile left
//! alone, and cordon on the FleetCluster.

#[path = "support/fake_kube.rs"]
mod fake_kube;

use fake_kube::FakeKube;
use serde_json::json;
use shopctl::backends::live::{kubeconfig, placement::ShopPatcher};
use shopctl::domain::placement::Move;
use shopctl::ops::placement::{Capacities, PlacementStore, Record};

async fn patcher(file: &std::path::Path) -> ShopPatcher {
    let (k, name) = kubeconfig::load(Some(file)).expect("kubeconfig");
    let config = kubeconfig::client_config(&k, &name, None)
        .await
        .expect("context");
    ShopPatcher::new(kubeconfig::client(config).expect("client"))
}

fn mv(shop: &str, from: &[&str], to: &[&str]) -> Move {
    Move {
        shop: shop.into(),
        from: from.iter().map(|s| s.to_string()).collect(),
        to: to.iter().map(|s| s.to_string()).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_batch_patches_shops_with_preconditions_and_survives_a_concurrent_writer() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    for (n, on) in [("s1", "b-1"), ("s2", "b-1"), ("s3", "b-1")] {
        fake.put(
            "shops",
            "Shop",
            json!({"metadata": {"name": n}, "spec": {"redundancy": "single", "shopSets": [on]}}),
        );
    }
    fake.put(
        "fleetclusters",
        "FleetCluster",
        json!({"metadata": {"name": "b"}, "spec": {"provider": "eks"}}),
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = fake.kubeconfig(tmp.path(), "ops", "t");
    // s2 meets a concurrent writer; s3 was moved elsewhere before the batch.
    fake.conflict_next_patch("shops", "s2");
    fake.put(
        "shops",
        "Shop",
        json!({"metadata": {"name": "s3"}, "spec": {"redundancy": "single", "shopSets": ["c-1"]}}),
    );
    let rv_s1 = fake.get("shops", "s1").expect("s1")["metadata"]["resourceVersion"].clone();
    let out = {
        let p = patcher(&file).await;
        p.set_cordon("b", true, Some("drain-b-1"))
            .await
            .expect("cordoned");
        let out = p
            .apply(
                &[
                    mv("s1", &["b-1"], &["a-1"]),
                    mv("s2", &["b-1"], &["a-1"]),
                    mv("s3", &["b-1"], &["a-1"]),
                ],
                &Record::Drain("drain-b-1".into()),
                &Capacities::new(),
                &[],
                &shopctl::ops::placement::unheard,
            )
            .await
            .expect("batch");
        // Running the batch again moves nothing twice.
        let again = p
            .apply(
                &[mv("s1", &["b-1"], &["a-1"])],
                &Record::Drain("drain-b-1".into()),
                &Capacities::new(),
                &[],
                &shopctl::ops::placement::unheard,
            )
            .await
            .expect("batch");
        (out, again)
    };
    let (out, again) = out;
    assert_eq!((out.applied, out.already), (2, 0), "{out:?}");
    assert_eq!(out.skipped.len(), 1);
    assert!(out.skipped[0].1.contains("moved meanwhile"), "{out:?}");
    assert_eq!((again.applied, again.already), (0, 1));

    let s1 = fake.get("shops", "s1").expect("s1");
    assert_eq!(s1["spec"]["shopSets"], json!(["a-1"]));
    assert_eq!(
        s1["metadata"]["annotations"]["shopset.dev/drain"],
        "drain-b-1"
    );
    assert_eq!(
        s1["metadata"]["annotations"]["shopset.dev/previous-shopsets"],
        "b-1"
    );
    assert_eq!(
        fake.get("shops", "s2").expect("s2")["spec"]["shopSets"],
        json!(["a-1"])
    );
    let b = fake.get("fleetclusters", "b").expect("b");
    assert_eq!(b["spec"]["unschedulable"], true);
    // The exact request: a merge patch with the resourceVersion read, by field manager shopctl.
    let patches = fake.patches();
    let (_, _, manager, body) = patches
        .iter()
        .find(|(p, n, _, _)| p == "shops" && n == "s1")
        .expect("s1 patched");
    assert_eq!(manager, "shopctl");
    assert_eq!(body["metadata"]["resourceVersion"], rv_s1);
    assert_eq!(body["spec"], json!({"shopSets": ["a-1"]}));
    let s2_attempts = patches.iter().filter(|(_, n, _, _)| n == "s2").count();
    assert_eq!(s2_attempts, 2, "a 409 is re-read and retried once");

    // A restore clears what the drain recorded.
    let out = patcher(&file)
        .await
        .apply(
            &[mv("s1", &["a-1"], &["b-1"])],
            &Record::Clear,
            &Capacities::new(),
            &[],
            &shopctl::ops::placement::unheard,
        )
        .await
        .expect("restore batch");
    assert_eq!(out.applied, 1);
    let s1 = fake.get("shops", "s1").expect("s1");
    assert!(
        s1["metadata"]["annotations"]
            .get("shopset.dev/drain")
            .is_none(),
        "{s1}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_is_asked_with_the_exact_operation_and_never_over_a_running_one() {
    use shopctl::backends::live::sync::{SyncError, trigger};
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    for (name, phase) in [("shopset-a-1", "Succeeded"), ("shopset-b-1", "Running")] {
        fake.put_as(
            "argoproj.io/v1alpha1",
            "applications",
            "Application",
            json!({"metadata": {"name": name, "namespace": "argocd"},
                   "status": {"operationState": {"phase": phase}}}),
        );
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = fake.kubeconfig(tmp.path(), "ops", "t");
    let (k, name) = kubeconfig::load(Some(&file)).expect("kubeconfig");
    let config = kubeconfig::client_config(&k, &name, None)
        .await
        .expect("context");
    let client = kube::Client::try_from(config).expect("client");
    let gvk = kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application");
    let ar = kube::api::ApiResource::from_gvk_with_plural(&gvk, "applications");
    let apps: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(client, "argocd", &ar);
    trigger(
        &apps,
        "shopset-a-1",
        "alice@ops",
        "0c5d6c0",
        "tier-2",
        "promote prod-beta to v1.42.0",
    )
    .await
    .expect("asked");
    assert_eq!(
        trigger(
            &apps,
            "shopset-b-1",
            "alice@ops",
            "0c5d6c0",
            "tier-2",
            "promote"
        )
        .await,
        Err(SyncError::Running("shopset-b-1".into()))
    );
    let patches = fake.patches();
    assert_eq!(patches.len(), 1, "nothing sent to the running one");
    let (_, app, manager, body) = &patches[0];
    assert_eq!((app.as_str(), manager.as_str()), ("shopset-a-1", "shopctl"));
    assert_eq!(
        body["operation"],
        json!({"initiatedBy": {"username": "alice@ops", "automated": false},
               "info": [{"name": "Reason", "value": "shopctl: promote prod-beta to v1.42.0"}],
               "sync": {"revision": "0c5d6c0"}})
    );
    assert_eq!(
        body["metadata"]["annotations"]["argocd.argoproj.io/refresh"],
        "normal"
    );
}
