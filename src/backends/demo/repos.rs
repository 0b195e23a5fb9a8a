//! The demo's real git repositories: an app repository with release commits and a system
//! repository (bare remote plus a working clone) with one branch per tier.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{Oid, Repository, Signature, Time};

use super::topology::Topology;
use crate::domain::Ts;

/// The directory that holds every repository.
pub const GIT_DIR: &str = "git";
pub const APP_REPO: &str = "git/app.git";
pub const SYSTEM_REMOTE: &str = "git/system.git";
pub const SYSTEM_CLONE: &str = "git/system";
pub const APP_BRANCH: &str = "main";

const RELEASES: [(&str, &str); 6] = [
    ("v1.37.0", "Shop page: lazy-load product images"),
    ("v1.38.0", "API: paginate the order export"),
    ("v1.39.0", "TLS proxy: enable session resumption"),
    ("v1.40.0", "Cart: retry payment authorisation once"),
    ("v1.41.0", "Cart: new tax rounding for JP stores"),
    ("v1.42.0", "API: faster product search with the new index"),
];

const COMPONENTS: [&str; 5] = ["lb", "tls-proxy", "shop-page", "cart", "api"];

pub fn tier_branch(level: u8) -> String {
    format!("tier-{level}")
}

/// Creates the repositories under `dir`. Returns the app commits, oldest first.
pub fn create(dir: &Path, topology: &Topology, created_at: Ts) -> Result<Vec<Oid>, git2::Error> {
    let app = Repository::init_bare(dir.join(APP_REPO))?;
    let day = 86_400;
    let mut releases = Vec::new();
    let mut parent: Option<Oid> = None;
    for (i, (tag, subject)) in RELEASES.iter().enumerate() {
        let when = created_at.secs() - (RELEASES.len() - i) as i64 * 3 * day;
        let mut files = vec![("kustomization.yaml".to_string(), app_kustomization())];
        for c in COMPONENTS {
            files.push((format!("{c}/deployment.yaml"), deployment(c, tag)));
        }
        let tree = write_tree(&app, &files, &[])?;
        let sig = signature("Release Engineering", "release@shopset.dev", when)?;
        let tree = app.find_tree(tree)?;
        let parents: Vec<git2::Commit<'_>> = parent
            .map(|p| app.find_commit(p))
            .transpose()?
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let msg = format!("{subject}\n\nRelease {tag}.\n");
        let id = app.commit(
            Some(&format!("refs/heads/{APP_BRANCH}")),
            &sig,
            &sig,
            &msg,
            &tree,
            &refs,
        )?;
        app.tag_lightweight(tag, &app.find_object(id, None)?, false)?;
        releases.push(id);
        parent = Some(id);
    }
    app.set_head(&format!("refs/heads/{APP_BRANCH}"))?;

    let remote = Repository::init_bare(dir.join(SYSTEM_REMOTE))?;
    let newest = releases.len() - 1;
    for tier in &topology.tiers {
        let level = i64::from(tier.level);
        // Everything ran the release before last for a while; a newer release is on its way up:
        // dev and beta already run it, the upper tiers do not yet.
        let mut history = vec![
            (newest - 2, created_at.secs() - 9 * day + level * 3600),
            (newest - 1, created_at.secs() - 2 * day + level * 3600),
        ];
        match tier.level {
            0 => history.push((newest, created_at.secs() - 50 * 60)),
            1 => history.push((newest, created_at.secs() - 20 * 60)),
            _ => {}
        }
        let branch = tier_branch(tier.level);
        let mut head: Option<Oid> = None;
        for (k, (release, when)) in history.into_iter().enumerate() {
            let overlays: Vec<(String, String)> = topology
                .shopsets
                .iter()
                .filter(|s| s.tier == tier.name)
                .map(|s| {
                    (
                        format!("overlays/{}/kustomization.yaml", s.name),
                        overlay(s, &tier.name),
                    )
                })
                .collect();
            let mut files = vec![
                (".gitmodules".to_string(), gitmodules()),
                (
                    "README.md".to_string(),
                    format!(
                        "# {branch}: tier '{}'\n\nRendered by the ShopSet controller; one overlay per ShopSet.\n",
                        tier.name
                    ),
                ),
            ];
            files.extend(overlays);
            let tree = write_tree(&remote, &files, &[("base", releases[release])])?;
            let tree = remote.find_tree(tree)?;
            let sig = signature("ShopSet controller", "controller@shopset.dev", when)?;
            let (tag, _) = RELEASES[release];
            let msg = if k == 0 {
                format!("Create {branch} ({}) at {tag}\n", tier.name)
            } else {
                format!(
                    "Promote {} to {tag} ({})\n\nOperator: release-bot\n",
                    tier.name,
                    &releases[release].to_string()[..7]
                )
            };
            let parents: Vec<git2::Commit<'_>> = head
                .map(|h| remote.find_commit(h))
                .transpose()?
                .into_iter()
                .collect();
            let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
            head = Some(remote.commit(
                Some(&format!("refs/heads/{branch}")),
                &sig,
                &sig,
                &msg,
                &tree,
                &refs,
            )?);
        }
    }
    remote.set_head(&format!("refs/heads/{}", tier_branch(0)))?;
    git2::build::RepoBuilder::new().clone(
        &remote_url(&dir.join(SYSTEM_REMOTE)),
        &dir.join(SYSTEM_CLONE),
    )?;
    Ok(releases)
}

