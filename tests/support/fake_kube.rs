//! A fake Kubernetes API server for tests: it speaks the real protocol to the real `kube::Client`
//! through a kubeconfig on 127.0.0.1 — list with a resourceVersion, paginated by `limit` and
//! `continue`, watch streams with bookmarks, `410 Gone` for a resourceVersion it has compacted
//! away, merge patches with `409` on a resourceVersion mismatch, `403` per verb and resource, a
//! slow link, and a network that dies silently (nothing answers, nothing is closed). Custom
//! resources of one group (and Applications, Leases, Events, nodes), kept as JSON.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

/// One change, as a watch reports it.
#[derive(Debug, Clone)]
struct Change {
    rv: u64,
    plural: String,
    kind: &'static str,
    object: Value,
}

#[derive(Default)]
struct Store {
    rv: u64,
    /// (plural, name) → object, with its resourceVersion in its metadata.
    objects: BTreeMap<(String, String), Value>,
    changes: Vec<Change>,
    /// Changes at or below this resourceVersion are forgotten: watching from there is 410 Gone.
    compacted: u64,
    forbidden: HashSet<(String, String)>,
    /// Objects whose next patch meets a concurrent writer: 409, and their resourceVersion moves.
    conflict_next: HashSet<(String, String)>,
    /// Patches received, as (plural, name, field manager, body): for exact-request checks.
    pub patches: Vec<(String, String, String, Value)>,
    /// When set, every request must carry `Authorization: Bearer <token>` (else 401).
    token: Option<String>,
    /// Every Authorization header seen, for tests that check what was sent.
    pub seen_auth: Vec<String>,
    /// The network is silently gone: requests get no answer and open watches go quiet, with no
    /// connection closed (a forgotten NAT entry).
    frozen: bool,
    /// Counts freezes: a watch opened before the latest never says anything again.
    freezes: u64,
    /// List requests answered, per resource.
    pub lists: BTreeMap<String, usize>,
    /// How long every answer waits (a slow API server or link).
    delay: std::time::Duration,
    /// Bookmarks asked for: each watch that allows them sends one per request.
    bookmarks: u64,
    /// Bookmarks sent, over all watches.
    pub bookmarks_sent: usize,
}

/// A running fake API server; dropping it stops it.
pub struct FakeKube {
    pub url: String,
    store: Arc<Mutex<Store>>,
    changed: Arc<Notify>,
    group: &'static str,
    version: &'static str,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Body = BoxBody<Bytes, Infallible>;

impl FakeKube {
    /// Serves `group/version` on a free port of 127.0.0.1.
    pub async fn start(group: &'static str, version: &'static str) -> FakeKube {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let store = Arc::new(Mutex::new(Store::default()));
        let changed = Arc::new(Notify::new());
        let (s, n) = (store.clone(), changed.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (s, n) = (s.clone(), n.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let (s, n) = (s.clone(), n.clone());
                        async move { Ok::<_, Infallible>(route(req, s, n, group, version).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        FakeKube {
            url,
            store,
            changed,
            group,
            version,
            task,
        }
    }

    /// A kubeconfig whose context `name` gets its token from an exec credential plugin (a
    /// script in `dir` printing an ExecCredential), as EKS and GKE kubeconfigs do.
    pub fn kubeconfig_exec(&self, dir: &Path, name: &str, token: &str) -> PathBuf {
        let plugin = dir.join(format!("credential-plugin-{name}"));
        std::fs::write(
            &plugin,
            format!(
                "#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n"
            ),
        )
        .expect("plugin written");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755))
            .expect("plugin executable");
        let f = dir.join(format!("kubeconfig-exec-{name}"));
        std::fs::write(
            &f,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: {name}\nclusters:\n- name: {name}\n  cluster:\n    server: {url}\ncontexts:\n- name: {name}\n  context: {{cluster: {name}, user: {name}}}\nusers:\n- name: {name}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {plugin}\n      interactiveMode: Never\n",
                url = self.url,
                plugin = plugin.display()
            ),
        )
        .expect("kubeconfig written");
        f
    }

    /// A kubeconfig whose context `name` reaches this server with a bearer token.
    pub fn kubeconfig(&self, dir: &Path, name: &str, token: &str) -> PathBuf {
        let f = dir.join(format!("kubeconfig-{name}"));
        std::fs::write(
            &f,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: {name}\nclusters:\n- name: {name}\n  cluster:\n    server: {url}\ncontexts:\n- name: {name}\n  context: {{cluster: {name}, user: {name}}}\nusers:\n- name: {name}\n  user: {{token: {token}}}\n",
                url = self.url
            ),
        )
        .expect("kubeconfig written");
        f
    }

