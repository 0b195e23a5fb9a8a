//! The console's user-visible wording: messages, questions and labels, so it stays consistent.

use super::placement::PlanKind;
use crate::domain::release::{GuideRow, GuideState, Progress};
use crate::domain::time::countdown;
use crate::ops::Mutation;
use crate::ops::drain::{DrainReport, StopReason};

pub const READ_ONLY: &str = "read-only";
pub const READ_WRITE: &str = "read-write";
pub const READ_ONLY_HELP: &str =
    "This console is read-only: everything is visible, nothing can be changed.";

pub const READ_ONLY_REFUSED: &str = "read-only: this console cannot change the fleet";

pub const NO_DRAIN: &str = "no drain is running";
pub const DRAIN_RUNNING: &str = "wait: a drain is running (x cancels it)";
pub const SELECT_CLUSTER: &str = "select a cluster in the Clusters pane (1) first";
pub const SELECT_TIER: &str = "select a tier in the Tiers pane (2) first";
pub const SELECT_SHOP: &str = "select a shop first";
pub const CHOOSE_OTHER: &str = "choose other ShopSets with space first";
pub const NOTHING_MOVED: &str = "cancelled: nothing moved";
pub const NOTHING_TO_PROMOTE: &str = "nothing left to promote";
pub const NO_FAILED_TIER: &str =
    "no tier has failed: to roll one back, select it in the Tiers pane (2) and press b";
pub const QUIT_TITLE: &str = " Quit? ";
pub const OVERRIDE_TITLE: &str = " override reason (required) ";
pub const OVERRIDE_PLACEHOLDER: &str =
    "why override? (required; goes into the commit and the audit log)";

pub fn promote_title(tier: &str) -> String {
    format!("Promote '{tier}'")
}

pub fn rollback_title(tier: &str) -> String {
    format!("Roll back '{tier}'")
}

/// The title of a step or rollback that cannot be made: a refusal says so in its title.
pub fn refused_title(tier: &str, rollback: bool) -> String {
    if rollback {
        format!("Cannot roll back '{tier}'")
    } else {
        format!("Cannot promote '{tier}'")
    }
}

pub fn too_small(w: u16, h: u16) -> String {
    format!(
        "The terminal is {w}×{h}; shopctl needs at least {}×{}.\nEnlarge the window, or press q to quit.",
        super::layout::MIN_WIDTH,
        super::layout::MIN_HEIGHT
    )
}

fn drain_noun(kind: Option<PlanKind>) -> &'static str {
    match kind {
        Some(PlanKind::Restore) => "restore",
        _ => "drain",
    }
}

pub fn nothing_to_restore(cluster: &str) -> String {
    format!("cluster '{cluster}' has no drain to restore")
}

pub fn quit_during_drain(kind: PlanKind, cluster: &str) -> String {
    format!(
        "a {} of '{cluster}' is running: quit stops it after the current batch — quit? y/n",
        drain_noun(Some(kind))
    )
}

pub fn drain_done(kind: Option<PlanKind>, r: &DrainReport) -> String {
    let skipped = if r.skipped.is_empty() {
        String::new()
    } else {
        format!(", {} skipped (moved meanwhile)", r.skipped.len())
    };
    let state = match r.stopped {
        None => "done",
        Some(StopReason::Cancelled) => "cancelled",
        Some(StopReason::Interrupted) => "interrupted",
    };
    format!(
        "{} {state}: {} shops moved{skipped}",
        drain_noun(kind),
        r.moved + r.already
    )
}

pub fn drain_failed(kind: Option<PlanKind>, e: &str) -> String {
    format!(
        "✗ {} stopped: {e}; run it again to continue",
        drain_noun(kind)
    )
}

fn progress_verb(p: &Progress) -> &'static str {
    if p.rollback {
        "rollback of"
    } else {
        "step into"
    }
}

pub fn progress_done(p: &Progress) -> String {
    format!(
        "✓ {} '{}' done: every ShopSet Synced and Healthy",
        progress_verb(p),
        p.tier
    )
}

