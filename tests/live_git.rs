//! Live mode's system repository: fetched from a real remote (the demo's, over a local path)
//! into a cache, read with the same code as the demo, with the app repository found through
//! `.gitmodules` — so both modes see the same tiers.

mod common;

use shopctl::backends::demo::{DemoFleet, DemoSource, Scenario};
use shopctl::git::cache::GitCache;

#[test]
fn the_fetched_cache_shows_the_tiers_the_demo_shows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let demo_dir = tmp.path().join("demo");
    let fleet =
        DemoFleet::open(&common::demo_options(&demo_dir, 300, Scenario::Calm)).expect("demo");
    let demo = DemoSource::new(fleet)
        .snapshot(common::CREATED.plus_secs(60))
        .expect("snapshot");
    let cache = GitCache {
        remote: demo_dir.join("git/system.git").display().to_string(),
        cache: tmp.path().join("cache/system.git"),
    };
    cache.fetch().expect("fetched");
    let tiers: Vec<(String, String)> = demo
        .tiers
        .iter()
        .map(|t| (t.name.clone(), t.branch.clone()))
        .collect();
    let live = cache.tiers(&tiers).expect("read");
    for (t, l) in demo.tiers.iter().zip(&live) {
        assert_eq!(l.name, t.name);
        assert_eq!(l.head, t.head, "{}", t.name);
        assert_eq!(
            l.revision, t.revision,
            "{}: the same revision, tag included",
            t.name
        );
        assert_eq!(l.previous, t.previous, "{}", t.name);
    }
    assert!(live[0].revision.as_ref().is_some_and(|r| r.tag.is_some()));
    // A push to the remote shows after the next fetch.
    let dev = demo.tier("dev").expect("dev");
    let older = dev.previous.clone().expect("an earlier revision");
    common::push_gitlink(&demo_dir, &dev.branch, &older.id);
    cache.fetch().expect("fetched again");
    let again = cache.tiers(&tiers).expect("read");
    assert_eq!(again[0].revision.as_ref().map(|r| &r.id), Some(&older.id));
    // A remote that is gone is an error naming it.
    let gone = GitCache {
        remote: tmp.path().join("nowhere.git").display().to_string(),
        cache: tmp.path().join("cache2/system.git"),
    };
    let e = gone.fetch().expect_err("no remote").to_string();
    assert!(e.contains("nowhere.git"), "{e}");
}

/// A `git daemon` serving the demo's repositories on 127.0.0.1, pushes enabled; stopped when
/// dropped.
struct Daemon {
    child: std::process::Child,
    url: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn daemon(base: &std::path::Path) -> Daemon {
    use std::io::BufRead;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    // git-daemon itself (not `git daemon`, whose child would outlive a kill of `git`).
    let exec_path = std::process::Command::new("git")
        .arg("--exec-path")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .expect("git installed");
    let mut child = std::process::Command::new(format!("{exec_path}/git-daemon"))
        .arg("--verbose")
        .arg("--export-all")
        .arg("--enable=receive-pack")
        .arg("--reuseaddr")
        .arg("--listen=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(base)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("git daemon starts");
    // It says when it listens; its log is read to the end so it never blocks on a full pipe.
    let log = child.stderr.take().expect("stderr");
    let (ready, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(log).lines().map_while(Result::ok) {
            if line.contains("Ready to rumble") {
                let _ = ready.send(());
            }
        }
    });
    heard
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("git daemon listens");
    Daemon {
        child,
        url: format!("git://127.0.0.1:{port}"),
    }
}

#[test]
fn a_network_remote_is_fetched_and_pushed_by_git_itself_and_never_forced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let demo_dir = tmp.path().join("demo");
    let fleet =
        DemoFleet::open(&common::demo_options(&demo_dir, 300, Scenario::Calm)).expect("demo");
    let demo = DemoSource::new(fleet)
        .snapshot(common::CREATED.plus_secs(60))
        .expect("snapshot");
    let served = daemon(&demo_dir);
    let remote = format!("{}/git/system.git", served.url);

    // Fetched over git://, the app repository found through .gitmodules over git:// too.
    let cache = GitCache {
        remote: remote.clone(),
        cache: tmp.path().join("cache/system.git"),
    };
    cache.fetch().expect("fetched over the network");
    let tiers: Vec<(String, String)> = demo
        .tiers
        .iter()
        .map(|t| (t.name.clone(), t.branch.clone()))
        .collect();
    let live = cache.tiers(&tiers).expect("read");
    for (t, l) in demo.tiers.iter().zip(&live) {
        assert_eq!(
            (l.head.as_ref(), l.revision.as_ref()),
            (t.head.as_ref(), t.revision.as_ref())
        );
    }
    assert!(
        live[0].revision.as_ref().is_some_and(|r| r.tag.is_some()),
        "tags came along"
    );