/// How the working clone names its remote: the path itself, or, for a path that is not UTF-8, a
/// `file://` URL with the path's bytes percent-encoded (git decodes them back).
pub fn remote_url(path: &Path) -> String {
    if let Some(s) = path.to_str() {
        return s.to_string();
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut url = String::from("file://");
    for &b in path_bytes(&absolute).iter() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

#[cfg(unix)]
fn path_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(path.as_os_str().as_bytes())
}

#[cfg(not(unix))]
fn path_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Owned(path.to_string_lossy().replace('\\', "/").into_bytes())
}

fn signature(name: &str, email: &str, secs: i64) -> Result<Signature<'static>, git2::Error> {
    Signature::new(name, email, &Time::new(secs, 0))
}

/// Writes a tree from file paths (nested directories allowed) and top-level gitlinks.
fn write_tree(
    repo: &Repository,
    files: &[(String, String)],
    gitlinks: &[(&str, Oid)],
) -> Result<Oid, git2::Error> {
    #[derive(Default)]
    struct Dir {
        files: BTreeMap<String, Oid>,
        dirs: BTreeMap<String, Dir>,
    }
    fn write(repo: &Repository, dir: &Dir, gitlinks: &[(&str, Oid)]) -> Result<Oid, git2::Error> {
        let mut tb = repo.treebuilder(None)?;
        for (name, blob) in &dir.files {
            tb.insert(name, *blob, 0o100644)?;
        }
        for (name, sub) in &dir.dirs {
            let oid = write(repo, sub, &[])?;
            tb.insert(name, oid, 0o040000)?;
        }
        for (name, commit) in gitlinks {
            tb.insert(name, *commit, 0o160000)?;
        }
        tb.write()
    }
    let mut root = Dir::default();
    for (path, content) in files {
        let blob = repo.blob(content.as_bytes())?;
        let mut parts: Vec<&str> = path.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        let mut dir = &mut root;
        for p in parts {
            dir = dir.dirs.entry(p.to_string()).or_default();
        }
        dir.files.insert(name.to_string(), blob);
    }
    write(repo, &root, gitlinks)
}

/// The submodule URL is relative to the system remote (`git/system.git` → `git/app.git`).
fn gitmodules() -> String {
    format!("[submodule \"base\"]\n\tpath = base\n\turl = ../app.git\n\tbranch = {APP_BRANCH}\n")
}

fn app_kustomization() -> String {
    let mut s = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for c in COMPONENTS {
        s.push_str(&format!("  - {c}/deployment.yaml\n"));
    }
    s
}

fn deployment(component: &str, tag: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {component}\nspec:\n  selector:\n    matchLabels:\n      app: {component}\n  template:\n    metadata:\n      labels:\n        app: {component}\n    spec:\n      containers:\n        - name: {component}\n          image: registry.shopset.dev/{component}:{tag}\n"
    )
}

fn overlay(ss: &super::topology::ShopSetSpec, tier: &str) -> String {
    let lower = ss.name.to_ascii_lowercase();
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shopset-{lower}\nnameSuffix: -{lower}\nresources:\n  - ../../base\nlabels:\n  - pairs:\n      shopset.dev/shopset: {name}\n      shopset.dev/tier: {tier}\nconfigMapGenerator:\n  - name: shopset\n    literals:\n      - SHOPSET={name}\n      - CONFIGURATION={conf}\n      - CLUSTER={cluster}\n      - CAPACITY={cap}\n",
        name = ss.name,
        conf = ss.configuration,
        cluster = ss.cluster,
        cap = ss.capacity
    )
}