/// The footer message and the Tiers pane's banner for a followed step that failed.
pub fn progress_failed(p: &Progress, why: &str) -> (String, String) {
    let verb = progress_verb(p);
    (
        format!(
            "✗ {verb} '{}' failed: {why}; press b on the tier to roll back",
            p.tier
        ),
        format!(
            "✗ {verb} '{}' failed: {why} — b rolls back, esc dismisses",
            p.tier
        ),
    )
}

pub fn pushed(commit: &str, summary: &str) -> String {
    format!("pushed {}: {summary}", commit.get(..7).unwrap_or(commit))
}

pub const NOTES_SAVED: &str = "notes saved to the audit log";
/// Said when a mutating effect reaches a console without an executor.
pub const NO_EXECUTOR: &str = "read-only: nothing can be changed from this console";

pub fn race(e: &str) -> String {
    format!("{e}. The gate is evaluated again: press s to review.")
}

pub fn progress_superseded(p: &Progress) -> String {
    format!(
        "'{}' moved on: the {} this console pushed was superseded by another change; no longer followed",
        p.tier,
        if p.rollback { "rollback" } else { "step" }
    )
}

/// The guide's one line about what to do next.
/// In a read-only console it names the step without offering a key.
pub fn next_action(row: Option<&GuideRow>, readonly: bool) -> String {
    let Some(row) = row else {
        return "✓ every tier runs the release: nothing left to do".into();
    };
    let t = row.tier.as_str();
    match &row.state {
        GuideState::Next if readonly => format!("▶ next: promote '{t}'"),
        GuideState::Next => format!("▶ promote '{t}' — press s"),
        GuideState::Syncing { settled, total } => {
            format!("◐ wait: '{t}' is syncing ({settled}/{total})")
        }
        GuideState::Soaking { left } if readonly => {
            format!("◷ wait: soaking {} before '{t}'", countdown(*left))
        }
        GuideState::Soaking { left } => format!(
            "◷ wait: soaking {} before '{t}' (s overrides with a reason)",
            countdown(*left)
        ),
        GuideState::Failed { shopset } => {
            format!("✗ '{t}': {}", guide_failed(shopset, readonly))
        }
        GuideState::Blocked(why) => format!("✗ '{t}' is blocked: {why}"),
        GuideState::Waiting | GuideState::Done => format!("· '{t}' waits for the tier below"),
    }
}

pub fn guide_failed(shopset: &str, readonly: bool) -> String {
    if readonly {
        format!("{shopset} Degraded — a rollback is needed")
    } else {
        format!("{shopset} Degraded — b rolls it back")
    }
}

/// The fleet-wide shop search's hint.
pub fn shop_search_hint(readonly: bool) -> &'static str {
    if readonly {
        "/ filters by name or ShopSet"
    } else {
        "/ filters by name or ShopSet; r reassigns the selected shop"
    }
}

/// An unreachable cluster's detail: what it takes down here and fleet-wide.
pub fn cluster_outage(
    down: usize,
    one_leg: usize,
    fleet_down: usize,
    fleet_one_leg: usize,
    readonly: bool,
) -> String {
    if readonly {
        return format!(
            "{down} shops down, {one_leg} on one leg (listed below) — fleet-wide {fleet_down} down, {fleet_one_leg} on one leg"
        );
    }
    format!(
        "{down} shops down, {one_leg} on one leg (listed below; r reassigns) — fleet-wide {fleet_down} down, {fleet_one_leg} on one leg; esc, then d plans their evacuation"
    )
}

/// A release change cannot start while this console's last one is still on its way.
pub fn busy(rolling_out: Option<&str>) -> String {
    match rolling_out {
        Some(tier) => format!("wait: '{tier}' is still rolling out"),
        None => "wait: a change is being pushed".into(),
    }
}

pub fn refused(rule: &impl std::fmt::Display) -> String {
    format!("refused: {rule}")
}

pub fn moving(m: &Mutation) -> String {
    format!("moving: {}", m.summary())
}

pub fn pushing(m: &Mutation) -> String {
    format!("pushing: {}", m.summary())
}

pub fn moved(m: &Mutation) -> String {
    format!("✓ {}", m.summary())
}

