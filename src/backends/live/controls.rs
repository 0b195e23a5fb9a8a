//! Release controls in live mode: Halt and ReleaseRequest objects (shopset.dev) that every
//! console watches, written by the executor; and who this session is, as the API server says
//! (`SelfSubjectReview`), not as `$SHOPCTL_OPERATOR` says.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use serde_json::json;
use tokio::sync::{OnceCell, mpsc};

use super::calls::{bounded, is_conflict};
use super::crds::{self, HaltSpec, ReleaseRequestSpec, RevisionRef};
use crate::backends::{SourceEvent, SourceId};
use crate::domain::release::{ApprovalRequest, FailedRelease, Halt, ReleaseControls};
use crate::domain::{FleetUpdate, Revision, Ts};
use crate::ops::OpsError;
use crate::ops::controls::ControlStore;

const FIELD_MANAGER: &str = "shopctl";

/// The Halt object's name for a halt of `tier` (or of the fleet).
pub fn halt_name(tier: Option<&str>) -> String {
    match tier {
        None => "fleet".into(),
        Some(t) => format!("tier-{t}"),
    }
}

/// The Halt object's name for the failed mark of `tier`.
pub fn failed_name(tier: &str) -> String {
    format!("failed-{tier}")
}

fn revision_ref(r: &Revision) -> RevisionRef {
    RevisionRef {
        id: r.id.clone(),
        tag: r.tag.clone(),
        subject: r.subject.clone(),
        seq: r.seq,
    }
}

fn revision(r: &RevisionRef) -> Revision {
    Revision {
        id: r.id.clone(),
        tag: r.tag.as_deref().map(crate::domain::printable),
        subject: crate::domain::printable(&r.subject),
        seq: r.seq,
    }
}

fn time(s: &str) -> Ts {
    Ts::parse_rfc3339(s).unwrap_or_default()
}

/// What one Halt object means: a halt, or (with a revision) a failed release.
pub enum Control {
    Halt(Halt),
    Failed(FailedRelease),
}

pub fn control(h: &crds::Halt) -> Control {
    let s = &h.spec;
    let (reason, by) = (
        crate::domain::printable(&s.reason),
        crate::domain::printable(&s.by),
    );
    match (&s.revision, &s.tier) {
        (Some(r), Some(tier)) => Control::Failed(FailedRelease {
            tier: tier.clone(),
            revision: revision(r),
            reason,
            by,
            at: time(&s.at),
        }),
        _ => Control::Halt(Halt {
            tier: s.tier.clone(),
            reason,
            by,
            at: time(&s.at),
        }),
    }
}

pub fn request(r: &crds::ReleaseRequest) -> ApprovalRequest {
    let status = r.status.clone().unwrap_or_default();
    ApprovalRequest {
        name: r.name_any(),
        tier: r.spec.tier.clone(),
        from: r.spec.from.clone(),
        to: revision(&r.spec.to),
        requested_by: crate::domain::printable(&r.spec.requested_by),
        requested_at: time(&r.spec.requested_at),
        head: r.spec.head.clone(),
        approved_by: status.approved_by.as_deref().map(crate::domain::printable),
        approved_at: status.approved_at.as_deref().map(time),
    }
}

/// Everything decided, from the objects.
pub fn controls<'a>(
    halts: impl IntoIterator<Item = &'a crds::Halt>,
    requests: impl IntoIterator<Item = &'a crds::ReleaseRequest>,
) -> ReleaseControls {
    let mut c = ReleaseControls::default();
    for h in halts {
        match control(h) {
            Control::Halt(h) => c.halts.push(h),
            Control::Failed(f) => c.failed.push(f),
        }
    }
    c.requests = requests.into_iter().map(request).collect();
    c.requests.sort_by_key(|r| r.requested_at);
    c
}