    /// Creates or replaces an object of the served group (its `metadata.name` names it).
    pub fn put(&self, plural: &str, kind: &str, object: Value) {
        let api_version = format!("{}/{}", self.group, self.version);
        self.put_as(&api_version, plural, kind, object);
    }

    /// A node, Ready or not.
    pub fn node(&self, name: &str, ready: bool) {
        self.put_as(
            "v1",
            "nodes",
            "Node",
            json!({"metadata": {"name": name},
                   "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}}),
        );
    }

    /// Creates or replaces an object of any group (namespaced ones carry `metadata.namespace`).
    pub fn put_as(&self, api_version: &str, plural: &str, kind: &str, mut object: Value) {
        let mut st = self.store.lock().expect("store");
        st.rv += 1;
        let rv = st.rv;
        object["apiVersion"] = json!(api_version);
        object["kind"] = json!(kind);
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let name = object["metadata"]["name"]
            .as_str()
            .expect("a name")
            .to_string();
        let existed = st
            .objects
            .insert((plural.into(), name), object.clone())
            .is_some();
        st.changes.push(Change {
            rv,
            plural: plural.into(),
            kind: if existed { "MODIFIED" } else { "ADDED" },
            object,
        });
        drop(st);
        self.changed.notify_waiters();
    }

    pub fn delete(&self, plural: &str, name: &str) {
        let mut st = self.store.lock().expect("store");
        let Some(mut object) = st.objects.remove(&(plural.to_string(), name.to_string())) else {
            return;
        };
        st.rv += 1;
        let rv = st.rv;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        st.changes.push(Change {
            rv,
            plural: plural.into(),
            kind: "DELETED",
            object,
        });
        drop(st);
        self.changed.notify_waiters();
    }

    /// Deletes an object without a watch event, as if it went while nobody watched; the next
    /// watch from an older resourceVersion gets 410 Gone and must relist to notice.
    pub fn delete_unseen(&self, plural: &str, name: &str) {
        let mut st = self.store.lock().expect("store");
        st.objects.remove(&(plural.to_string(), name.to_string()));
        st.rv += 1;
        drop(st);
        self.compact();
    }

    /// Forgets every change so far: a watch from an older resourceVersion gets 410 Gone, and
    /// open watches are ended (as an API server restart or a compaction does).
    pub fn compact(&self) {
        let mut st = self.store.lock().expect("store");
        st.compacted = st.rv;
        st.changes.clear();
        drop(st);
        self.changed.notify_waiters();
    }

    /// The next patch of `plural/name` finds that someone else wrote it first (409).
    pub fn conflict_next_patch(&self, plural: &str, name: &str) {
        self.store
            .lock()
            .expect("store")
            .conflict_next
            .insert((plural.into(), name.into()));
    }

    /// Waits until `done` holds, woken by every write the server stores (no fixed sleeps);
    /// false if it does not hold within `deadline`.
    pub async fn until(
        &self,
        deadline: std::time::Duration,
        done: impl Fn(&FakeKube) -> bool,
    ) -> bool {
        let end = tokio::time::Instant::now() + deadline;
        loop {
            // Registered before the check: a write in between still wakes it.
            let changed = self.changed.notified();
            if done(self) {
                return true;
            }
            if tokio::time::timeout_at(end, changed).await.is_err() {
                return done(self);
            }
        }
    }

    /// Every patch received: (plural, name, fieldManager, body).
    pub fn patches(&self) -> Vec<(String, String, String, Value)> {
        self.store.lock().expect("store").patches.clone()
    }

    /// Every stored object of a resource.
    pub fn all(&self, plural: &str) -> Vec<Value> {
        self.store
            .lock()
            .expect("store")
            .objects
            .iter()
            .filter(|((p, _), _)| p == plural)
            .map(|(_, o)| o.clone())
            .collect()
    }

    /// An object as stored.
    pub fn get(&self, plural: &str, name: &str) -> Option<Value> {
        self.store
            .lock()
            .expect("store")
            .objects
            .get(&(plural.to_string(), name.to_string()))
            .cloned()
    }

    /// Answers 401 to any request without this bearer token.
    pub fn require_token(&self, token: &str) {
        self.store.lock().expect("store").token = Some(token.into());
    }

    /// The Authorization headers requests carried.
    pub fn seen_auth(&self) -> Vec<String> {
        self.store.lock().expect("store").seen_auth.clone()
    }

    /// The connection dies silently: nothing answers and open watches go quiet for good,
    /// though no connection is closed.
    pub fn freeze(&self) {
        let mut st = self.store.lock().expect("store");
        st.frozen = true;
        st.freezes += 1;
    }

    /// New connections work again (the watches opened before stay dead).
    pub fn thaw(&self) {
        self.store.lock().expect("store").frozen = false;
        self.changed.notify_waiters();
    }

    /// Every watch that allows bookmarks sends one now, at the current resourceVersion (as an
    /// API server does about once a minute).
    pub fn bookmark(&self) {
        self.store.lock().expect("store").bookmarks += 1;
        self.changed.notify_waiters();
    }

    /// How many bookmarks the watches have sent.
    pub fn bookmarks_sent(&self) -> usize {
        self.store.lock().expect("store").bookmarks_sent
    }

    /// Advances the resourceVersion without changing anything watched (another resource
    /// changed).
    pub fn tick(&self) {
        self.store.lock().expect("store").rv += 1;
    }

    /// Every answer waits this long first.
    pub fn slow(&self, delay: std::time::Duration) {
        self.store.lock().expect("store").delay = delay;
    }

    /// How many list requests `plural` has had.
    pub fn lists(&self, plural: &str) -> usize {
        self.store
            .lock()
            .expect("store")
            .lists
            .get(plural)
            .copied()
            .unwrap_or(0)
    }

    /// Refuses `verb` (`list`, `watch`, `patch`, …) on `plural` with 403.
    pub fn forbid(&self, verb: &str, plural: &str) {
        self.store
            .lock()
            .expect("store")
            .forbidden
            .insert((verb.into(), plural.into()));
    }
}

fn json_response(status: StatusCode, body: Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())).boxed())
        .expect("response")
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response<Body> {
    json_response(
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code.as_u16()}),
    )
}

