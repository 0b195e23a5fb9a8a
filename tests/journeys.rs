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
    let executed: Vec<&shopctl::ops::Mutation> = rec
        .lines
        .iter()
        .filter_map(|l| match &l.entry {
            shopctl::ui::recording::Entry::Executed { mutation, result } if result.is_ok() => {
                Some(mutation.as_ref())
            }
            _ => None,
        })
        .collect();
    let steps: Vec<&str> = executed
        .iter()
        .filter_map(|m| match m {
            shopctl::ops::Mutation::Promote { tier, .. } => Some(tier.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(steps, ["prod-beta", "prod", "prod-ha"]);
    // prod-ha's second-person approval was asked for from the console.
    assert!(
        executed
            .iter()
            .any(|m| matches!(m, shopctl::ops::Mutation::RequestApproval { .. })),
        "{executed:?}"
    );
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

/// Every screen the recordings' README describes is drawn in the journey's cast: the cast is
/// played into a terminal emulator, frame by frame, and each screen looked for.
#[test]
fn every_described_screen_is_in_the_journeys_cast() {
    let described: [(&str, &[&str]); 3] = [
        (
            "guided-release",
            &[
                "Release guide",
                "Promote 'prod-beta'",
                "Promote 'prod'",
                "Ask for approval of 'prod-ha'",
                "approved",
                "Promote 'prod-ha'",
            ],
        ),
        (
            "drain-and-restore",
            &["type 'b'", "drain done:", "restore done:"],
        ),
        (
            "cluster-outage",
            &["✗ DOWN", "shops down", "type 'b'", "drain done:"],
        ),
    ];
    let theme = Theme::load("default").expect("theme");
    for (name, screens) in described {
        let rec = journey(name);
        let (w, h) = (rec.header.width, rec.header.height);
        let mut cast = Vec::new();
        shopctl::ui::recording::cast::export(Replay::new(rec, 1.0), 1.0, &theme, &mut cast)
            .expect("exported");
        let mut term = vt100::Parser::new(h, w, 0);
        let mut seen = vec![false; screens.len()];
        let mut frames = 0;
        for line in String::from_utf8(cast).expect("utf-8").lines().skip(1) {
            let (_, kind, data): (f64, String, String) =
                serde_json::from_str(line).expect("an event");
            if kind == "r" {
                let (cols, rows) = data.split_once('x').expect("COLSxROWS");
                term.screen_mut()
                    .set_size(rows.parse().expect("rows"), cols.parse().expect("cols"));
                continue;
            }
            term.process(data.as_bytes());
            frames += 1;
            let shown = term.screen().contents();
            for (s, seen) in screens.iter().zip(seen.iter_mut()) {
                *seen |= shown.contains(s);
            }
        }
        let missing: Vec<&&str> = screens
            .iter()
            .zip(&seen)
            .filter(|(_, s)| !**s)
            .map(|(w, _)| w)
            .collect();
        assert!(
            missing.is_empty(),
            "{name}: never drawn: {missing:?} ({frames} frames)"
        );
    }
}