pub const ROLLBACK_KEEPS_HISTORY: &str = "      a new commit; history is kept";
pub const COMMITS_TAKEN_BACK: &str = "App commits taken back";
pub const COMMITS_BROUGHT: &str = "App commits brought";
pub const SHOPSETS_THAT_CHANGE: &str = "ShopSets that change: ";
pub const ESC_CLOSE: &str = " esc close ";

pub fn exactly_what_runs(from_tier: &str) -> String {
    format!("      exactly the revision '{from_tier}' runs")
}

pub const NO_BLOCKERS: &str = "✓ no blockers: every shop has a place";
pub const PLAN_CHANGED: &str =
    "▲ the fleet changed: this is the plan as it is now — review it and type the name again";
pub const MOVES_HEADING: &str = "Moves (source → target: shops)";
pub const LOAD_AFTER: &str = "Load after";

pub fn plan_title(kind: PlanKind, cluster: &str) -> String {
    let verb = match kind {
        PlanKind::Drain => "Drain",
        PlanKind::Restore => "Restore",
    };
    format!(" {verb} cluster '{cluster}' ")
}

/// `resuming`: the cluster is cordoned for this drain already (an unfinished drain goes on).
pub fn plan_intro(kind: PlanKind, cluster: &str, moves: usize, resuming: bool) -> String {
    match kind {
        PlanKind::Drain if resuming => format!(
            "continue the unfinished drain: move the {moves} shops still on '{cluster}'; nothing moves before you confirm"
        ),
        PlanKind::Drain => format!(
            "cordon '{cluster}', then move {moves} shops in batches; nothing moves before you confirm"
        ),
        PlanKind::Restore => {
            format!("move {moves} shops back where the drain found them, then uncordon '{cluster}'")
        }
    }
}

pub fn type_to_confirm(cluster: &str) -> String {
    format!("type '{cluster}' to confirm")
}

pub fn type_cluster_name(cluster: &str, typed: &str) -> String {
    format!("type the cluster's name '{cluster}' to confirm (typed '{typed}')")
}

pub fn plan_blocked(blockers: usize) -> String {
    format!(
        "{blockers} shops cannot be placed; cancel, or accept degraded redundancy (tab) where offered"
    )
}

pub fn blockers_below(blockers: usize) -> String {
    format!("✗ {blockers} blockers: listed below")
}

pub fn blockers_heading(blockers: usize, acceptable: usize) -> String {
    if acceptable > 0 {
        format!(
            "✗ {blockers} blockers ({acceptable} dual: tab accepts degraded redundancy for exactly these)"
        )
    } else {
        format!("✗ {blockers} blockers")
    }
}

pub fn accepted_degraded(shops: usize) -> String {
    format!("Accepted: {shops} dual shops run on one ShopSet")
}

pub fn reassign_title(shop: &str, redundancy: &str) -> String {
    format!(" Reassign shop '{shop}' ({redundancy}) ")
}

pub const SILENCE_TITLE: &str = " Silence alerts ";
pub const EXPIRE_TITLE: &str = " Expire a silence ";
pub const MATCHERS: &str = "matchers";
pub const DURATION: &str = "for";
pub const COMMENT_TITLE: &str = "comment (required; goes into Alertmanager and the audit log)";
pub const SILENCE_COMMENT_PLACEHOLDER: &str = "why? e.g. the incident or change being worked on";
pub const SILENCE_NEEDS_COMMENT: &str = "comment: say why the alerts are silenced";
pub const MATCHERS_PLACEHOLDER: &str = "e.g. cluster=\"b\" or alertname=\"HighLatency\"";
pub const NO_SILENCES: &str = "no silence is active or pending";
pub const NOTHING_TO_EXPIRE: &str = "no silence is active or pending: nothing to expire";
pub const GONE: &str = "(gone)";
pub const MUTING_MARK: &str = "● mutes the selected alert";

pub fn silence_until(hhmm: &str, duration: &str) -> String {
    format!("({duration}, until {hhmm})")
}

pub fn silence_mutes(n: usize) -> String {
    match n {
        0 => "▲ mutes none of the alerts firing now".into(),
        1 => "✓ mutes 1 alert firing now:".into(),
        n => format!("✓ mutes {n} alerts firing now:"),
    }
}