/// A list that fails because the resource is not there (its CRD is not installed) is empty:
/// nothing was decided.
fn missing(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// The control store of a live fleet.
pub struct LiveControls {
    client: kube::Client,
    halts: Api<crds::Halt>,
    requests: Api<crds::ReleaseRequest>,
    identity: OnceCell<String>,
}

impl LiveControls {
    pub fn new(client: kube::Client) -> LiveControls {
        LiveControls {
            halts: Api::all(client.clone()),
            requests: Api::all(client.clone()),
            client,
            identity: OnceCell::new(),
        }
    }
}

fn store_error(what: &str, e: kube::Error) -> OpsError {
    if missing(&e) {
        return OpsError::Store(format!(
            "{what}: the shopset.dev {} resource is not installed (apply `shopctl crds`)",
            if what.contains("request") || what.contains("approv") {
                "ReleaseRequest"
            } else {
                "Halt"
            }
        ));
    }
    let mut f = super::errors::failure(&e);
    f.message = format!("{what}: {}", f.message);
    OpsError::Api(f)
}

/// Who the API server says the credentials in `client` are.
pub async fn whoami(client: &kube::Client) -> Result<String, kube::Error> {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = bounded(api.create(&PostParams::default(), &SelfSubjectReview::default())).await?;
    Ok(review
        .status
        .and_then(|s| s.user_info)
        .and_then(|u| u.username)
        .unwrap_or_default())
}

#[async_trait::async_trait]
impl ControlStore for LiveControls {
    async fn identity(&self) -> Result<String, OpsError> {
        self.identity
            .get_or_try_init(|| async {
                match whoami(&self.client).await {
                    Ok(name) if !name.is_empty() => Ok(crate::domain::printable(&name)),
                    Ok(_) => Err(OpsError::Store(
                        "the API server did not say who this session is (SelfSubjectReview gave no username)".into(),
                    )),
                    Err(e) => Err(store_error("asking the API server who this session is", e)),
                }
            })
            .await
            .cloned()
    }

    async fn read(&self) -> Result<ReleaseControls, OpsError> {
        let lp = ListParams::default();
        let (halts, requests) = futures::join!(
            bounded(self.halts.list(&lp)),
            bounded(self.requests.list(&lp))
        );
        let halts = match halts {
            Ok(l) => l.items,
            Err(e) if missing(&e) => Vec::new(),
            Err(e) => return Err(store_error("reading the halts", e)),
        };
        let requests = match requests {
            Ok(l) => l.items,
            Err(e) if missing(&e) => Vec::new(),
            Err(e) => return Err(store_error("reading the release requests", e)),
        };
        Ok(controls(&halts, &requests))
    }

    async fn halt(&self, h: &Halt) -> Result<(), OpsError> {
        let obj = crds::Halt::new(
            &halt_name(h.tier.as_deref()),
            HaltSpec {
                tier: h.tier.clone(),
                revision: None,
                reason: h.reason.clone(),
                by: h.by.clone(),
                at: h.at.rfc3339(),
            },
        );
        match bounded(self.halts.create(&PostParams::default(), &obj)).await {
            Ok(_) => Ok(()),
            Err(e) if is_conflict(&e) => {
                Err(OpsError::Changed("someone halted it meanwhile".into()))
            }
            Err(e) => Err(store_error("writing the halt", e)),
        }
    }

    async fn resume(&self, tier: Option<&str>, halted_at: Option<Ts>) -> Result<(), OpsError> {
        let name = halt_name(tier);
        let current = match bounded(self.halts.get(&name)).await {
            Ok(h) => h,
            Err(e) if missing(&e) => {
                return Err(OpsError::Changed("the halt was lifted meanwhile".into()));
            }
            Err(e) => return Err(store_error("reading the halt", e)),
        };
        if halted_at.is_some_and(|at| Some(at) != Ts::parse_rfc3339(&current.spec.at)) {
            return Err(OpsError::Changed(format!(
                "the halt was lifted and made again since (by {}: {})",
                crate::domain::printable(&current.spec.by),
                crate::domain::printable(&current.spec.reason)
            )));
        }
        // Exactly the version read: a halt made again meanwhile is not deleted.
        let dp = DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                uid: current.uid(),
                resource_version: current.resource_version(),
            }),
            ..DeleteParams::default()
        };
        match bounded(self.halts.delete(&name, &dp)).await {
            Ok(_) => Ok(()),
            Err(e) if is_conflict(&e) => {
                Err(OpsError::Changed("the halt changed meanwhile".into()))
            }
            Err(e) if missing(&e) => Err(OpsError::Changed("the halt was lifted meanwhile".into())),
            Err(e) => Err(store_error("lifting the halt", e)),
        }
    }

    async fn mark_failed(&self, f: &FailedRelease) -> Result<(), OpsError> {
        let obj = crds::Halt::new(
            &failed_name(&f.tier),
            HaltSpec {
                tier: Some(f.tier.clone()),
                revision: Some(revision_ref(&f.revision)),
                reason: f.reason.clone(),
                by: f.by.clone(),
                at: f.at.rfc3339(),
            },
        );
        let body = json!({
            "apiVersion": "shopset.dev/v1alpha1",
            "kind": "Halt",
            "metadata": { "name": failed_name(&f.tier) },
            "spec": obj.spec,
        });
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        bounded(
            self.halts
                .patch(&failed_name(&f.tier), &pp, &Patch::Apply(&body)),
        )
        .await
        .map(|_| ())
        .map_err(|e| store_error("marking the release failed", e))
    }

    async fn clear_failed(&self, tier: &str) -> Result<(), OpsError> {
        match bounded(
            self.halts
                .delete(&failed_name(tier), &DeleteParams::default()),
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(e) if missing(&e) => Err(OpsError::Changed("it was cleared meanwhile".into())),
            Err(e) => Err(store_error("clearing the failed release", e)),
        }
    }

    async fn request(&self, r: &ApprovalRequest) -> Result<(), OpsError> {
        let obj = crds::ReleaseRequest::new(
            &r.name,
            ReleaseRequestSpec {
                tier: r.tier.clone(),
                from: r.from.clone(),
                to: revision_ref(&r.to),
                requested_by: r.requested_by.clone(),
                requested_at: r.requested_at.rfc3339(),
                head: r.head.clone(),
            },
        );
        bounded(self.requests.create(&PostParams::default(), &obj))
            .await
            .map(|_| ())
            .map_err(|e| store_error("writing the release request", e))
    }

    async fn approve(&self, name: &str, by: &str, at: Ts) -> Result<(), OpsError> {
        let current = bounded(self.requests.get(name))
            .await
            .map_err(|e| store_error("reading the release request", e))?;
        if let Some(other) = current.status.as_ref().and_then(|s| s.approved_by.clone()) {
            return Err(OpsError::Changed(format!("{other} approved it meanwhile")));
        }
        // Only over the version read: an approval written meanwhile is not overwritten.
        let patch = json!({
            "metadata": { "resourceVersion": current.resource_version() },
            "status": { "approvedBy": by, "approvedAt": at.rfc3339() },
        });
        let pp = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        match bounded(self.requests.patch_status(name, &pp, &Patch::Merge(&patch))).await {
            Ok(_) => Ok(()),
            Err(e) if is_conflict(&e) => Err(OpsError::Changed(
                "the request changed meanwhile (approved by someone else?)".into(),
            )),
            Err(e) => Err(store_error("approving the release request", e)),
        }
    }
}

