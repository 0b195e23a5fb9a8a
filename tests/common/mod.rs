//! Shared test helpers: reproducible demo fleets in temporary directories.
#![allow(dead_code)]

use std::path::Path;

use shopctl::domain::{Fleet, Ts};
use shopctl::sources::FleetSource;
use shopctl::sources::demo::{DemoFleet, DemoOptions, DemoSource, Scenario};

/// 2026-11-22T16:00:00Z: when test fleets are created.
pub const CREATED: Ts = Ts(1_795_363_200_000);

pub fn demo_options(dir: &Path, scale: u32, scenario: Scenario) -> DemoOptions {
    DemoOptions {
        dir: dir.to_path_buf(),
        scale: Some(scale),
        seed: Some(7),
        scenario: Some(scenario),
        reset: false,
        created_at: Some(CREATED),
    }
}

/// A demo fleet created at [`CREATED`] and read `after_secs` later.
pub fn demo_snapshot(dir: &Path, scale: u32, scenario: Scenario, after_secs: i64) -> Fleet {
    let fleet = DemoFleet::open(&demo_options(dir, scale, scenario)).expect("demo fleet opens");
    let mut source = DemoSource::new(fleet);
    source
        .snapshot(CREATED.plus_secs(after_secs))
        .expect("demo snapshot")
}