fn query(req: &Request<Incoming>) -> BTreeMap<String, String> {
    let q = req.uri().query().unwrap_or("");
    form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn route(
    req: Request<Incoming>,
    store: Arc<Mutex<Store>>,
    changed: Arc<Notify>,
    group: &str,
    version: &str,
) -> Response<Body> {
    // /apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}]; objects are kept by plural
    // and name (the tests use one namespace per resource).
    // A frozen network answers nothing until it thaws; a slow one answers late.
    loop {
        let notified = changed.notified();
        let (frozen, delay) = {
            let st = store.lock().expect("store");
            (st.frozen, st.delay)
        };
        if !frozen {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            break;
        }
        notified.await;
    }
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    {
        let mut st = store.lock().expect("store");
        st.seen_auth.push(auth.clone());
        if let Some(t) = &st.token
            && auth != format!("Bearer {t}")
        {
            return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
        }
    }
    let path = req.uri().path().to_string();
    if let Some(answer) = discovery(&path, group, version) {
        return json_response(StatusCode::OK, answer);
    }
    if path == "/version" {
        return json_response(
            StatusCode::OK,
            json!({"major": "1", "minor": "31", "gitVersion": "v1.31.2", "platform": "linux/amd64"}),
        );
    }
    // The core group's nodes: served like the custom resources, under the plural "nodes".
    let path = path.replacen("/api/v1/", "/apis/core/v1/", 1);
    let Some(rest) = path.strip_prefix("/apis/") else {
        return status(StatusCode::NOT_FOUND, "NotFound", "no such path");
    };
    let mut parts: Vec<&str> = rest.split('/').skip(2).collect();
    if parts.first() == Some(&"namespaces") && parts.len() >= 3 {
        parts.drain(..2);
    }
    if parts.is_empty() || parts[0].is_empty() {
        return status(StatusCode::NOT_FOUND, "NotFound", "no such path");
    }
    let q = query(&req);
    let watch = q.get("watch").is_some_and(|w| w == "true" || w == "1");
    let group = rest.split('/').next().unwrap_or_default();
    let method = req.method().clone();
    let verb = match (method.as_str(), parts.len(), watch) {
        ("POST", 1, _) => "create",
        ("PUT", _, _) => "update",
        ("PATCH", _, _) => "patch",
        ("DELETE", _, _) => "delete",
        (_, 1, true) => "watch",
        (_, 1, false) => "list",
        _ => "get",
    };
    let plural = parts[0].to_string();
    if verb == "create" && plural == "selfsubjectaccessreviews" {
        // "May I?": allowed unless the test forbade that verb on that resource.
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let mut review: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let attrs = &review["spec"]["resourceAttributes"];
        let asked = (
            attrs["verb"].as_str().unwrap_or_default().to_string(),
            attrs["resource"].as_str().unwrap_or_default().to_string(),
        );
        let allowed = !store.lock().expect("store").forbidden.contains(&asked);
        review["status"] = json!({"allowed": allowed});
        return json_response(StatusCode::CREATED, review);
    }
    if store
        .lock()
        .expect("store")
        .forbidden
        .contains(&(verb.to_string(), plural.clone()))
    {
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!("{plural}.{group} is forbidden: cannot {verb}"),
        );
    }
    let name = parts.get(1).map(|n| n.to_string());
    let api_version = rest.split('/').take(2).collect::<Vec<_>>().join("/");
    let api_version = api_version
        .strip_prefix("core/")
        .unwrap_or(&api_version)
        .to_string();
    match verb {
        "list" => list(&store, &plural, &q),
        "watch" => watch_stream(store, changed, plural, &q),
        "create" | "update" | "delete" | "patch" => {
            let json_patch = req
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("application/json-patch+json"));
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let manager = q.get("fieldManager").cloned().unwrap_or_default();
            if verb == "patch" && json_patch {
                return write_json_patch(&store, &changed, &plural, name, body, &manager);
            }
            write(
                &store,
                &changed,
                verb,
                &api_version,
                &plural,
                name,
                body,
                &manager,
            )
        }
        _ => {
            let st = store.lock().expect("store");
            match st.objects.get(&(plural, parts[1].to_string())) {
                Some(o) => json_response(StatusCode::OK, o.clone()),
                None => status(StatusCode::NOT_FOUND, "NotFound", "not found"),
            }
        }
    }
}

