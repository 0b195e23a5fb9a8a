//! The fleet's vocabulary: clusters, tiers, ShopSets, shops, Argo CD applications and alerts.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::time::Ts;

/// Text from outside (an operator name, a reason, a lock file) as it may be printed on a
/// terminal or written into a commit: control characters (escape sequences, bells, line
/// breaks) become spaces.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The characters that reorder the text around them (U+202A–U+202E, U+2066–U+2069, the marks
/// U+200E, U+200F and U+061C): a name carrying one could show another name than it is, so
/// they are blanked like ESC.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// The longest reason a decision or an override takes: it goes into commit messages, audit
/// lines and every gate that shows it.
pub const REASON_MAX_CHARS: usize = 500;

/// A typed reason as it is kept — printable, trimmed — or why it is none: a reason says
/// something visible (not only spaces or invisible characters such as U+200B) and is at most
/// [`REASON_MAX_CHARS`] long.
pub fn reason(s: &str) -> Result<String, String> {
    let r = printable(s).trim().to_string();
    let invisible = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '\u{00AD}'
                    | '\u{115F}'
                    | '\u{1160}'
                    | '\u{180E}'
                    | '\u{200B}'..='\u{200D}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{3164}'
                    | '\u{FEFF}'
                    | '\u{FFA0}'
            )
    };
    if r.chars().all(invisible) {
        return Err("a reason must say something".into());
    }
    if r.chars().count() > REASON_MAX_CHARS {
        return Err(format!(
            "a reason is at most {REASON_MAX_CHARS} characters (this one has {})",
            r.chars().count()
        ));
    }
    Ok(r)
}

/// [`printable`] line by line: text of several lines (a comment) keeps its line breaks.
pub fn printable_lines(s: &str) -> String {
    s.lines().map(printable).collect::<Vec<_>>().join("\n")
}

/// Orders names the way people read them: `C-2` before `C-10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn split(s: &str) -> (&str, u64, &str) {
        let start = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
        let digits = s[start..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(s.len(), |e| start + e);
        (
            &s[..start],
            s[start..digits].parse().unwrap_or(0),
            &s[digits..],
        )
    }
    split(a).cmp(&split(b)).then_with(|| a.cmp(b))
}

/// Whether the console can talk to a workload cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reachability {
    Reachable,
    Unreachable,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub name: String,
    /// Where it runs, e.g. `on-prem`, `eks`, `gke`.
    pub provider: String,
    /// Clusters in one failure domain can fail together; dual shops never rely on one domain.
    pub failure_domain: String,
    pub server_version: Option<String>,
    pub reachability: Reachability,
    /// Since when the reachability has been what it is (unknown for a fresh view).
    pub reachability_since: Option<Ts>,
    pub nodes_ready: u32,
    pub nodes_total: u32,
    /// A cordoned cluster receives no shops.
    pub cordoned: bool,
    /// The drain in progress or done on this cluster (what a restore undoes).
    #[serde(default)]
    pub drain: Option<String>,
}

impl Cluster {
    pub fn is_reachable(&self) -> bool {
        self.reachability == Reachability::Reachable
    }
}

/// The control plane's part of a cluster (`FleetCluster.spec`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClusterSpec {
    pub name: String,
    pub provider: String,
    pub failure_domain: String,
    pub cordoned: bool,
    pub drain: Option<String>,
}

impl ClusterSpec {
    pub fn apply_to(self, c: &mut Cluster) {
        c.provider = self.provider;
        c.failure_domain = self.failure_domain;
        c.cordoned = self.cordoned;
        c.drain = self.drain;
    }

    /// A cluster known only by its spec: its status is unknown until its context answers.
    pub fn into_cluster(self) -> Cluster {
        Cluster {
            name: self.name,
            provider: self.provider,
            failure_domain: self.failure_domain,
            server_version: None,
            reachability: Reachability::Unknown,
            reachability_since: None,
            nodes_ready: 0,
            nodes_total: 0,
            cordoned: self.cordoned,
            drain: self.drain,
        }
    }
}

