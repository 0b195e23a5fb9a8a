//! The demo fleet: its git layout checked with git itself, and the simulated world over time.

mod common;

use common::{CREATED, demo_options, demo_snapshot, git, push_gitlink, push_gitlink_at};

use shopctl::backends::demo::{DemoFleet, DemoSource, Scenario};
use shopctl::domain::{
    AlertState, HealthStatus, OperationPhase, Reachability, Severity, SyncStatus,
};

#[test]
fn the_git_layout_is_real() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let fleet = demo_snapshot(tmp.path(), 500, Scenario::Calm, 60);
    let remote = tmp.path().join("git/system.git");
    let app = tmp.path().join("git/app.git");

    let branches = git(
        &remote,
        &["for-each-ref", "--format=%(refname:short)", "refs/heads"],
    );
    assert_eq!(
        branches.lines().collect::<Vec<_>>(),
        ["tier-0", "tier-1", "tier-2", "tier-3", "tier-4"]
    );
    let tags = git(&app, &["tag", "--list"]);
    assert!(tags.lines().count() >= 5, "release tags: {tags}");
    let app_tip = git(&app, &["rev-parse", "main"]);

    for tier in &fleet.tiers {
        let branch = &tier.branch;
        // `base` is a gitlink (mode 160000) to a commit of the app repository.
        let entry = git(&remote, &["ls-tree", branch, "base"]);
        let parts: Vec<&str> = entry.split_whitespace().collect();
        assert_eq!(&parts[..2], ["160000", "commit"], "{branch}: {entry}");
        let pinned = parts[2];
        assert_eq!(git(&app, &["cat-file", "-t", pinned]), "commit");
        assert_eq!(tier.revision.as_ref().map(|r| r.id.as_str()), Some(pinned));
        let modules = git(&remote, &["show", &format!("{branch}:.gitmodules")]);
        assert!(modules.contains("path = base"), "{modules}");
        // One overlay per ShopSet of the tier, and none for other tiers.
        let overlays = git(
            &remote,
            &["ls-tree", "--name-only", &format!("{branch}:overlays")],
        );
        let mut want: Vec<&str> = fleet
            .shopsets_of_tier(&tier.name)
            .map(|s| s.name.as_str())
            .collect();
        want.sort();
        let mut got: Vec<&str> = overlays.lines().collect();
        got.sort();
        assert_eq!(got, want, "{branch}");
        let k = git(
            &remote,
            &[
                "show",
                &format!("{branch}:overlays/{}/kustomization.yaml", want[0]),
            ],
        );
        assert!(
            k.contains("../../base") && k.contains(&format!("shopset.dev/tier: {}", tier.name)),
            "{k}"
        );
        // History exists to roll back to.
        assert!(
            git(&remote, &["rev-list", "--count", branch])
                .parse::<u32>()
                .unwrap_or(0)
                >= 2
        );
    }
    // A release is on its way up: dev and beta run the newest app commit, the upper tiers do not.
    let at = |name: &str| {
        fleet
            .tier(name)
            .and_then(|t| t.revision.clone())
            .map(|r| r.id)
            .unwrap_or_default()
    };
    assert_eq!(at("dev"), app_tip);
    assert_eq!(at("beta"), app_tip);
    for upper in ["prod-beta", "prod", "prod-ha"] {
        assert_ne!(at(upper), app_tip, "{upper}");
        assert_eq!(
            git(&app, &["merge-base", "--is-ancestor", &at(upper), &app_tip]),
            ""
        );
    }
    assert!(fleet.violations().is_empty(), "{:?}", fleet.violations());

    // The working clone tracks the bare remote.
    let clone = tmp.path().join("git/system");
    let url = git(&clone, &["remote", "get-url", "origin"]);
    assert!(url.ends_with("git/system.git"), "{url}");
}