pub fn silencing(m: &Mutation) -> String {
    format!("asking Alertmanager: {}", m.summary())
}

pub const BREAKS_NO_RULE: &str = "✓ breaks no rule";
pub const CHOOSE_WITH_SPACE: &str = "choose other ShopSets with space";

pub fn confirm_by_typing(cluster: &str) -> String {
    format!(" confirm: type '{cluster}' ")
}

/// The operator lock could not be renewed while this console followed a rollout.
pub fn lock_lost(why: &str) -> String {
    format!("✗ the operator lock could not be renewed: {why}")
}

/// What a console that stopped a running drain prints when it exits.
pub fn interrupted(kind: crate::ops::drain::PlanKind, cluster: &str) -> String {
    let verb = match kind {
        crate::ops::drain::PlanKind::Drain => "drain",
        crate::ops::drain::PlanKind::Restore => "restore",
    };
    format!(
        "the {verb} of cluster '{cluster}' was interrupted after its current batch; run 'shopctl {verb} {cluster}' to continue"
    )
}

/// The guide's notes box: where the notes go.
pub fn notes_title(readonly: bool) -> &'static str {
    if readonly {
        " notes (read-only: kept on screen, not saved) "
    } else {
        " notes (saved with the audit log) "
    }
}

/// Who holds the lock, as the header says it: this console, another console of this operator,
/// or someone else.
pub fn locked_by(lock: &crate::domain::ReleaseLock, session: &str, operator: &str) -> String {
    if !lock.session.is_empty() && lock.session == session {
        "locked by this console".into()
    } else if lock.holder == operator {
        format!("locked by {} (another session)", lock.holder)
    } else {
        format!("locked by {}", lock.holder)
    }
}

/// The Tiers pane's note about the change this console follows.
pub fn following(p: &Progress, state: &crate::domain::release::ProgressState) -> String {
    use crate::domain::release::ProgressState;
    let verb = if p.rollback {
        "rolling back"
    } else {
        "promoting"
    };
    let state = match state {
        ProgressState::Waiting => "pushed, waiting for Argo CD".to_string(),
        ProgressState::Syncing { settled, total } => format!("{settled}/{total} synced"),
        ProgressState::Done => "done".to_string(),
        ProgressState::Failed(why) => why.clone(),
        ProgressState::Superseded { .. } => "superseded".to_string(),
    };
    format!("◐ {verb} {}: {state} ", p.tier)
}

pub const UNLOCKED: &str = "unlocked";
pub const LOCK_FREE: &str = "lock free";
pub const ANYWHERE: &str = "anywhere";
pub const SYMBOLS: &str = "Symbols";
/// The help's symbol legend; `›` stands for the related-row marker.
pub const LEGEND: [(&str, &str); 8] = [
    ("● ✓", "up, Synced, Healthy  "),
    ("◐ ◷", "syncing, soaking  "),
    ("▲ ≠", "degraded, OutOfSync"),
    ("✗", "down, failed, critical  "),
    ("? ◌", "unknown, silenced  "),
    ("⊘", "cordoned  "),
    ("›", "highlighted cluster/tier  "),
    ("STACK", "LB·TLS proxy·shop page·cart·API"),
];

/// What the header's fields mean, for the help screen.
pub const HEADER_HELP: [(&str, &str); 9] = [
    (
        "read-write, RW",
        "this console can change the fleet (read-only, RO: it cannot)",
    ),
    (
        "lock free, unlocked",
        "nobody holds the operator lock; locked by X (⚿ X): who does",
    ),
    (
        "● live",
        "every source answered in time; ▲ STALE 12s SOURCE: the oldest is late",
    ),
    ("◌ connecting", "the first read has not arrived yet"),
    (
        "✗ N shops down",
        "an outage: shops with no ShopSet serving, dual shops on one leg",
    ),
    (
        "✗ N invariants",
        "the fleet breaks a rule the console checks (sources view: i)",
    ),
    (
        "✗ HALTED",
        "every promotion is halted until someone resumes (H)",
    ),
    (
        "demo, live",
        "where the data comes from, then the context it was read through",
    ),
    (
        "● rec",
        "this session is being recorded (shopctl replay); ✗ not recording: it cannot be",
    ),
];