/// A cluster's own part, read through its context: reachability, version, nodes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClusterStatus {
    pub name: String,
    pub reachability: Reachability,
    pub reachability_since: Option<Ts>,
    pub server_version: Option<String>,
    pub nodes_ready: u32,
    pub nodes_total: u32,
}

impl ClusterStatus {
    pub fn apply_to(self, c: &mut Cluster) {
        c.reachability = self.reachability;
        c.reachability_since = self.reachability_since;
        c.server_version = self.server_version;
        c.nodes_ready = self.nodes_ready;
        c.nodes_total = self.nodes_total;
    }
}

/// The control plane's part of a tier (`Tier.spec`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TierSpec {
    pub name: String,
    pub level: u8,
    pub branch: String,
    pub soak_secs: u32,
    #[serde(default)]
    pub approval: Approval,
    #[serde(default)]
    pub auto_rollback: bool,
}

/// Who must agree before a step into a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Approval {
    /// The operator who steps decides.
    #[default]
    None,
    /// A different person approves exactly the change first.
    SecondPerson,
}

impl Approval {
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::None => "none",
            Approval::SecondPerson => "second-person",
        }
    }

    pub fn parse(s: &str) -> Option<Approval> {
        match s {
            "" | "none" => Some(Approval::None),
            "second-person" => Some(Approval::SecondPerson),
            _ => None,
        }
    }
}

impl TierSpec {
    pub fn apply_to(self, t: &mut Tier) {
        t.level = self.level;
        t.branch = self.branch;
        t.soak_secs = self.soak_secs;
        t.approval = self.approval;
        t.auto_rollback = self.auto_rollback;
    }

    /// A tier known only by its spec: what its branch pins is unknown until git is read.
    pub fn into_tier(self) -> Tier {
        Tier {
            name: self.name,
            level: self.level,
            branch: self.branch,
            revision: None,
            updated_at: None,
            head: None,
            previous: None,
            soak_secs: self.soak_secs,
            approval: self.approval,
            auto_rollback: self.auto_rollback,
        }
    }
}

/// The system repository's part of a tier: what its branch pins.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TierBranch {
    pub name: String,
    pub revision: Option<Revision>,
    pub updated_at: Option<Ts>,
    pub head: Option<String>,
    pub previous: Option<Revision>,
    /// Recent commits of the branch and the app commit each pins (newest first): what an
    /// Application synced to one of them runs.
    pub pins: Vec<(String, String)>,
}

impl TierBranch {
    pub fn apply_to(self, t: &mut Tier) {
        t.revision = self.revision;
        t.updated_at = self.updated_at;
        t.head = self.head;
        t.previous = self.previous;
    }
}

/// An app-repository commit that a tier branch pins as its `base` gitlink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// Full commit id.
    pub id: String,
    pub tag: Option<String>,
    pub subject: String,
    /// Position in the app repository's first-parent history (0 = root); higher is newer.
    pub seq: u32,
}

impl Revision {
    pub fn short(&self) -> &str {
        self.id.get(..7).unwrap_or(&self.id)
    }

    /// `a1b2c3d v1.4.0` or just the short id.
    pub fn label(&self) -> String {
        match &self.tag {
            Some(tag) => format!("{} {}", self.short(), tag),
            None => self.short().to_string(),
        }
    }
}