/// Watches the Halt and ReleaseRequest objects and sends everything decided whenever it
/// changes. A resource that is not installed is nothing decided (looked for again each
/// minute); a watch that fails otherwise is a problem of the control plane, and the last
/// decisions stay shown (every step reads them afresh anyway).
pub async fn watch(client: kube::Client, tx: mpsc::Sender<SourceEvent>) {
    let halts = watcher(
        Api::<crds::Halt>::all(client.clone()),
        watcher::Config::default().timeout(super::kubeconfig::WATCH_SECS),
    )
    .map(Either::Halt)
    .boxed();
    let requests = watcher(
        Api::<crds::ReleaseRequest>::all(client),
        watcher::Config::default().timeout(super::kubeconfig::WATCH_SECS),
    )
    .map(Either::Request)
    .boxed();
    let mut all = futures::stream::select(halts, requests);
    let mut h: BTreeMap<String, crds::Halt> = BTreeMap::new();
    let mut r: BTreeMap<String, crds::ReleaseRequest> = BTreeMap::new();
    let (mut h_list, mut r_list): (Option<BTreeMap<_, _>>, Option<BTreeMap<_, _>>) = (None, None);
    let mut sent: Option<ReleaseControls> = None;
    while let Some(ev) = all.next().await {
        let changed = match ev {
            Either::Halt(Ok(e)) => on(e, &mut h, &mut h_list),
            Either::Request(Ok(e)) => on(e, &mut r, &mut r_list),
            Either::Halt(Err(e)) => {
                h_list = None;
                // Said unknown meanwhile: the state is sent again once known.
                sent = None;
                match failed(&e, &tx).await {
                    Some(true) => {
                        h.clear();
                        true
                    }
                    Some(false) => false,
                    None => return,
                }
            }
            Either::Request(Err(e)) => {
                r_list = None;
                sent = None;
                match failed(&e, &tx).await {
                    Some(true) => {
                        r.clear();
                        true
                    }
                    Some(false) => false,
                    None => return,
                }
            }
        };
        // A resource not installed counts as listed (empty) from its first failure on.
        if !changed || h_list.is_some() || r_list.is_some() {
            continue;
        }
        let now = controls(h.values(), r.values());
        if sent.as_ref() != Some(&now) {
            sent = Some(now.clone());
            if tx
                .send(SourceEvent::Update(FleetUpdate::Controls(now)))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

/// Says why a watch failed (unless its resource is not installed: then it waits a minute).
/// `Some(true)` when it is not installed, `Some(false)` otherwise, `None` when no one listens.
async fn failed(e: &watcher::Error, tx: &mpsc::Sender<SourceEvent>) -> Option<bool> {
    let not_installed = matches!(e, watcher::Error::InitialListFailed(k) | watcher::Error::WatchStartFailed(k) if missing(k));
    if not_installed {
        tokio::time::sleep(Duration::from_secs(60)).await;
        return Some(true);
    }
    let message = format!(
        "cannot watch halts and release requests: {}",
        super::errors::say_watch(e)
    );
    tx.send(SourceEvent::Update(FleetUpdate::ControlsUnknown(
        message.clone(),
    )))
    .await
    .ok()?;
    tx.send(SourceEvent::Problem {
        source: SourceId::ControlPlane,
        message,
    })
    .await
    .ok()?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    Some(false)
}

enum Either<A, B> {
    Halt(A),
    Request(B),
}

/// Applies one watch event to `known` (a relist collects into `listing` and replaces `known`
/// when done). True when `known` may have changed.
fn on<K: kube::Resource>(
    e: watcher::Event<K>,
    known: &mut BTreeMap<String, K>,
    listing: &mut Option<BTreeMap<String, K>>,
) -> bool {
    match e {
        watcher::Event::Init => {
            *listing = Some(BTreeMap::new());
            false
        }
        watcher::Event::InitApply(o) => {
            listing
                .get_or_insert_with(BTreeMap::new)
                .insert(o.name_any(), o);
            false
        }
        watcher::Event::InitDone => {
            *known = listing.take().unwrap_or_default();
            true
        }
        watcher::Event::Apply(o) => {
            known.insert(o.name_any(), o);
            true
        }
        watcher::Event::Delete(o) => {
            known.remove(&o.name_any());
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_halt_with_a_revision_is_a_failed_release() {
        let halt = crds::Halt::new(
            "failed-prod",
            HaltSpec {
                tier: Some("prod".into()),
                revision: Some(RevisionRef {
                    id: "abc".into(),
                    tag: Some("v1.43.0".into()),
                    subject: "s".into(),
                    seq: 43,
                }),
                reason: "rolled back".into(),
                by: "alice".into(),
                at: "2026-12-07T10:00:00Z".into(),
            },
        );
        let fleet = crds::Halt::new(
            "fleet",
            HaltSpec {
                tier: None,
                revision: None,
                reason: "incident\u{1b}[2J".into(),
                by: "bob".into(),
                at: "2026-12-07T10:00:00Z".into(),
            },
        );
        let c = controls([&halt, &fleet], []);
        assert_eq!(c.failed[0].revision.tag.as_deref(), Some("v1.43.0"));
        assert_eq!(c.halts.len(), 1);
        assert!(!c.halts[0].reason.contains('\u{1b}'));
        assert_eq!(halt_name(None), "fleet");
        assert_eq!(halt_name(Some("prod")), "tier-prod");
    }
}