#[test]
fn argo_cd_follows_a_pushed_tier_branch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let before = demo_snapshot(tmp.path(), 500, Scenario::Calm, 60);
    let tip = before
        .tier("beta")
        .and_then(|t| t.revision.clone())
        .expect("beta revision")
        .id;
    for ss in before.shopsets_of_tier("prod-beta") {
        assert!(
            before.app_for(&ss.name).is_some_and(|a| a.is_settled()),
            "{} settled before",
            ss.name
        );
    }
    push_gitlink(tmp.path(), "tier-2", &tip);
    let pushed_at = {
        let t = git(
            &tmp.path().join("git/system.git"),
            &["log", "-1", "--format=%ct", "tier-2"],
        );
        shopctl::domain::Ts::from_secs(t.parse().expect("commit time"))
    };
    let mut source = DemoSource::new(
        DemoFleet::open(&demo_options(tmp.path(), 500, Scenario::Calm)).expect("reopen"),
    );
    let read =
        |s: &mut DemoSource, secs: i64| s.snapshot(pushed_at.plus_secs(secs)).expect("snapshot");

    let f = read(&mut source, 0);
    assert_eq!(
        f.tier("prod-beta")
            .and_then(|t| t.revision.clone())
            .map(|r| r.id),
        Some(tip.clone())
    );
    for ss in f.shopsets_of_tier("prod-beta") {
        let app = f.app_for(&ss.name).expect("app");
        assert_eq!(
            app.sync,
            SyncStatus::OutOfSync,
            "{} just after the push",
            ss.name
        );
    }
    let f = read(&mut source, 7);
    assert!(f.shopsets_of_tier("prod-beta").any(|ss| {
        f.app_for(&ss.name)
            .is_some_and(|a| a.operation == Some(OperationPhase::Running))
    }));
    let f = read(&mut source, 60);
    for ss in f.shopsets_of_tier("prod-beta") {
        let app = f.app_for(&ss.name).expect("app");
        assert!(
            app.is_settled(),
            "{} settled a minute later: {app:?}",
            ss.name
        );
        assert_eq!(app.app_revision.as_deref(), Some(tip.as_str()));
    }
    // Unchanged tiers never moved.
    assert!(
        f.shopsets_of_tier("prod")
            .all(|ss| f.app_for(&ss.name).is_some_and(|a| a.is_settled()))
    );
}

#[test]
fn bad_release_degrades_the_tier_that_receives_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let before = demo_snapshot(tmp.path(), 500, Scenario::BadRelease, 60);
    // dev and beta (staging) already run it and are fine.
    assert!(
        before
            .alerts
            .iter()
            .all(|a| a.severity != Severity::Critical),
        "{:?}",
        before.alerts
    );
    let tip = before
        .tier("beta")
        .and_then(|t| t.revision.clone())
        .expect("beta")
        .id;
    push_gitlink(tmp.path(), "tier-2", &tip);
    let mut source = DemoSource::new(
        DemoFleet::open(&demo_options(tmp.path(), 500, Scenario::BadRelease)).expect("reopen"),
    );
    let f = source
        .snapshot(shopctl::domain::Ts::now().plus_secs(120))
        .expect("snapshot");
    for ss in f.shopsets_of_tier("prod-beta") {
        assert_eq!(
            f.app_for(&ss.name).map(|a| a.health),
            Some(HealthStatus::Degraded),
            "{}",
            ss.name
        );
    }
    let critical: Vec<_> = f
        .alerts
        .iter()
        .filter(|a| a.severity == Severity::Critical && a.state == AlertState::Active)
        .collect();
    assert!(
        critical
            .iter()
            .any(|a| a.label("tier") == Some("prod-beta")),
        "{critical:?}"
    );
    assert!(
        critical
            .iter()
            .all(|a| a.label("tier") == Some("prod-beta")),
        "only prod-beta: {critical:?}"
    );
}

