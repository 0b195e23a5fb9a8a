//! Live mode's system repository: fetched from a real remote (the demo's, over a local path)
//! into a cache, read with the same code as the demo, with the app repository found through
//! `.gitmodules` — so both modes see the same tiers.

mod common;

use shopctl::backends::FleetSource;
use shopctl::backends::demo::{DemoFleet, DemoSource, Scenario};
use shopctl::backends::live::git::GitCache;

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
