//! Live mode's configuration: `--config FILE` (default `$XDG_CONFIG_HOME/shopctl/config.toml`),
//! TOML. Every key has a default except `alertmanager.url` and `git.remote`; unknown keys are
//! refused; every error names the file, the key and the value. Credentials are referenced by
//! file, never written in the configuration itself.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The whole configuration, with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where it was read from.
    pub file: PathBuf,
    pub control_plane: ControlPlane,
    pub argocd: Vec<ArgoCd>,
    pub alertmanager: Alertmanager,
    pub git: Git,
    pub lock: Lock,
    pub recording: Recording,
    /// Where verification samples come from (`[prometheus]`); none without verifications.
    pub prometheus: Option<Prometheus>,
    /// `[[verification]]`: what the tier below must meet by metrics before a step.
    pub verifications: Vec<crate::domain::release::Verification>,
    /// `[[freeze]]`: when promotions into some tiers wait.
    pub freezes: Vec<crate::domain::release::Freeze>,
}

/// Automatic recordings of the sessions that change something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Record read-write consoles by default.
    pub auto: bool,
    /// How many automatic recordings to keep (the oldest are deleted).
    pub keep: u32,
    /// How much disk they may take together, in MiB (the oldest are deleted; a recording that
    /// would take more stops).
    pub max_mib: u64,
    /// Where they go; `None`: `<state dir>/recordings`.
    pub dir: Option<PathBuf>,
}

/// The cluster holding the shopset.dev resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPlane {
    /// Kubeconfig context; `None`: the kubeconfig's current-context.
    pub context: Option<String>,
    /// `None`: `$KUBECONFIG`, else `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
}

/// One Argo CD instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgoCd {
    /// `None`: the control plane's context.
    pub context: Option<String>,
    pub namespace: String,
    /// The label that maps an Application to its ShopSet.
    pub shopset_label: String,
    /// Which resources of an Application make each component of the serving stack.
    pub components: super::argocd::StackWords,
    /// How long a release step waits for an Application busy with another operation before it
    /// gives up asking it to sync.
    pub busy_wait_secs: u32,
}

impl Default for ArgoCd {
    fn default() -> ArgoCd {
        ArgoCd {
            context: None,
            namespace: "argocd".into(),
            shopset_label: "shopset.dev/shopset".into(),
            components: super::argocd::StackWords::default(),
            busy_wait_secs: 120,
        }
    }
}

/// The Alertmanager the gate and the Alerts pane read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alertmanager {
    /// The Alertmanager, or the peers of an HA cluster in the order they are tried (`url`, or
    /// `urls`); never empty.
    pub urls: Vec<String>,
    pub labels: AlertLabels,
    /// Alerts at or above this severity block a gate.
    pub gate_severity: String,
    /// Lowest first.
    pub severities: Vec<String>,
    /// How an alert without a severity label counts: by default as the gate severity, so an
    /// unlabelled alert blocks a gate (fail closed).
    pub missing_severity: String,
    pub bearer_token_file: Option<PathBuf>,
    pub basic_auth: Option<BasicAuth>,
    pub ca_file: Option<PathBuf>,
}

/// The label names that scope an alert to the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertLabels {
    pub shopset: String,
    pub tier: String,
    pub cluster: String,
    pub severity: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prometheus {
    pub url: String,
    pub bearer_token_file: Option<PathBuf>,
    pub basic_auth: Option<BasicAuth>,
    pub ca_file: Option<PathBuf>,
    /// How often every tier is measured.
    pub interval_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuth {
    pub username: String,
    pub password_file: PathBuf,
}

/// The system repository and shopctl's working clone of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Git {
    pub remote: String,
    pub cache: PathBuf,
}

/// The operator lock: a `coordination.k8s.io/v1` Lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub namespace: String,
    pub name: String,
    pub duration_secs: u32,
}

/// What is wrong with a configuration, naming the file, the key and the value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error(
        "no configuration at '{file}': create it (see the README, 'Live mode'), pass --config FILE, or run with --demo"
    )]
    NotFound { file: PathBuf },
    #[error("cannot read the configuration '{file}': {reason}")]
    Read { file: PathBuf, reason: String },
    #[error("configuration '{file}' is not valid TOML: {reason}")]
    Syntax { file: PathBuf, reason: String },
    #[error("configuration '{file}': unknown key '{key}' (valid here: {valid})")]
    UnknownKey {
        file: PathBuf,
        key: String,
        valid: String,
    },
    #[error("configuration '{file}': key '{key}' is required ({hint})")]
    Missing {
        file: PathBuf,
        key: String,
        hint: &'static str,
    },
    #[error("configuration '{file}': key '{key}' has invalid value '{value}': {reason}")]
    Value {
        file: PathBuf,
        key: String,
        value: String,
        reason: String,
    },
}