/// Create (409 AlreadyExists if present), replace and delete (409 Conflict when the
/// resourceVersion given is not the stored one).
#[allow(clippy::too_many_arguments)]
fn write(
    store: &Arc<Mutex<Store>>,
    changed: &Arc<Notify>,
    verb: &str,
    api_version: &str,
    plural: &str,
    name: Option<String>,
    mut body: Value,
    manager: &str,
) -> Response<Body> {
    let mut st = store.lock().expect("store");
    let name = name.or_else(|| body["metadata"]["name"].as_str().map(str::to_string));
    let Some(name) = name else {
        return status(StatusCode::BAD_REQUEST, "BadRequest", "no name");
    };
    let key = (plural.to_string(), name.clone());
    let stored_rv = st
        .objects
        .get(&key)
        .map(|o| o["metadata"]["resourceVersion"].clone());
    let conflict = || {
        status(
            StatusCode::CONFLICT,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {plural} \"{name}\": the object has been modified"
            ),
        )
    };
    if verb == "patch" {
        st.patches.push((
            plural.to_string(),
            name.clone(),
            manager.to_string(),
            body.clone(),
        ));
        let Some(current) = st.objects.get(&key).cloned() else {
            return status(StatusCode::NOT_FOUND, "NotFound", "not found");
        };
        if st.conflict_next.remove(&key) {
            // Someone else wrote it just now.
            st.rv += 1;
            let rv = st.rv;
            if let Some(o) = st.objects.get_mut(&key) {
                o["metadata"]["resourceVersion"] = json!(rv.to_string());
            }
            return conflict();
        }
        let given = &body["metadata"]["resourceVersion"];
        if !given.is_null() && Some(given) != stored_rv.as_ref() {
            return conflict();
        }
        let mut merged = current;
        merge(&mut merged, &body);
        body = merged;
    }
    match verb {
        "create" if stored_rv.is_some() => {
            return status(
                StatusCode::CONFLICT,
                "AlreadyExists",
                &format!("{plural} \"{name}\" already exists"),
            );
        }
        "update" => {
            let given = &body["metadata"]["resourceVersion"];
            match &stored_rv {
                None => return status(StatusCode::NOT_FOUND, "NotFound", "not found"),
                Some(rv) if !given.is_null() && given != rv => return conflict(),
                Some(_) => {}
            }
        }
        "delete" => {
            let given = &body["preconditions"]["resourceVersion"];
            match &stored_rv {
                None => return status(StatusCode::NOT_FOUND, "NotFound", "not found"),
                Some(rv) if !given.is_null() && given != rv => return conflict(),
                Some(_) => {}
            }
            st.rv += 1;
            let rv = st.rv;
            let mut gone = st.objects.remove(&key).unwrap_or(Value::Null);
            gone["metadata"]["resourceVersion"] = json!(rv.to_string());
            st.changes.push(Change {
                rv,
                plural: plural.into(),
                kind: "DELETED",
                object: gone.clone(),
            });
            drop(st);
            changed.notify_waiters();
            return json_response(StatusCode::OK, gone);
        }
        _ => {}
    }
    st.rv += 1;
    let rv = st.rv;
    body["apiVersion"] = json!(api_version);
    body["metadata"]["name"] = json!(name);
    body["metadata"]["resourceVersion"] = json!(rv.to_string());
    let existed = st.objects.insert(key, body.clone()).is_some();
    st.changes.push(Change {
        rv,
        plural: plural.into(),
        kind: if existed { "MODIFIED" } else { "ADDED" },
        object: body.clone(),
    });
    drop(st);
    changed.notify_waiters();
    json_response(
        if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        body,
    )
}