#[test]
fn cluster_outage_takes_cluster_b_down() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let early = demo_snapshot(tmp.path(), 500, Scenario::ClusterOutage, 10);
    assert!(
        early
            .clusters
            .iter()
            .all(|c| c.reachability == Reachability::Reachable)
    );
    let mut source = DemoSource::new(
        DemoFleet::open(&demo_options(tmp.path(), 500, Scenario::ClusterOutage)).expect("reopen"),
    );
    let f = source.snapshot(CREATED.plus_secs(120)).expect("snapshot");
    let b = f.cluster("b").expect("b");
    assert_eq!(b.reachability, Reachability::Unreachable);
    for ss in f.shopsets_of_cluster("b") {
        assert_eq!(
            f.app_for(&ss.name).map(|a| a.sync),
            Some(SyncStatus::Unknown)
        );
    }
    let (down, one_leg) = f.shops_affected_by_outage();
    assert!(down > 0 && one_leg > 0, "{down} down, {one_leg} on one leg");
    assert!(
        f.alerts
            .iter()
            .any(|a| a.name == "ClusterUnreachable" && a.label("cluster") == Some("b"))
    );
}

#[test]
fn the_same_seed_makes_the_same_fleet() {
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let fa = demo_snapshot(a.path(), 800, Scenario::Calm, 300);
    let fb = demo_snapshot(b.path(), 800, Scenario::Calm, 300);
    assert_eq!(fa.shops, fb.shops);
    assert_eq!(fa.shopsets, fb.shopsets);
    assert_eq!(fa.tiers, fb.tiers, "git history is reproducible too");
    assert_eq!(fa.alerts, fb.alerts);
}

#[test]
fn reopening_with_other_settings_is_refused_without_reset() {
    let tmp = tempfile::tempdir().expect("tempdir");
    demo_snapshot(tmp.path(), 300, Scenario::Calm, 0);
    let mut other = demo_options(tmp.path(), 900, Scenario::Calm);
    let err = DemoFleet::open(&other).err().expect("refused").to_string();
    assert!(
        err.contains("300 shops") && err.contains("900 shops") && err.contains("--demo-reset"),
        "{err}"
    );
    other.reset = true;
    let mut source = DemoSource::new(DemoFleet::open(&other).expect("reset recreates"));
    assert_eq!(source.snapshot(CREATED).expect("snapshot").shops.len(), 900);
}

#[test]
fn a_non_demo_directory_is_never_deleted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("precious.txt"), "keep me").expect("write");
    let mut opts = demo_options(tmp.path(), 100, Scenario::Calm);
    opts.reset = true;
    let err = DemoFleet::open(&opts).err().expect("refused").to_string();
    assert!(err.contains("not a demo directory"), "{err}");
    assert!(tmp.path().join("precious.txt").exists());
}