/// The default configuration file: `$XDG_CONFIG_HOME/shopctl/config.toml`.
pub fn default_file() -> PathBuf {
    dirs::config_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")))
        .unwrap_or_else(std::env::temp_dir)
        .join("shopctl")
        .join("config.toml")
}

impl Config {
    /// Reads `file`; `context` (from `--context`) overrides the control plane's context.
    pub fn load(file: &Path, context: Option<&str>) -> Result<Config, ConfigError> {
        let src = match crate::ops::atomic::read_text_file(file, 1 << 20) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::NotFound { file: file.into() });
            }
            Err(e) => {
                return Err(ConfigError::Read {
                    file: file.into(),
                    reason: e.to_string(),
                });
            }
        };
        let mut config = Config::parse(file, &src)?;
        if let Some(c) = context {
            let key = Keys::new(file, "");
            config.control_plane.context = Some(key.name("--context", c, c)?);
        }
        Ok(config)
    }

    /// Parses the text of a configuration read from `file`.
    pub fn parse(file: &Path, src: &str) -> Result<Config, ConfigError> {
        let table: toml::Table = toml::from_str(src).map_err(|e| ConfigError::Syntax {
            file: file.into(),
            reason: e.to_string().trim().replace('\n', " "),
        })?;
        let mut root = Section::new(file, "", &table);
        let control_plane = {
            let mut s = root.section("control_plane")?;
            let cp = ControlPlane {
                context: s.name_opt("context")?,
                kubeconfig: s.path_opt("kubeconfig")?,
            };
            s.finish()?;
            cp
        };
        let argocd = match root.array_of_tables("argocd")? {
            None => vec![ArgoCd::default()],
            Some(list) => {
                let mut out = Vec::new();
                for mut s in list {
                    let d = ArgoCd::default();
                    let mut components = d.components.clone();
                    if let Some(mut c) = s.section_opt("components")? {
                        for (i, key) in super::argocd::StackWords::KEYS.into_iter().enumerate() {
                            if let Some(words) = c.words(key)? {
                                components.words[i] = words;
                            }
                        }
                        c.finish()?;
                    }
                    out.push(ArgoCd {
                        context: s.name_opt("context")?,
                        namespace: s.name_or("namespace", &d.namespace)?,
                        shopset_label: s.label_or("shopset_label", &d.shopset_label)?,
                        components,
                        busy_wait_secs: s.integer_or(
                            "busy_wait_secs",
                            d.busy_wait_secs,
                            0..=3600,
                        )?,
                    });
                    s.finish()?;
                }
                out
            }
        };
        let alertmanager = {
            let mut s = root.section("alertmanager")?;
            let urls = match (s.string("url")?, s.string_list("urls")?) {
                (Some(url), None) => {
                    s.check_url("url", &url)?;
                    vec![url]
                }
                (None, Some(urls)) => {
                    for u in &urls {
                        s.check_url("urls", u)?;
                    }
                    urls
                }
                (Some(_), Some(_)) => {
                    return Err(s.value(
                        "urls",
                        "…",
                        "use either url or urls (the peers of an HA Alertmanager), not both".into(),
                    ));
                }
                (None, None) => {
                    return Err(s.missing(
                        "url",
                        "the Alertmanager's URL, e.g. 'http://127.0.0.1:9093' (or urls = [...] for the peers of an HA Alertmanager)",
                    ));
                }
            };
            let labels = {
                let mut l = s.section("labels")?;
                let labels = AlertLabels {
                    shopset: l.label_or("shopset", "shopset")?,
                    tier: l.label_or("tier", "tier")?,
                    cluster: l.label_or("cluster", "cluster")?,
                    severity: l.label_or("severity", "severity")?,
                };
                l.finish()?;
                labels
            };
            let severities = s
                .severities("severities")?
                .unwrap_or_else(|| ["info", "warning", "critical"].map(str::to_string).to_vec());
            let gate_severity = s
                .string("gate_severity")?
                .unwrap_or_else(|| "critical".into());
            if !severities.contains(&gate_severity) {
                return Err(s.value(
                    "gate_severity",
                    &gate_severity,
                    format!("not one of the severities ({})", severities.join(", ")),
                ));
            }
            let missing_severity = s
                .string("missing_severity")?
                .unwrap_or_else(|| gate_severity.clone());
            if !severities.contains(&missing_severity) {
                return Err(s.value(
                    "missing_severity",
                    &missing_severity,
                    format!("not one of the severities ({})", severities.join(", ")),
                ));
            }
            let (bearer_token_file, basic_auth) = s.auth()?;
            let ca_file = s.path_opt("ca_file")?;
            s.finish()?;
            Alertmanager {
                urls,
                labels,
                gate_severity,
                severities,
                missing_severity,
                bearer_token_file,
                basic_auth,
                ca_file,
            }
        };
        let git = {
            let mut s = root.section("git")?;
            let remote = s.string("remote")?.ok_or_else(|| {
                s.missing(
                    "remote",
                    "the system repository, e.g. '/srv/git/platform/system.git'",
                )
            })?;
            if remote.trim().is_empty() {
                return Err(s.value("remote", &remote, "empty".into()));
            }
            if crate::git::transport::redact(&remote) != remote {
                // A password or token in the URL: never echoed; git's credential helper holds it.
                return Err(s.value(
                    "remote",
                    &crate::git::transport::redact(&remote),
                    "credentials do not belong in the URL: git's credential helper or ssh-agent provides them".into(),
                ));
            }
            let cache = s
                .path_opt("cache")?
                .unwrap_or_else(|| expand_home("~/.cache/shopctl/system"));
            s.finish()?;
            Git { remote, cache }
        };
        let lock = {
            let mut s = root.section("lock")?;
            let lock = Lock {
                namespace: s.name_or("namespace", "shopctl")?,
                name: s.name_or("name", "shopctl-release")?,
                duration_secs: s.integer_or("duration_secs", 600, 15..=3600)?,
            };
            s.finish()?;
            lock
        };
        let recording = {
            let mut s = root.section("recording")?;
            let recording = Recording {
                auto: s.bool_or("auto", true)?,
                keep: s.integer_or("keep", 50, 1..=100_000)?,
                max_mib: s.integer_or("max_mib", 1024, 1..=1_048_576)?.into(),
                dir: s.path_opt("dir")?,
            };
            s.finish()?;
            recording
        };
        let prometheus = match root.section_opt("prometheus")? {
            None => None,
            Some(mut s) => {
                let url = s.string("url")?.ok_or_else(|| {
                    s.missing("url", "Prometheus's URL, e.g. 'http://127.0.0.1:9090'")
                })?;
                s.check_url("url", &url)?;
                let (bearer_token_file, basic_auth) = s.auth()?;
                let p = Prometheus {
                    url,
                    bearer_token_file,
                    basic_auth,
                    ca_file: s.path_opt("ca_file")?,
                    // Measured at least every 15 s: its freshness is judged like the other
                    // sources' (stale after 45 s without a measurement).
                    interval_secs: s.integer_or("interval_secs", 15, 1..=15)?,
                };
                s.finish()?;
                Some(p)
            }
        };
        let verifications = verifications(&mut root)?;
        if let (Some(first), None) = (verifications.first(), &prometheus) {
            return Err(root.value(
                "verification",
                &first.name,
                "verifications are measured by Prometheus: add [prometheus] with its url".into(),
            ));
        }
        let freezes = freezes(&mut root)?;
        // The console's `[keys]`: read and checked with the console's key table (in demo mode
        // too), only accepted here.
        let _ = root.section_opt("keys")?;
        root.finish()?;
        Ok(Config {
            file: file.into(),
            control_plane,
            argocd,
            alertmanager,
            git,
            lock,
            recording,
            prometheus,
            verifications,
            freezes,
        })
    }
}