/// JSON merge patch (RFC 7386): objects merge, null removes, anything else replaces.
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Whether `object` matches the request's `labelSelector`: comma-separated `key` (the label
/// exists) and `key=value` terms, as the API server reads them.
fn selected(object: &Value, q: &BTreeMap<String, String>) -> bool {
    let Some(selector) = q.get("labelSelector") else {
        return true;
    };
    let labels = &object["metadata"]["labels"];
    selector
        .split(',')
        .filter(|t| !t.is_empty())
        .all(|term| match term.split_once('=') {
            Some((k, v)) => labels[k.trim_end_matches('=')].as_str() == Some(v),
            None => labels.get(term).is_some(),
        })
}

fn list(store: &Arc<Mutex<Store>>, plural: &str, q: &BTreeMap<String, String>) -> Response<Body> {
    let mut st = store.lock().expect("store");
    *st.lists.entry(plural.to_string()).or_insert(0) += 1;
    let st = st;
    // The continue token is the last name of the previous page.
    let after = q.get("continue").cloned().unwrap_or_default();
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let mut rest = st
        .objects
        .range((plural.to_string(), after.clone())..)
        .take_while(|((p, _), _)| p == plural)
        .filter(|((_, n), o)| (after.is_empty() || *n != after) && selected(o, q));
    let page: Vec<Value> = rest.by_ref().take(limit).map(|(_, o)| o.clone()).collect();
    let cont = match (rest.next(), page.last()) {
        (Some(_), Some(last)) => last["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    };
    json_response(
        StatusCode::OK,
        json!({"apiVersion": "v1", "kind": "List",
               "metadata": {"resourceVersion": st.rv.to_string(), "continue": cont},
               "items": page}),
    )
}

fn watch_stream(
    store: Arc<Mutex<Store>>,
    changed: Arc<Notify>,
    plural: String,
    q: &BTreeMap<String, String>,
) -> Response<Body> {
    let q = q.clone();
    let from: u64 = q
        .get("resourceVersion")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let mut seen = from;
        let (epoch, freezes) = {
            let st = store.lock().expect("store");
            (st.compacted, st.freezes)
        };
        // Bookmarks asked for before this watch opened are sent at once (one for all).
        let mut bookmarks = 0;
        let allow_bookmarks = q
            .get("allowWatchBookmarks")
            .is_some_and(|b| b == "true" || b == "1");
        if from < epoch {
            let gone = json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                "status": "Failure", "reason": "Expired", "code": 410,
                "message": format!("too old resource version: {from} ({epoch})")}});
            let _ = tx.send(Bytes::from(format!("{gone}\n"))).await;
            return;
        }
        loop {
            let notified = changed.notified();
            let dead = store.lock().expect("store").freezes != freezes;
            if dead {
                // Its connection died silently: it never says anything again, and it is not
                // closed either.
                let _keep = tx;
                std::future::pending::<()>().await;
                return;
            }
            let (batch, compacted, bookmark) = {
                let mut st = store.lock().expect("store");
                let bookmark = (allow_bookmarks && st.bookmarks > bookmarks).then(|| {
                    bookmarks = st.bookmarks;
                    st.bookmarks_sent += 1;
                    st.rv
                });
                // Changes are kept in resourceVersion order: skip to the unseen ones.
                let first = st.changes.partition_point(|c| c.rv <= seen);
                let batch: Vec<Change> = st.changes[first..]
                    .iter()
                    .filter(|c| c.plural == plural && selected(&c.object, &q))
                    .cloned()
                    .collect();
                (batch, st.compacted > epoch, bookmark)
            };
            if compacted {
                // The server forgot history under this watch: end it; the client relists.
                return;
            }
            for c in batch {
                seen = c.rv;
                let line = json!({"type": c.kind, "object": c.object});
                if tx.send(Bytes::from(format!("{line}\n"))).await.is_err() {
                    return;
                }
            }
            if let Some(rv) = bookmark {
                seen = seen.max(rv);
                let line = json!({"type": "BOOKMARK", "object": {
                    "kind": kind_of(&plural), "apiVersion": "shopset.dev/v1alpha1",
                    "metadata": {"resourceVersion": rv.to_string()}}});
                if tx.send(Bytes::from(format!("{line}\n"))).await.is_err() {
                    return;
                }
            }
            notified.await;
        }
    });
    let frames = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(StreamBody::new(frames).boxed())
        .expect("response")
}

