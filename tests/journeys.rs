//! The demo journeys of `recordings/` replay to the screen they ended on, and export as casts.

use std::path::Path;

use shopctl::ui::recording::file::Recording;
use shopctl::ui::recording::player::{Replay, final_screen};
use shopctl::ui::theme::Theme;

fn text(buffer: &ratatui::buffer::Buffer) -> String {
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn journey(name: &str) -> Recording {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("recordings")
        .join(format!("{name}.jsonl"));
    Recording::open(&file).expect("the journey's recording opens")
}

fn final_text(name: &str) -> String {
    let theme = Theme::load("default").expect("theme");
    text(&final_screen(journey(name), &theme))
}

#[test]
fn a_guided_release_ends_with_every_tier_on_the_release() {
    let screen = final_text("guided-release");
    insta::assert_snapshot!("guided_release_final", screen);
    let rec = journey("guided-release");
    let steps = rec
        .lines
        .iter()
        .filter(|l| matches!(l.entry, shopctl::ui::recording::Entry::Executed { .. }))
        .count();
    assert_eq!(steps, 3, "prod-beta, prod and prod-ha were stepped");
}

#[test]
fn a_drain_and_restore_ends_with_the_cluster_back() {
    insta::assert_snapshot!("drain_and_restore_final", final_text("drain-and-restore"));
}

#[test]
fn a_cluster_outage_ends_with_its_shops_evacuated() {
    insta::assert_snapshot!("cluster_outage_final", final_text("cluster-outage"));
}

#[test]
fn every_journey_replays_to_its_end_and_seeks_back() {
    for name in ["guided-release", "drain-and-restore", "cluster-outage"] {
        let rec = journey(name);
        assert!(rec.cut_off.is_none(), "{name} is whole");
        let len = rec.duration_ms();
        let mut replay = Replay::new(rec, 1.0);
        replay.seek(len / 2);
        assert!(!replay.ended(), "{name}");
        replay.seek(len);
        assert!(replay.ended(), "{name}");
        replay.seek(0);
        assert!(!replay.ended(), "{name}");
    }
}