/// What each column heading means, for the help screen.
pub const COLUMNS_HELP: [(&str, &str); 13] = [
    (
        "PROV, PROVIDER, FD",
        "a cluster's provider and failure domain",
    ),
    ("NODES, SETS", "nodes ready/total, ShopSets on the cluster"),
    ("L", "the tier's level (0 is dev)"),
    (
        "COMMIT, RELEASE",
        "what a tier runs (its commit, its tag); ↑ newer below, ✗ ahead of the tier below",
    ),
    (
        "SETTLED",
        "ShopSets synced and healthy at the tier's head / all of them",
    ),
    ("SOAK", "◷ soak time left; ✓ how long since it settled"),
    ("CL, CONFIG", "a ShopSet's cluster and configuration"),
    (
        "SHOPS/CAP, LOAD",
        "shops on a ShopSet / its capacity, and as a percentage",
    ),
    (
        "STACK",
        "LB · TLS proxy · shop page · cart · API, each a symbol",
    ),
    (
        "AL, ALERTS",
        "alerts firing on the ShopSet: the worst severity and how many",
    ),
    (
        "SET, APP, REV",
        "the Argo CD application, its ShopSet, the revision synced",
    ),
    (
        "OPERATION, SYNCED",
        "its last sync operation and when it finished",
    ),
    (
        "SEVERITY, SCOPE, AGE",
        "an alert's severity, what it is about, how long it has fired",
    ),
];

pub fn filter_label(what: &str) -> String {
    format!("filter {what}: ")
}

pub const NO_MATCH: &str = "no rows match the filter";
pub const WAITING_FOR_DATA: &str = "waiting for data…";
pub const NO_ALERTS: &str = "✓ no alerts firing";
pub const NO_APPS: &str = "no Argo CD applications";
pub const NO_CLUSTERS: &str = "no clusters registered";
pub const NO_SHOPSETS: &str = "no ShopSets";
pub const NO_TIERS: &str = "no tiers defined";
pub const NOTES_PLACEHOLDER: &str = "notes for the postmortem: press e to write, esc to stop";
pub const RELEASE_LABEL: &str = "Release ";
pub const WAITING: &str = "waiting";
pub const BEFORE: &str = "before  ";
pub const AFTER: &str = "after   ";

pub fn syncing(settled: usize, total: usize) -> String {
    format!("syncing {settled}/{total}")
}

pub fn soaking(left: i64) -> String {
    format!("soaking {}", countdown(left))
}

pub fn blocked(why: &str) -> String {
    format!("blocked: {why}")
}

/// The Alerts pane when Alertmanager cannot be read.
pub fn alerts_unknown(why: &str) -> String {
    format!("? alert state unknown — {why}")
}

pub const SOURCES_TITLE: &str = " Sources ";
pub const SOURCES_KEYS: &str = " i/esc close ";
pub const SOURCES_COLUMNS: [&str; 4] = ["SOURCE", "STATE", "AGE", "LAST ERROR"];
pub const SOURCE_LIVE: &str = "● live";
pub const SOURCE_STALE: &str = "▲ stale";
pub const SOURCE_FAILING: &str = "✗ failing";
pub const SOURCE_WAITING: &str = "◌ waiting";

/// The header's word for how current the data is; `named` adds which source is stale.
pub fn freshness(f: &crate::domain::freshness::Freshness, named: bool) -> String {
    use crate::domain::freshness::Freshness;
    match f {
        Freshness::Connecting => "◌ connecting".into(),
        Freshness::Loading(l) => format!("◌ loading {}", l.label()),
        Freshness::Live => "● live".into(),
        Freshness::Stale { secs, source, .. } if named => {
            format!("▲ STALE {} {source}", crate::domain::time::age(*secs))
        }
        Freshness::Stale { secs, .. } => format!("▲ STALE {}", crate::domain::time::age(*secs)),
    }
}

