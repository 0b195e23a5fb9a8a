//! The command line (DESIGN.md §5).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::backends::demo::Scenario;
use crate::backends::demo::store::MAX_SCALE;

#[derive(Debug, Parser)]
#[command(
    name = "shopctl",
    version,
    about = "Operate a multi-cluster ShopSet fleet from the terminal"
)]
pub struct Cli {
    /// Use the embedded demo fleet.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Demo state directory [default: $XDG_STATE_HOME/shopctl/demo].
    #[arg(long, global = true, value_name = "DIR")]
    pub demo_dir: Option<PathBuf>,
    /// Number of shops in a new demo fleet [default: 2000].
    #[arg(
        long,
        global = true,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SCALE))
    )]
    pub demo_scale: Option<u32>,
    /// Seed for a new demo fleet (same seed, same fleet) [default: random].
    #[arg(long, global = true, value_name = "S")]
    pub demo_seed: Option<u64>,
    /// Scenario for a new demo fleet: calm, bad-release, cluster-outage [default: calm].
    #[arg(long, global = true, value_name = "NAME")]
    pub demo_scenario: Option<Scenario>,
    /// Delete and recreate the demo directory.
    #[arg(long, global = true)]
    pub demo_reset: bool,
    /// Live mode's configuration file [default: $XDG_CONFIG_HOME/shopctl/config.toml].
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "demo")]
    pub config: Option<PathBuf>,
    /// The control plane's kubeconfig context (overrides the configuration).
    #[arg(long, global = true, value_name = "NAME", conflicts_with = "demo")]
    pub context: Option<String>,
    /// Show everything, change nothing.
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Colour theme: a built-in name (see `shopctl themes`) or a path to a TOML theme file.
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// The wall-screen layout: release ladder, failure domains and alerts, read-only.
    #[arg(long, global = true)]
    pub wall: bool,
    /// Seconds each wall view shows when they do not all fit (0: no rotation).
    #[arg(long, global = true, value_name = "SECS", default_value_t = crate::limits::WALL_ROTATE_SECS, requires = "wall")]
    pub wall_rotate: u64,
    /// Record this session into FILE (JSON lines) for `shopctl replay`.
    #[arg(long, global = true, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Do not record this session automatically (a read-write console records by default).
    #[arg(long, global = true, conflicts_with = "record")]
    pub no_record: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One-shot snapshot of the whole fleet.
    Status {
        #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// List the available themes.
    Themes,
    /// Print the CRD YAML of the shopset.dev resources.
    Crds,
    /// Move a shop to other ShopSet(s).
    Reassign {
        shop: String,
        /// The target ShopSet, or two (comma-separated) for a dual shop.
        #[arg(
            long,
            value_delimiter = ',',
            required = true,
            value_name = "SHOPSET[,SHOPSET]"
        )]
        to: Vec<String>,
        /// Allow moving the shop to ShopSets of another tier (same configuration only).
        #[arg(long)]
        change_tier: bool,
        #[arg(long)]
        yes: bool,
    },
    /// Move every shop off a cluster (cordoning it first); `drain plan CLUSTER` only shows the plan.
    #[command(args_conflicts_with_subcommands = true)]
    Drain {
        #[command(subcommand)]
        plan: Option<DrainCommand>,
        cluster: Option<String>,
        #[arg(long)]
        yes: bool,
        /// Dual shops that may run on one ShopSet when no second failure domain has room.
        #[arg(long, value_delimiter = ',', value_name = "SHOP,...")]
        accept_degraded: Vec<String>,
    },
    /// Move a drained cluster's shops back to their recorded placement and uncordon it.
    Restore {
        cluster: String,
        #[arg(long)]
        yes: bool,
    },
    /// Tiers, revisions and gate verdicts; step a release up a tier or roll a tier back.
    Release {
        #[command(subcommand)]
        action: ReleaseAction,
    },
    /// The fleet as shopset.dev objects and Argo CD Applications, YAML for `kubectl apply -f -`.
    Export {
        /// The system repository the Applications track (default: the demo's remote, or
        /// `git.remote` of the configuration).
        #[arg(long, value_name = "URL")]
        repo_url: Option<String>,
        /// Include each Application's status as last read (for loading into a test API server).
        #[arg(long)]
        with_status: bool,
    },
    /// Replay a recorded session (read-only), or export it as an asciicast.
    Replay {
        /// The recording (`--record FILE`, or one in the state directory's `recordings/`).
        file: PathBuf,
        /// How much faster than recorded (0.25 to 100000).
        #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = speed)]
        speed: f64,
        /// Write an asciicast v2 file for `asciinema play` instead of replaying on screen.
        #[arg(long, value_name = "OUT.cast")]
        export_cast: Option<PathBuf>,
    },
    /// Alertmanager's silences: list them, silence alerts, expire a silence.
    Silence {
        #[command(subcommand)]
        action: SilenceAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum SilenceAction {
    /// Every silence, active and pending first, with how many firing alerts each mutes.
    List {
        #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Silence the alerts the matchers select (prints the new silence's id).
    Create {
        /// Matchers in Alertmanager's syntax, e.g. 'alertname="HighLatency"' 'cluster=~"b|c"'.
        #[arg(required = true, value_name = "MATCHER")]
        matchers: Vec<String>,
        /// How long: 30m, 2h, 1h30m, 3d (at most 30 days).
        #[arg(long = "for", value_name = "DURATION", default_value = "2h")]
        duration: String,
        /// Why the alerts are silenced (Alertmanager requires it; it goes into the audit log).
        #[arg(long, value_name = "TEXT")]
        comment: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Expire a silence now.
    Expire {
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DrainCommand {
    /// Show the plan: moves grouped source → target, loads after, blockers. Moves nothing.
    Plan {
        cluster: String,
        #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReleaseAction {
    /// Every tier's revision and the gate for promoting into it.
    Status {
        #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Every promotion and rollback (who, when, from → to, the gate, the approval, the outcome),
    /// read from the tier branches' commits.
    History {
        /// Only this tier.
        #[arg(long, value_name = "NAME")]
        tier: Option<String>,
        /// Only what happened since: a duration back from now (30d, 12h), a date (2026-11-01)
        /// or a time (RFC 3339).
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Promote into TIER the revision the tier just below it runs.
    Step {
        #[arg(long, value_name = "NAME")]
        tier: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Override failed alert and soak conditions, for this reason (goes into commit and audit).
        #[arg(long, value_name = "TEXT")]
        override_reason: Option<String>,
    },
    /// Return TIER to the revision it ran before its last promotion (a new commit).
    Rollback {
        #[arg(long, value_name = "NAME")]
        tier: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Stop every promotion on the fleet (or into one tier) until `release resume`. Not
    /// overridable; needs no operator lock.
    Halt {
        /// Halt only promotions into this tier.
        #[arg(long, value_name = "NAME")]
        tier: Option<String>,
        /// Why (shown in every console and audited).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Lift the halt of the fleet (or of one tier).
    Resume {
        #[arg(long, value_name = "NAME")]
        tier: Option<String>,
        /// Why it is safe to go on (audited).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Offer a release that failed on TIER (it was rolled back) for TIER again.
    Clear {
        #[arg(long, value_name = "NAME")]
        tier: String,
        /// Why it may be tried again (audited).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Ask a second person to approve the next step into TIER (exactly that change).
    Request {
        #[arg(long, value_name = "NAME")]
        tier: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Approve the request for the next step into TIER (someone else must have asked).
    Approve {
        #[arg(long, value_name = "NAME")]
        tier: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Follow every tier through its soak; roll back a tier with auto_rollback when a
    /// verification fails or a gating alert fires, then halt that tier. Runs until stopped.
    Watch {
        /// Look once and exit (for cron and tests).
        #[arg(long)]
        once: bool,
        /// Seconds between two looks.
        #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        interval: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

/// A replay speed: a number from 0.25 to 100000.
fn speed(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number (e.g. 10 or 0.5)"))?;
    let (lo, hi) = (
        crate::limits::REPLAY_MIN_SPEED,
        crate::limits::REPLAY_MAX_SPEED,
    );
    if x.is_finite() && (lo..=hi).contains(&x) {
        Ok(x)
    } else {
        Err(format!("'{s}' is outside {lo} to {hi}"))
    }
}

/// An invalid command line that the argument parser itself cannot see (two options that do not
/// go together, a value of the wrong shape): exit 2, as the parser's own errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);