/// A levelled unit of update: every ShopSet belongs to exactly one tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    pub name: String,
    pub level: u8,
    /// The system-repository branch, `tier-<level>`.
    pub branch: String,
    /// What the branch pins now; `None` until it has been read.
    pub revision: Option<Revision>,
    /// When the branch head was committed (the start of the tier's last rollout).
    pub updated_at: Option<Ts>,
    /// The system-repository commit at the branch head; applications synced to it are current.
    #[serde(default)]
    pub head: Option<String>,
    /// What the branch pinned before its last change: where a rollback returns to.
    #[serde(default)]
    pub previous: Option<Revision>,
    /// How long a tier must run a revision before it may be promoted further.
    pub soak_secs: u32,
    /// Who must agree before a step into the tier.
    #[serde(default)]
    pub approval: Approval,
    /// The release watcher rolls the tier back when a verification fails or a gating alert
    /// fires during its soak.
    #[serde(default)]
    pub auto_rollback: bool,
}

/// Health of one component of a ShopSet's serving stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentHealth {
    Up,
    Progressing,
    Degraded,
    Down,
    Unknown,
}

impl ComponentHealth {
    /// Worse is higher: up, progressing, unknown, degraded, down.
    pub fn badness(self) -> u8 {
        match self {
            ComponentHealth::Up => 0,
            ComponentHealth::Progressing => 1,
            ComponentHealth::Unknown => 2,
            ComponentHealth::Degraded => 3,
            ComponentHealth::Down => 4,
        }
    }

    /// The worse of the two.
    pub fn worse(self, other: ComponentHealth) -> ComponentHealth {
        if other.badness() > self.badness() {
            other
        } else {
            self
        }
    }
}

/// The serving stack of a ShopSet, front to back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Components {
    pub lb: ComponentHealth,
    pub proxy: ComponentHealth,
    pub shop_page: ComponentHealth,
    pub cart: ComponentHealth,
    pub api: ComponentHealth,
}