/// A source whose first read is arriving, in the sources view.
pub fn source_loading(l: &crate::domain::freshness::Loading) -> String {
    format!("◌ loading {}", l.label())
}

/// What the session's credentials may not write, said when the console starts.
pub fn not_permitted(denied: &[crate::ops::Denial]) -> String {
    let what: Vec<&str> = denied.iter().map(|d| d.what.as_str()).collect();
    format!("⚠ this session may not {}", what.join(", "))
}

/// The help screen's account of what the session may not write, and the keys that are refused
/// for it.
pub fn not_permitted_help(denied: &[crate::ops::Denial]) -> Vec<String> {
    use crate::ops::Capability;
    let mut out = vec!["Not permitted to this session's credentials:".to_string()];
    for d in denied {
        let keys = match d.blocks {
            Some(Capability::Lock) => "s, b, d, u and r refused",
            Some(Capability::Placement) => "d, u and r refused",
            Some(Capability::Cordon) => "d and u refused",
            Some(Capability::Halt) => "H refused",
            Some(Capability::Request) | Some(Capability::Approve) => "a refused",
            None => "a side effect is skipped with a warning",
        };
        out.push(format!("  {}: {keys}", d.what));
    }
    out
}

/// The console's footer for a drain or restore left unfinished: the keys that continue it first,
/// so that a narrow footer keeps them (the headless advice names commands instead).
pub fn unfinished_drain(d: &crate::domain::drains::UnfinishedDrain, readonly: bool) -> String {
    let counts = format!("{} shops on it, {} away", d.shops_left, d.shops_away);
    if readonly {
        format!(
            "▲ cluster '{}' has an unfinished drain or restore ({counts})",
            d.cluster
        )
    } else {
        format!(
            "▲ cluster '{}': unfinished drain — d continues, u restores ({counts})",
            d.cluster
        )
    }
}

/// A replay speed as the header shows it: `10`, `0.5`.
pub fn speed(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// Why an automatic recording could not start.
pub fn not_recording(why: &str) -> String {
    format!("not recording this session: {why}")
}

/// `text` in at most `width` cells: whole when it fits, else cut at the last word that fits and
/// marked with `…` (a word is cut only when not even the first one fits).
pub fn fit(text: &str, width: usize) -> std::borrow::Cow<'_, str> {
    use unicode_width::UnicodeWidthStr;
    if text.width() <= width {
        return std::borrow::Cow::Borrowed(text);
    }
    if width == 0 {
        return std::borrow::Cow::Borrowed("");
    }
    let room = width - 1;
    let mut used = 0;
    let mut cut = 0;
    let mut word_end = None;
    for (i, c) in text.char_indices() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > room {
            break;
        }
        if c == ' ' && i > 0 {
            word_end = Some(i);
        }
        used += w;
        cut = i + c.len_utf8();
    }
    // The next character starts a new word: the cut is at a word's end already.
    let at_boundary = text[cut..].starts_with(' ');
    let end = match word_end {
        _ if at_boundary => cut,
        // Never a symbol alone, cut from its word (`◇…`): the word is cut instead.
        Some(e) if text[..e].trim_end().chars().count() <= 1 => cut,
        Some(e) => e,
        _ => cut,
    };
    std::borrow::Cow::Owned(format!("{}…", text[..end].trim_end()))
}