/// The `[[verification]]` tables.
fn verifications(
    root: &mut Section<'_>,
) -> Result<Vec<crate::domain::release::Verification>, ConfigError> {
    use crate::domain::release::verify::{Compare, Verification};
    let mut out: Vec<Verification> = Vec::new();
    for mut s in root.array_of_tables("verification")?.unwrap_or_default() {
        let name = s
            .string("name")?
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                s.missing(
                    "name",
                    "what the verification is called, e.g. 'checkout-errors'",
                )
            })?;
        if out.iter().any(|v| v.name == name) {
            return Err(s.value("name", &name, "two verifications have this name".into()));
        }
        let query = s
            .string("query")?
            .filter(|q| !q.trim().is_empty())
            .ok_or_else(|| {
                s.missing(
                    "query",
                    "a PromQL query; {tier}, {shopsets} and {clusters} stand for the tier's name, ShopSets and clusters",
                )
            })?;
        let compare = match s.string("compare")? {
            None => {
                return Err(s.missing(
                    "compare",
                    "how the value must compare: '<', '<=', '>' or '>='",
                ));
            }
            Some(c) => Compare::parse(&c)
                .ok_or_else(|| s.value("compare", &c, "expected '<', '<=', '>' or '>='".into()))?,
        };
        let threshold = s.float("threshold")?.ok_or_else(|| {
            s.missing(
                "threshold",
                "the number the value is compared with, e.g. 0.01",
            )
        })?;
        let hold_secs = match s.get("hold_secs") {
            None => None,
            Some(_) => Some(s.integer_or("hold_secs", 0, 1..=7 * 24 * 3600)?),
        };
        s.finish()?;
        out.push(Verification {
            name,
            query,
            compare,
            threshold,
            hold_secs,
        });
    }
    Ok(out)
}