    // A release commit pushed over git:// lands on the remote's branch.
    let clone = |name: &str| {
        let path = tmp.path().join(name);
        let repo = git2::Repository::init_bare(&path).expect("clone");
        repo.remote("origin", &remote).expect("origin");
        path
    };
    let (a, b) = (clone("a.git"), clone("b.git"));
    let dev = demo.tier("dev").expect("dev");
    let current = dev.revision.clone().expect("dev pins something");
    let older = dev.previous.clone().expect("an earlier revision");
    let now = shopctl::domain::Ts::now();
    let pushed = shopctl::git::gitlink::set_gitlink(
        &a,
        &dev.branch,
        Some(&current.id),
        &older.id,
        "Roll back dev",
        "alice@ops",
        now,
    )
    .expect("pushed");
    let head = |branch: &str| {
        git2::Repository::open_bare(demo_dir.join("git/system.git"))
            .and_then(|r| r.refname_to_id(&format!("refs/heads/{branch}")))
            .map(|o| o.to_string())
            .expect("branch")
    };
    assert_eq!(head(&dev.branch), pushed);

    // Two clones race: the one that pushes second is rejected, not forced.
    let late = shopctl::git::gitlink::commit_gitlink(
        &b,
        &dev.branch,
        Some(&older.id),
        &current.id,
        "Promote dev",
        "bob@ops",
        now,
    )
    .expect("committed locally");
    let first = shopctl::git::gitlink::set_gitlink(
        &a,
        &dev.branch,
        Some(&older.id),
        &current.id,
        "Promote dev",
        "alice@ops",
        now,
    )
    .expect("the first push");
    let e = shopctl::git::gitlink::push(&b, &dev.branch).expect_err("the second is rejected");
    assert!(matches!(e, shopctl::ops::OpsError::Rejected { .. }), "{e}");
    assert_eq!(head(&dev.branch), first, "nothing was forced");
    assert_ne!(late, first);

    // A remote that is down: a clear error naming it, in bounded time.
    drop(served);
    let e = cache.fetch().expect_err("the daemon is gone").to_string();
    assert!(e.contains(&remote), "{e}");
    let e = shopctl::git::gitlink::set_gitlink(
        &a,
        &dev.branch,
        None,
        &older.id,
        "Roll back dev",
        "alice@ops",
        now,
    )
    .expect_err("the remote is down")
    .to_string();
    assert!(e.contains("cannot fetch") && e.contains(&remote), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_git_remote_is_where_the_next_release_is_pushed() {
    use shopctl::backends::live::releases::LiveReleases;
    use shopctl::ops::ReleaseStore;

    let tmp = tempfile::tempdir().expect("tempdir");
    let demo_dir = tmp.path().join("demo");
    let fleet =
        DemoFleet::open(&common::demo_options(&demo_dir, 300, Scenario::Calm)).expect("demo");
    let demo = DemoSource::new(fleet)
        .snapshot(common::CREATED.plus_secs(60))
        .expect("snapshot");
    let old = demo_dir.join("git/system.git");
    // The system repository moved: the new remote starts as a copy of the old.
    let new = tmp.path().join("moved/system.git");
    let out = std::process::Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(&old)
        .arg(&new)
        .output()
        .expect("git clone");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = |repo: &std::path::Path, branch: &str| {
        git2::Repository::open_bare(repo)
            .and_then(|r| r.refname_to_id(&format!("refs/heads/{branch}")))
            .map(|o| o.to_string())
            .expect("branch")
    };
    let dev = demo.tier("dev").expect("dev");
    let current = dev.revision.clone().expect("dev pins something");
    let older = dev.previous.clone().expect("an earlier revision");
    let clone = tmp.path().join("cache/system.push.git");
    let nowhere = || {
        shopctl::backends::live::kubeconfig::client(kube::Config::new(
            "http://127.0.0.1:1".parse().expect("url"),
        ))
        .expect("client")
    };
    let now = shopctl::domain::Ts::now();

    let first = LiveReleases::new(
        old.to_str().expect("utf-8"),
        clone.clone(),
        nowhere(),
        vec![],
    );
    let pushed = first
        .set_gitlink(
            &dev.branch,
            Some(&current.id),
            &older.id,
            "Roll back dev",
            "alice@ops",
            now,
            &|_| {},
        )
        .await
        .expect("pushed");
    let old_head = head(&old, &dev.branch);
    assert_eq!(pushed.commit, old_head);

    // git.remote now names the new place: the same push clone pushes there, not to the old.
    let second = LiveReleases::new(new.to_str().expect("utf-8"), clone, nowhere(), vec![]);
    let pushed = second
        .set_gitlink(
            &dev.branch,
            None,
            &older.id,
            "Roll back dev again",
            "alice@ops",
            now,
            &|_| {},
        )
        .await
        .expect("pushed");
    assert_eq!(head(&new, &dev.branch), pushed.commit);
    assert_eq!(
        head(&old, &dev.branch),
        old_head,
        "the old remote was pushed to"
    );
    assert_ne!(
        head(&new, &dev.branch),
        old_head,
        "the new remote did not get the push"
    );
}