/// A line in at most `width` cells, shortened like [`fit`], keeping each part's style.
pub fn fit_line(line: ratatui::text::Line<'_>, width: u16) -> ratatui::text::Line<'_> {
    let width = usize::from(width);
    if line.width() <= width {
        return line;
    }
    let whole: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let short = fit(&whole, width).into_owned();
    // Give each span its share of the shortened text, in order; the `…` takes the style of the
    // span it ends.
    let mut rest = short.as_str();
    let mut spans = Vec::new();
    for span in &line.spans {
        if rest.is_empty() {
            break;
        }
        let take = span.content.len().min(rest.len());
        let mut take = (0..=take)
            .rev()
            .find(|&n| rest.is_char_boundary(n))
            .unwrap_or(0);
        if take < rest.len() && rest[take..] == *"…" {
            take = rest.len();
        }
        let (part, tail) = rest.split_at(take);
        spans.push(ratatui::text::Span::styled(part.to_string(), span.style));
        rest = tail;
    }
    if !rest.is_empty()
        && let Some(last) = spans.last_mut()
    {
        last.content = format!("{}{rest}", last.content).into();
    }
    ratatui::text::Line {
        spans,
        style: line.style,
        alignment: line.alignment,
    }
}

/// Every line fitted to `width` cells (see [`fit_line`]).
/// `text` in lines of at most `width` columns, broken between words (a word longer than a
/// line is broken inside): nothing is cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.width() + 1 + word.width() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        // A word wider than a line is broken where the line ends.
        for c in word.chars() {
            if !line.is_empty() && line.width() + c.width().unwrap_or(0) > width {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

pub fn fit_lines(lines: Vec<ratatui::text::Line<'_>>, width: u16) -> Vec<ratatui::text::Line<'_>> {
    lines.into_iter().map(|l| fit_line(l, width)).collect()
}

/// What the header says of a replay: that it is one, how fast, and the recorded time.
pub fn replay_label(
    replay: Option<&super::state::ReplayView>,
    now: crate::domain::Ts,
    narrow: bool,
) -> Option<String> {
    let r = replay?;
    let state = if r.ended {
        "■ end".to_string()
    } else if r.paused {
        "⏸ paused".to_string()
    } else {
        format!("▶ ×{}", speed(r.speed))
    };
    let when = now.rfc3339().replace('T', " ").replace('Z', "");
    let when = when.split('.').next().unwrap_or_default().to_string();
    Some(if narrow {
        format!(" REPLAY {state} {when} ? keys ")
    } else {
        format!(" REPLAY of {} · {state} · {when} UTC · ? keys ", r.name)
    })
}

/// The messages view's title.
pub const MESSAGES_TITLE: &str = " Messages (newest first) ";
/// The messages view with nothing said yet.
pub const NO_MESSAGES: &str = "nothing said yet";

pub const DECISION_REASON_TITLE: &str = " reason (required, shown to everyone and audited) ";
pub const DECISION_PLACEHOLDER: &str = "why — e.g. checkout incident INC-4711";
pub const DECISION_NEEDS_REASON: &str = "type a reason first";
pub const HALT_MEANS: &str = "Every promotion on the fleet stops at once, in every console and command, until someone resumes it (H again, or shopctl release resume). No reason can override a halt. Rollbacks stay possible.";
pub const RESUME_MEANS: &str = "Promotions go on: each step still passes its gate first.";
pub const CLEAR_MEANS: &str = "The guide and the gate offer this release for the tier again; the next step still passes its gate first.";
pub const REQUEST_MEANS: &str = "Someone else approves it with a in their console or shopctl release approve; a different change needs a new approval.";
pub const APPROVE_MEANS: &str =
    "Your approval counts for exactly this change; the step itself still passes its gate.";

/// Said while a decision is written.
pub fn deciding(m: &Mutation) -> String {
    format!("writing: {}", m.summary())
}

#[cfg(test)]
mod fit_tests {
    use super::fit;

    #[test]
    fn wrapped_text_keeps_every_word() {
        use super::wrap;
        assert_eq!(
            wrap("one or more objects failed to apply", 12),
            ["one or more", "objects", "failed to", "apply"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("  ", 4), Vec::<String>::new());
        assert_eq!(wrap("a  b", 10), ["a b"]);
    }

    #[test]
    fn text_is_cut_at_a_word_and_says_so() {
        assert_eq!(fit("API server and ingress down", 20), "API server and…");
        // A symbol is never left alone before the ellipsis: the word is cut instead.
        assert_eq!(fit("? unknown", 7), "? unkn…");
        assert_eq!(fit("fits", 4), "fits");
        assert_eq!(fit("supercalifragilistic", 6), "super…");
        assert_eq!(fit("⊘ cordoned", 7), "⊘ cord…");
        assert_eq!(fit("◇ approval of v1.42.0 asked", 6), "◇ app…");
        assert_eq!(fit("", 0), "");
        assert_eq!(fit("ab", 0), "");
    }
}