/// The `[[freeze]]` tables (read in demo mode too).
fn freezes(root: &mut Section<'_>) -> Result<Vec<crate::domain::release::Freeze>, ConfigError> {
    let mut out = Vec::new();
    for mut s in root.array_of_tables("freeze")?.unwrap_or_default() {
        let tiers = match s.get("tiers") {
            None => Vec::new(),
            Some(toml::Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| s.value("tiers", "…", "expected tier names".into()))?,
            Some(v) => {
                return Err(s.wrong_type(
                    "tiers",
                    v,
                    "a non-empty list of tier names (leave tiers out to freeze every tier)",
                ));
            }
        };
        let from = s.string("from")?.ok_or_else(|| {
            s.missing(
                "from",
                "when it starts: '2026-11-27T00:00:00Z', or 'Fri 16:00' every week",
            )
        })?;
        let to = s.string("to")?.ok_or_else(|| {
            s.missing(
                "to",
                "when it ends: '2026-12-01T09:00:00Z', or 'Mon 09:00' every week",
            )
        })?;
        let time_zone = s.string("time_zone")?;
        let reason = s.string("reason")?.unwrap_or_default();
        if reason.trim().is_empty() {
            return Err(s.missing("reason", "why promotions wait, shown in the gate"));
        }
        let f =
            crate::domain::release::Freeze::parse(tiers, &from, &to, time_zone.as_deref(), &reason)
                .map_err(|e| {
                    // Named by the key it is about.
                    match &time_zone {
                        Some(tz) if e.contains("time zone") || e.contains("time_zone") => {
                            s.value("time_zone", tz, e)
                        }
                        _ if e.contains(&format!("'{to}'"))
                            && !e.contains(&format!("'{from}'")) =>
                        {
                            s.value("to", &to, e)
                        }
                        _ => s.value("from", &from, e),
                    }
                })?;
        s.finish()?;
        out.push(f);
    }
    Ok(out)
}

/// The `[[freeze]]` tables of the configuration text `src` read from `file`: demo mode reads
/// them (and `[keys]`) and nothing else.
pub fn freezes_in(
    file: &Path,
    table: &toml::Table,
) -> Result<Vec<crate::domain::release::Freeze>, ConfigError> {
    let mut root = Section::new(file, "", table);
    freezes(&mut root)
}

/// `~/…` is the home directory.
fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(p),
    }
}

/// Names a key by its path (`alertmanager.labels.tier`) for errors.
struct Keys<'a> {
    file: &'a Path,
    prefix: String,
}

impl<'a> Keys<'a> {
    fn new(file: &'a Path, prefix: &str) -> Keys<'a> {
        Keys {
            file,
            prefix: prefix.into(),
        }
    }

    fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.into()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    fn value(&self, key: &str, value: &str, reason: String) -> ConfigError {
        ConfigError::Value {
            file: self.file.into(),
            key: self.path(key),
            value: value.into(),
            reason,
        }
    }

    /// A Kubernetes object name or context name: what the API accepts.
    fn name(&self, key: &str, value: &str, shown: &str) -> Result<String, ConfigError> {
        if value.is_empty() || value.chars().any(char::is_control) || value.len() > 253 {
            return Err(self.value(key, shown, "expected a non-empty name".into()));
        }
        Ok(value.into())
    }
}

/// One table of the configuration, and which of its keys were read.
struct Section<'a> {
    keys: Keys<'a>,
    table: &'a toml::Table,
    seen: HashSet<&'static str>,
}