impl Components {
    pub const NAMES: [&'static str; 5] = ["LB", "TLS proxy", "shop page", "cart", "API"];
    /// The Kubernetes resource behind each component, as the demo's Argo CD lists it and
    /// `export --with-status` writes it: kind and name suffix (`<shopset>-cart`).
    pub const RESOURCES: [(&'static str, &'static str); 5] = [
        ("Service", "lb"),
        ("Deployment", "tls-proxy"),
        ("Deployment", "shop-page"),
        ("Deployment", "cart"),
        ("Deployment", "api"),
    ];

    pub fn all(h: ComponentHealth) -> Components {
        Components {
            lb: h,
            proxy: h,
            shop_page: h,
            cart: h,
            api: h,
        }
    }

    pub fn as_array(&self) -> [ComponentHealth; 5] {
        [self.lb, self.proxy, self.shop_page, self.cart, self.api]
    }

    /// The worst component state, for one-symbol summaries.
    pub fn worst(&self) -> ComponentHealth {
        self.as_array()
            .into_iter()
            .max_by_key(|h| h.badness())
            .unwrap_or(ComponentHealth::Up)
    }
}

/// One full copy of the serving stack, serving a subset of the shops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopSet {
    pub name: String,
    pub tier: String,
    /// The environment it connects to (`staging`, `production`), orthogonal to the tier.
    pub configuration: String,
    pub cluster: String,
    pub capacity: u32,
    pub components: Components,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Redundancy {
    Single,
    Dual,
}

impl Redundancy {
    pub fn as_str(self) -> &'static str {
        match self {
            Redundancy::Single => "single",
            Redundancy::Dual => "dual",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shop {
    pub name: String,
    pub redundancy: Redundancy,
    /// The ShopSets serving the shop: one for single shops, two for dual shops.
    pub shopsets: Vec<String>,
    /// Where the shop was before a drain moved it, and which drain: what a restore returns to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousPlacement>,
    /// The version of the stored object this was read from (live mode: its resourceVersion),
    /// so that a write decided on this read is made only over it. Not part of what the shop
    /// is: never shown, never compared.
    #[serde(skip)]
    pub version: Option<String>,
}

impl PartialEq for Shop {
    fn eq(&self, other: &Shop) -> bool {
        self.name == other.name
            && self.redundancy == other.redundancy
            && self.shopsets == other.shopsets
            && self.previous == other.previous
    }
}

impl Eq for Shop {}

impl Shop {
    /// Is the shop on exactly these ShopSets (in any order)?
    pub fn is_on(&self, shopsets: &[String]) -> bool {
        same_shopsets(&self.shopsets, shopsets)
    }
}

/// The same ShopSets, in any order (a shop's legs have no order).
pub fn same_shopsets(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousPlacement {
    pub shopsets: Vec<String>,
    pub drain: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncStatus {
    Synced,
    OutOfSync,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HealthStatus {
    Healthy,
    Progressing,
    Degraded,
    Suspended,
    Missing,
    Unknown,
}

impl HealthStatus {
    /// Argo CD's word.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "Healthy",
            HealthStatus::Progressing => "Progressing",
            HealthStatus::Degraded => "Degraded",
            HealthStatus::Suspended => "Suspended",
            HealthStatus::Missing => "Missing",
            HealthStatus::Unknown => "Unknown",
        }
    }

    /// The health Argo CD gives the resource behind a component in this state.
    pub fn of_component(h: ComponentHealth) -> HealthStatus {
        match h {
            ComponentHealth::Up => HealthStatus::Healthy,
            ComponentHealth::Progressing => HealthStatus::Progressing,
            ComponentHealth::Degraded => HealthStatus::Degraded,
            ComponentHealth::Down => HealthStatus::Missing,
            ComponentHealth::Unknown => HealthStatus::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationPhase {
    Running,
    Terminating,
    Failed,
    Error,
    Succeeded,
}

macro_rules! display_as_debug {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    )*};
}
display_as_debug!(SyncStatus, HealthStatus, OperationPhase);

/// The Argo CD Application that deploys one ShopSet's overlay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppStatus {
    pub name: String,
    pub shopset: String,
    pub sync: SyncStatus,
    pub health: HealthStatus,
    pub operation: Option<OperationPhase>,
    /// The system-repository commit the app last synced to.
    pub revision: Option<String>,
    /// The app-repository revision (the `base` gitlink) that commit pins.
    pub app_revision: Option<String>,
    pub last_sync_finished: Option<Ts>,
    /// What else Argo CD says of it (live mode; the demo fills what it simulates).
    #[serde(default)]
    pub argo: AppDetail,
}

/// What Argo CD says of an Application beyond its summary: where its last operation synced to,
/// what it said, and the resources that are not Synced and Healthy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppDetail {
    /// A multi-source Application's revisions, one per source (`status.sync.revisions`); which
    /// one is the system repository's is read from git.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<String>,
    /// An operation was asked for and Argo CD has not taken it up yet.
    #[serde(default)]
    pub operation_pending: bool,
    /// The revision(s) the last operation synced to (`operationState.syncResult`); empty when
    /// there is no result (none yet, or cleared for a new operation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synced_revisions: Vec<String>,
    /// The last operation's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The serving stack's health, from the Application's resources (when it lists them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Components>,
    /// Resources that are not Synced or not Healthy, worst first (at most
    /// [`AppDetail::MAX_RESOURCES`]), and how many there were in all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceProblem>,
    #[serde(default)]
    pub resources_not_ok: usize,
}

impl AppDetail {
    /// Resources kept per Application: what a detail view can show.
    pub const MAX_RESOURCES: usize = 20;
}

/// One resource of an Application that is not Synced or not Healthy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceProblem {
    pub kind: String,
    pub name: String,
    pub sync: SyncStatus,
    pub health: Option<HealthStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl AppStatus {
    /// Synced and Healthy: the state a release waits for.
    pub fn is_settled(&self) -> bool {
        self.sync == SyncStatus::Synced && self.health == HealthStatus::Healthy
    }

    /// It is synced to `commit` (its revision, or one of a multi-source Application's).
    pub fn runs(&self, commit: &str) -> bool {
        self.revision.as_deref() == Some(commit) || self.argo.revisions.iter().any(|r| r == commit)
    }

    /// An operation is asked for or in flight: what Argo CD says now may be about to change.
    pub fn operation_in_flight(&self) -> bool {
        self.argo.operation_pending
            || matches!(
                self.operation,
                Some(OperationPhase::Running | OperationPhase::Terminating)
            )
    }

    /// Its last operation's result names `commit`, or there is no result to contradict it.
    pub fn last_operation_at(&self, commit: &str) -> bool {
        self.argo.synced_revisions.is_empty()
            || self.argo.synced_revisions.iter().any(|r| r == commit)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// Reads Alertmanager's free-form `severity` label; unknown values count as info.
    pub fn from_label(s: &str) -> Severity {
        match s.to_ascii_lowercase().as_str() {
            "critical" | "page" | "error" => Severity::Critical,
            "warning" | "warn" => Severity::Warning,
            _ => Severity::Info,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Active,
    /// Silenced or inhibited: still shown, never blocks.
    Suppressed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub name: String,
    pub severity: Severity,
    pub state: AlertState,
    pub labels: BTreeMap<String, String>,
    pub since: Ts,
    pub summary: String,
    /// The silences muting it (their ids), as Alertmanager says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub silenced_by: Vec<String>,
}

/// Label names that scope an alert to the fleet (configurable in live mode).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlertScopeLabels {
    pub shopset: String,
    pub tier: String,
    pub cluster: String,
}

impl Default for AlertScopeLabels {
    fn default() -> Self {
        AlertScopeLabels {
            shopset: "shopset".into(),
            tier: "tier".into(),
            cluster: "cluster".into(),
        }
    }
}

impl Alert {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }

    /// `shopset=B-1`, `tier=prod`, `cluster=B` or `fleet`: the narrowest scope the labels give.
    pub fn scope(&self, l: &AlertScopeLabels) -> String {
        for key in [&l.shopset, &l.cluster, &l.tier] {
            if let Some(v) = self.label(key) {
                return format!("{key}={v}");
            }
        }
        "fleet".to_string()
    }
}

/// The operator lock that serialises releases and drains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseLock {
    /// Operator identity, e.g. `alice@host`: what people see.
    pub holder: String,
    /// The holding session: two consoles of one operator are two sessions.
    #[serde(default)]
    pub session: String,
    pub acquired_at: Ts,
    pub expires_at: Ts,
    /// What it is held for (`drain of 'c'`), when the holder said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

impl ReleaseLock {
    /// `alice@ops (drain of 'c')`: who holds it, and for what when known.
    pub fn who(&self) -> String {
        match &self.operation {
            Some(op) => format!("{} ({op})", self.holder),
            None => self.holder.clone(),
        }
    }

    /// A lock past its expiry is stale and no longer held.
    pub fn is_held(&self, now: Ts) -> bool {
        now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_reason_says_something_visible_and_not_too_much() {
        assert_eq!(
            super::reason("  hotfix INC-7 \u{1b}[2J "),
            Ok("hotfix INC-7  [2J".into())
        );
        for nothing in ["", "   ", "\u{200b}", "\u{3164}\u{feff}", "\u{1b}"] {
            assert!(super::reason(nothing).is_err(), "{nothing:?}");
        }
        assert!(super::reason(&"x".repeat(501)).is_err());
        assert!(super::reason(&"x".repeat(500)).is_ok());
    }

    use super::*;

    #[test]
    fn control_and_reordering_characters_are_blanked() {
        assert_eq!(printable("a\u{1b}[2Jb"), "a [2Jb");
        // "shop-\u{202E}kcab" would show as "shop-back": shown as it is spelled instead.
        assert_eq!(printable("shop-\u{202E}kcab"), "shop- kcab");
        for c in [
            '\u{202A}', '\u{2066}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            assert_eq!(printable(&format!("x{c}y")), "x y", "{:?}", c);
        }
        assert_eq!(printable("café ✓"), "café ✓");
    }
}