#[test]
fn a_rollback_rolls_out_like_any_other_change() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let before = demo_snapshot(tmp.path(), 500, Scenario::BadRelease, 60);
    let revision = |tier: &str| {
        before
            .tier(tier)
            .and_then(|t| t.revision.clone())
            .expect("revision")
            .id
    };
    let (bad, good) = (revision("beta"), revision("prod-beta"));
    assert_ne!(bad, good);
    let promoted = CREATED.plus_secs(120);
    push_gitlink_at(tmp.path(), "tier-2", &bad, promoted);
    let rolled_back = promoted.plus_secs(600);
    let mut source = DemoSource::new(
        DemoFleet::open(&demo_options(tmp.path(), 500, Scenario::BadRelease)).expect("reopen"),
    );
    let checkout_alert = |f: &shopctl::domain::Fleet, ss: &str| {
        f.alerts.iter().any(|a| {
            a.name == "CheckoutErrorRateHigh"
                && a.state == AlertState::Active
                && a.label("shopset") == Some(ss)
        })
    };

    // The bad release ran for ten minutes: degraded, alerts firing.
    let f = source
        .snapshot(rolled_back.plus_secs(-1))
        .expect("snapshot");
    let prod_beta: Vec<String> = f
        .shopsets_of_tier("prod-beta")
        .map(|s| s.name.clone())
        .collect();
    assert!(!prod_beta.is_empty());
    for ss in &prod_beta {
        let app = f.app_for(ss).expect("app");
        assert_eq!(
            (app.sync, app.health),
            (SyncStatus::Synced, HealthStatus::Degraded),
            "{ss}"
        );
        assert!(checkout_alert(&f, ss), "{ss}: {:?}", f.alerts);
    }

    push_gitlink_at(tmp.path(), "tier-2", &good, rolled_back);
    // Right after the rollback push nothing has synced: the bad release still runs and alerts.
    let f = source.snapshot(rolled_back).expect("snapshot");
    for ss in &prod_beta {
        let app = f.app_for(ss).expect("app");
        assert_eq!(app.sync, SyncStatus::OutOfSync, "{ss}");
        assert_eq!(app.health, HealthStatus::Degraded, "{ss}");
        assert_eq!(app.app_revision.as_deref(), Some(bad.as_str()), "{ss}");
        assert!(checkout_alert(&f, ss), "{ss}: {:?}", f.alerts);
    }

    // Each ShopSet goes OutOfSync → Progressing → Synced/Healthy; its alert lasts while the bad
    // release still runs there, and ends once the rollback is deployed.
    let mut seen: std::collections::HashMap<&str, Vec<HealthStatus>> = Default::default();
    for secs in 0..=60 {
        let f = source
            .snapshot(rolled_back.plus_secs(secs))
            .expect("snapshot");
        for ss in &prod_beta {
            let app = f.app_for(ss).expect("app");
            let phases = seen.entry(ss.as_str()).or_default();
            if phases.last() != Some(&app.health) {
                phases.push(app.health);
            }
            let deployed_bad = app.sync != SyncStatus::Synced;
            assert_eq!(
                checkout_alert(&f, ss),
                deployed_bad,
                "{ss} at +{secs}s: {app:?}"
            );
            if app.sync == SyncStatus::Synced {
                assert_eq!(app.app_revision.as_deref(), Some(good.as_str()), "{ss}");
            }
        }
    }
    for (ss, phases) in &seen {
        assert_eq!(
            phases,
            &[
                HealthStatus::Degraded,
                HealthStatus::Progressing,
                HealthStatus::Healthy
            ],
            "{ss}"
        );
    }
    let f = source
        .snapshot(rolled_back.plus_secs(60))
        .expect("snapshot");
    assert!(
        f.alerts
            .iter()
            .all(|a| a.severity != Severity::Critical || a.state != AlertState::Active),
        "{:?}",
        f.alerts
    );
}

#[test]
fn each_simulated_cluster_reports_as_its_own_source() {
    use shopctl::backends::{SourceEvent, SourceId};
    let tmp = tempfile::tempdir().expect("tempdir");
    let fleet = shopctl::backends::demo::DemoFleet::open(&common::demo_options(
        tmp.path(),
        300,
        shopctl::backends::demo::Scenario::ClusterOutage,
    ))
    .expect("demo");
    let mut source = shopctl::backends::demo::DemoSource::new(fleet);
    let at = common::CREATED.plus_secs(120);
    let events = source.poll(at);
    let problem_of = |name: &str| {
        events.iter().any(
            |e| matches!(e, SourceEvent::Problem { source: SourceId::Cluster(c), .. } if c == name),
        )
    };
    let heartbeat_of = |name: &str| {
        events.iter().any(|e| {
            matches!(e, SourceEvent::Heartbeat { source: SourceId::Cluster(c), .. } if c == name)
        })
    };
    assert!(problem_of("b"), "the dead cluster is a failing source");
    assert!(heartbeat_of("a") && !heartbeat_of("b"));
    assert!(events.iter().any(|e| matches!(
        e,
        SourceEvent::Heartbeat {
            source: SourceId::ControlPlane,
            ..
        }
    )));
}
