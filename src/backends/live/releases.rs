//! Releases in live mode: the commit on the tier branch made in shopctl's push clone (a bare
//! repository whose `origin` is the configured remote) and pushed — never forced; a rejected push
//! is reported for the gate to be evaluated again — then every Argo CD Application of that tier is
//! asked to sync the new commit (never over a running operation).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};

use super::crds;
use super::pages::list_all;
use super::sync;
use crate::domain::Ts;
use crate::ops::{OpsError, Pushed, ReleaseStore, Report, offload};

/// One Argo CD instance's Applications.
pub struct ArgoTarget {
    /// A client of the Argo CD instance's context.
    pub client: kube::Client,
    pub namespace: String,
    pub shopset_label: String,
    /// How long an Application busy with another operation is waited for.
    pub busy_wait: Duration,
}

/// One Argo CD instance, as a push asks it.
struct Argo {
    apps: Api<DynamicObject>,
    label: String,
    busy_wait: Duration,
}

/// The system repository's push clone and the Argo CD instances to ask after a push.
pub struct LiveReleases {
    remote: String,
    clone: PathBuf,
    control_plane: kube::Client,
    argo: Vec<Argo>,
}

impl LiveReleases {
    /// The push clone of `remote` at `clone`, asking the control plane and each Argo CD through
    /// their clients.
    pub fn new(
        remote: &str,
        clone: PathBuf,
        control_plane: kube::Client,
        argo: Vec<ArgoTarget>,
    ) -> LiveReleases {
        let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application");
        let resource = ApiResource::from_gvk_with_plural(&gvk, "applications");
        let argo = argo
            .into_iter()
            .map(|a| Argo {
                apps: Api::namespaced_with(a.client, &a.namespace, &resource),
                label: a.shopset_label,
                busy_wait: a.busy_wait,
            })
            .collect();
        LiveReleases {
            remote: remote.into(),
            clone,
            control_plane,
            argo,
        }
    }

    /// The bare push clone, created with `origin` = the remote when missing; `origin` follows
    /// `git.remote` when the configuration changed it, so the push goes where the reads come
    /// from.
    fn ensure_clone(clone: &std::path::Path, remote: &str) -> Result<(), OpsError> {
        if let Ok(repo) = git2::Repository::open_bare(clone) {
            let current = repo
                .find_remote("origin")
                .ok()
                .and_then(|r| r.url().ok().map(str::to_string));
            match current {
                Some(url) if url == remote => {}
                Some(_) => repo.remote_set_url("origin", remote)?,
                None => {
                    repo.remote("origin", remote)?;
                }
            }
            return Ok(());
        }
        let repo = git2::Repository::init_bare(clone)?;
        repo.remote("origin", remote)?;
        Ok(())
    }

    /// Asks every Application of the tier deploying `branch` to sync `commit`. An Application
    /// busy with another operation is asked when that has finished, looked at every 2 s until
    /// its Argo CD's `busy_wait_secs` has passed (`report` says whom it waits for, and until
    /// when). Best effort: the push stands and the rollout is followed anyway (Argo CD may sync
    /// by itself); what could not be asked is returned, for the operator and the audit log.
    async fn trigger_syncs(
        &self,
        branch: &str,
        commit: &str,
        operator: &str,
        why: &str,
        report: Report<'_>,
    ) -> Vec<String> {
        let result: Result<Vec<String>, String> = async {
            let lp = ListParams::default();
            let tiers = list_all(&Api::<crds::Tier>::all(self.control_plane.clone()), &lp)
                .await
                .map_err(|e| super::errors::say(&e))?;
            let Some(tier) = tiers.iter().find(|t| t.spec.branch == branch) else {
                return Ok(Vec::new());
            };
            let tier = kube::ResourceExt::name_any(tier);
            let sets: HashSet<String> =
                list_all(&Api::<crds::ShopSet>::all(self.control_plane.clone()), &lp)
                    .await
                    .map_err(|e| super::errors::say(&e))?
                    .iter()
                    .filter(|s| s.spec.tier == tier)
                    .map(kube::ResourceExt::name_any)
                    .collect();
            let mut problems = Vec::new();
            for argo in &self.argo {
                let labelled = ListParams::default().labels(&argo.label);
                let apps = list_all(&argo.apps, &labelled)
                    .await
                    .map_err(|e| super::errors::say(&e))?;
                let names: Vec<String> = apps
                    .iter()
                    .filter(|app| {
                        kube::ResourceExt::labels(*app)
                            .get(&argo.label)
                            .is_some_and(|s| sets.contains(s))
                    })
                    .map(kube::ResourceExt::name_any)
                    .collect();
                let request = sync::Request {
                    operator,
                    revision: commit,
                    branch,
                    why,
                };
                problems.extend(
                    sync::ask_all(&argo.apps, names, &request, argo.busy_wait, report).await,
                );
            }
            Ok(problems)
        }
        .await;
        let warnings = match result {
            Ok(problems) => problems,
            Err(e) => vec![format!("Argo CD was not asked to sync '{branch}': {e}")],
        };
        for w in &warnings {
            tracing::warn!("{w}");
        }
        warnings
    }
}

/// libgit2 runs on a blocking thread; Argo CD is asked from the async core.
#[async_trait::async_trait]
impl ReleaseStore for LiveReleases {
    async fn set_gitlink(
        &self,
        branch: &str,
        expected: Option<&str>,
        target: &str,
        message: &str,
        author: &str,
        now: Ts,
        report: Report<'_>,
    ) -> Result<Pushed, OpsError> {
        let (clone, remote) = (self.clone.clone(), self.remote.clone());
        let (b, expected, target) = (
            branch.to_string(),
            expected.map(str::to_string),
            target.to_string(),
        );
        let (m, a) = (message.to_string(), author.to_string());
        let commit = offload(move || {
            LiveReleases::ensure_clone(&clone, &remote)?;
            crate::git::gitlink::set_gitlink(&clone, &b, expected.as_deref(), &target, &m, &a, now)
        })
        .await?;
        let why = message.lines().next().unwrap_or_default();
        let warnings = self
            .trigger_syncs(branch, &commit, author, why, report)
            .await;
        Ok(Pushed { commit, warnings })
    }
}