/// The kind of a resource's objects, for bookmarks.
fn kind_of(plural: &str) -> &'static str {
    match plural {
        "tiers" => "Tier",
        "shopsets" => "ShopSet",
        "shops" => "Shop",
        "fleetclusters" => "FleetCluster",
        "applications" => "Application",
        "nodes" => "Node",
        _ => "Object",
    }
}

/// The resources served, as discovery lists them: (group, version, plural, kind, namespaced).
fn resources(
    group: &str,
    version: &str,
) -> Vec<(String, String, &'static str, &'static str, bool)> {
    let mut out = Vec::new();
    for (plural, kind) in [
        ("tiers", "Tier"),
        ("shopsets", "ShopSet"),
        ("shops", "Shop"),
        ("fleetclusters", "FleetCluster"),
    ] {
        out.push((group.to_string(), version.to_string(), plural, kind, false));
    }
    for (g, v, plural, kind, namespaced) in [
        ("", "v1", "nodes", "Node", false),
        (
            "argoproj.io",
            "v1alpha1",
            "applications",
            "Application",
            true,
        ),
        ("coordination.k8s.io", "v1", "leases", "Lease", true),
        ("events.k8s.io", "v1", "events", "Event", true),
    ] {
        out.push((g.to_string(), v.to_string(), plural, kind, namespaced));
    }
    out
}