impl<'a> Section<'a> {
    fn new(file: &'a Path, prefix: &str, table: &'a toml::Table) -> Section<'a> {
        Section {
            keys: Keys::new(file, prefix),
            table,
            seen: HashSet::new(),
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'a toml::Value> {
        self.seen.insert(key);
        self.table.get(key)
    }

    fn value(&self, key: &str, value: &str, reason: String) -> ConfigError {
        self.keys.value(key, value, reason)
    }

    fn missing(&self, key: &str, hint: &'static str) -> ConfigError {
        ConfigError::Missing {
            file: self.keys.file.into(),
            key: self.keys.path(key),
            hint,
        }
    }

    fn wrong_type(&self, key: &str, v: &toml::Value, expected: &str) -> ConfigError {
        self.value(key, &shown(v), format!("expected {expected}"))
    }

    /// The sub-table `key`, empty when absent.
    fn section(&mut self, key: &'static str) -> Result<Section<'a>, ConfigError> {
        static EMPTY: std::sync::OnceLock<toml::Table> = std::sync::OnceLock::new();
        Ok(self.section_opt(key)?.unwrap_or_else(|| {
            Section::new(
                self.keys.file,
                &self.keys.path(key),
                EMPTY.get_or_init(toml::Table::new),
            )
        }))
    }

    fn section_opt(&mut self, key: &'static str) -> Result<Option<Section<'a>>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::Table(t)) => {
                Ok(Some(Section::new(self.keys.file, &self.keys.path(key), t)))
            }
            Some(v) => Err(self.wrong_type(key, v, "a table")),
        }
    }

    fn array_of_tables(
        &mut self,
        key: &'static str,
    ) -> Result<Option<Vec<Section<'a>>>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::Array(items)) if !items.is_empty() => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    toml::Value::Table(t) => Ok(Section::new(
                        self.keys.file,
                        &format!("{}[{i}]", self.keys.path(key)),
                        t,
                    )),
                    other => Err(self.wrong_type(key, other, &format!("a table ([[{key}]])"))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => Err(self.wrong_type(key, v, &format!("one or more [[{key}]] tables"))),
        }
    }

    fn string(&mut self, key: &'static str) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.wrong_type(key, v, "a string")),
        }
    }

    fn name_opt(&mut self, key: &'static str) -> Result<Option<String>, ConfigError> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => self.keys.name(key, &s, &s).map(Some),
        }
    }

    /// A Kubernetes namespace or object name: lowercase DNS-1123.
    fn name_or(&mut self, key: &'static str, default: &str) -> Result<String, ConfigError> {
        let s = self.string(key)?.unwrap_or_else(|| default.into());
        let ok = !s.is_empty()
            && s.len() <= 63
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(s)
        } else {
            Err(self.value(
                key,
                &s,
                "expected a Kubernetes name: lowercase letters, digits and '-', at most 63".into(),
            ))
        }
    }

    /// A label name (`shopset`, `shopset.dev/shopset`).
    fn label_or(&mut self, key: &'static str, default: &str) -> Result<String, ConfigError> {
        let s = self.string(key)?.unwrap_or_else(|| default.into());
        let ok = !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
        if ok {
            Ok(s)
        } else {
            Err(self.value(key, &s, "expected a label name".into()))
        }
    }

    fn path_opt(&mut self, key: &'static str) -> Result<Option<PathBuf>, ConfigError> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Err(self.value(key, &s, "empty path".into())),
            Some(s) => Ok(Some(expand_home(&s))),
        }
    }

    fn float(&mut self, key: &'static str) -> Result<Option<f64>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::Float(f)) if f.is_finite() => Ok(Some(*f)),
            Some(toml::Value::Integer(n)) => Ok(Some(*n as f64)),
            Some(v) => Err(self.wrong_type(key, v, "a number")),
        }
    }

    /// `bearer_token_file`, or `[basic_auth]` with `username` and `password_file`: secrets are
    /// read from files, never written in the configuration.
    fn auth(&mut self) -> Result<(Option<PathBuf>, Option<BasicAuth>), ConfigError> {
        let bearer_token_file = self.path_opt("bearer_token_file")?;
        let basic_auth = match self.section_opt("basic_auth")? {
            None => None,
            Some(mut b) => {
                if b.get("password").is_some() {
                    // The value is never repeated: it is a secret.
                    return Err(b.value(
                        "password",
                        "(hidden)",
                        "passwords are never written in the configuration: put it in a file and name the file with password_file".into(),
                    ));
                }
                let username = b
                    .string("username")?
                    .ok_or_else(|| b.missing("username", "the basic auth user"))?;
                let password_file = b.path_opt("password_file")?.ok_or_else(|| {
                    b.missing(
                        "password_file",
                        "a file holding the password; passwords are never written in the configuration",
                    )
                })?;
                b.finish()?;
                Some(BasicAuth {
                    username,
                    password_file,
                })
            }
        };
        if bearer_token_file.is_some() && basic_auth.is_some() {
            return Err(self.value(
                "basic_auth",
                "…",
                "use either bearer_token_file or basic_auth, not both".into(),
            ));
        }
        Ok((bearer_token_file, basic_auth))
    }

    fn bool_or(&mut self, key: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(v) => Err(self.wrong_type(key, v, "true or false")),
        }
    }

    fn integer_or(
        &mut self,
        key: &'static str,
        default: u32,
        range: std::ops::RangeInclusive<u32>,
    ) -> Result<u32, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(toml::Value::Integer(n)) => u32::try_from(*n)
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    self.value(
                        key,
                        &n.to_string(),
                        format!("expected {} to {}", range.start(), range.end()),
                    )
                }),
            Some(v) => Err(self.wrong_type(key, v, "an integer")),
        }
    }

    fn severities(&mut self, key: &'static str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let list: Option<Vec<String>> = match v {
            toml::Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => None,
        };
        let list =
            list.ok_or_else(|| self.wrong_type(key, v, "a list of severity names, lowest first"))?;
        let unique: HashSet<&String> = list.iter().collect();
        if unique.len() != list.len() {
            return Err(self.value(key, &shown(v), "a severity is named twice".into()));
        }
        Ok(Some(list))
    }

    /// A non-empty list of strings (`urls = ["http://a:9093", "http://b:9093"]`).
    fn string_list(&mut self, key: &'static str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        match v {
            toml::Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>()
                .map(Some)
                .ok_or_else(|| self.wrong_type(key, v, "a list of URLs")),
            _ => Err(self.wrong_type(key, v, "a non-empty list of URLs")),
        }
    }

    /// A list of words to find in resource names (`["shop-page", "storefront"]`); an empty
    /// list takes the component out of what Argo CD is read for.
    fn words(&mut self, key: &'static str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let expected = "a list of words such as [\"shop-page\", \"storefront\"]";
        let toml::Value::Array(items) = v else {
            return Err(self.wrong_type(key, v, expected));
        };
        let words: Option<Vec<String>> = items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect();
        let words = words.ok_or_else(|| self.wrong_type(key, v, expected))?;
        match words.iter().find(|w| {
            w.is_empty()
                || !w
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        }) {
            Some(bad) => Err(self.value(
                key,
                bad,
                "expected a word of a resource name: letters, digits, '-', '.' or '_'".into(),
            )),
            None => Ok(Some(
                words.into_iter().map(|w| w.to_ascii_lowercase()).collect(),
            )),
        }
    }

    fn check_url(&self, key: &str, url: &str) -> Result<(), ConfigError> {
        let bad = |reason: &str| self.value(key, url, reason.into());
        if let Some((scheme, rest)) = url.split_once("://")
            && let authority = rest.split(['/', '?', '#']).next().unwrap_or("")
            && let Some((_, host)) = authority.rsplit_once('@')
        {
            // Credentials in the URL: never echoed, never sent; they belong in a file.
            let path = &rest[authority.len()..];
            return Err(self.value(
                key,
                &format!("{scheme}://…@{host}{path}"),
                "credentials do not belong in the URL: use basic_auth with password_file, or bearer_token_file".into(),
            ));
        }
        let uri: http::Uri = url
            .parse()
            .map_err(|_| bad("expected a URL such as 'http://127.0.0.1:9093'"))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            _ => return Err(bad("expected an http:// or https:// URL")),
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(bad("the URL names no host"));
        }
        Ok(())
    }

    /// Refuses the keys nobody read.
    fn finish(self) -> Result<(), ConfigError> {
        let mut unknown: Vec<&String> = self
            .table
            .keys()
            .filter(|k| !self.seen.contains(k.as_str()))
            .collect();
        unknown.sort();
        match unknown.first() {
            None => Ok(()),
            Some(k) => {
                let mut valid: Vec<&str> = self.seen.iter().copied().collect();
                valid.sort_unstable();
                Err(ConfigError::UnknownKey {
                    file: self.keys.file.into(),
                    key: self.keys.path(k),
                    valid: valid.join(", "),
                })
            }
        }
    }
}

/// A value as the configuration wrote it, for messages.
fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