/// Discovery, as kubectl asks for it: `/api`, `/apis`, and each group version's resources.
fn discovery(path: &str, group: &str, version: &str) -> Option<Value> {
    let all = resources(group, version);
    let list = |g: &str, v: &str| {
        let gv = if g.is_empty() {
            v.to_string()
        } else {
            format!("{g}/{v}")
        };
        let items: Vec<Value> = all
            .iter()
            .filter(|r| r.0 == g && r.1 == v)
            .map(|r| {
                json!({"name": r.2, "singularName": r.3.to_lowercase(), "namespaced": r.4,
                       "kind": r.3, "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]})
            })
            .collect();
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": items})
    };
    match path.trim_end_matches('/') {
        "/api" => Some(json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})),
        "/api/v1" => Some(list("", "v1")),
        "/apis" => {
            let mut groups: Vec<(String, String)> = all
                .iter()
                .filter(|r| !r.0.is_empty())
                .map(|r| (r.0.clone(), r.1.clone()))
                .collect();
            groups.dedup();
            let groups: Vec<Value> = groups
                .iter()
                .map(|(g, v)| {
                    let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
                    json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
                })
                .collect();
            Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
        }
        p => {
            let rest = p.strip_prefix("/apis/")?;
            let mut parts = rest.split('/');
            let (g, v) = (parts.next()?, parts.next()?);
            if parts.next().is_some() || !all.iter().any(|r| r.0 == g && r.1 == v) {
                return None;
            }
            Some(list(g, v))
        }
    }
}

/// A JSON patch (RFC 6902: `add`, `replace`, `remove`, `test`), all or nothing: a failed
/// `test` (how a client makes a precondition of any field) is 422, as the API server answers.
fn write_json_patch(
    store: &Arc<Mutex<Store>>,
    changed: &Arc<Notify>,
    plural: &str,
    name: Option<String>,
    ops: Value,
    manager: &str,
) -> Response<Body> {
    let mut st = store.lock().expect("store");
    let Some(name) = name else {
        return status(StatusCode::BAD_REQUEST, "BadRequest", "no name");
    };
    let key = (plural.to_string(), name.clone());
    st.patches.push((
        plural.to_string(),
        name.clone(),
        manager.to_string(),
        ops.clone(),
    ));
    let Some(mut object) = st.objects.get(&key).cloned() else {
        return status(StatusCode::NOT_FOUND, "NotFound", "not found");
    };
    let invalid = |why: &str| status(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", why);
    let Some(ops) = ops.as_array() else {
        return invalid("a JSON patch is a list of operations");
    };
    for op in ops {
        let path = op["path"].as_str().unwrap_or_default();
        let (parent, last) = match path.rsplit_once('/') {
            Some((p, l)) => (p, l.replace("~1", "/").replace("~0", "~")),
            None => return invalid("a path starts with '/'"),
        };
        match op["op"].as_str().unwrap_or_default() {
            "test" => {
                if object.pointer(path) != Some(&op["value"]) {
                    return invalid(&format!("the test of '{path}' failed"));
                }
            }
            "add" | "replace" => {
                let Some(target) = object.pointer_mut(parent) else {
                    return invalid(&format!("'{parent}' does not exist"));
                };
                match target {
                    Value::Object(m) => {
                        m.insert(last, op["value"].clone());
                    }
                    Value::Array(a) if last == "-" => a.push(op["value"].clone()),
                    Value::Array(a) => match last.parse::<usize>() {
                        Ok(i) if i < a.len() => a[i] = op["value"].clone(),
                        _ => return invalid(&format!("'{path}' is out of range")),
                    },
                    _ => return invalid(&format!("'{parent}' holds no fields")),
                }
            }
            "remove" => {
                let removed = match object.pointer_mut(parent) {
                    Some(Value::Object(m)) => m.remove(&last).is_some(),
                    _ => false,
                };
                if !removed {
                    return invalid(&format!("'{path}' does not exist"));
                }
            }
            other => return invalid(&format!("unsupported operation '{other}'")),
        }
    }
    st.rv += 1;
    let rv = st.rv;
    object["metadata"]["resourceVersion"] = json!(rv.to_string());
    st.objects.insert(key, object.clone());
    st.changes.push(Change {
        rv,
        plural: plural.into(),
        kind: "MODIFIED",
        object: object.clone(),
    });
    drop(st);
    changed.notify_waiters();
    json_response(StatusCode::OK, object)
}
