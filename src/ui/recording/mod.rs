//! Recorded sessions: the console's messages as JSON lines, enough to replay a session exactly.
//!
//! The first line is a [`Header`] (who, what fleet, the terminal's size); every other line is one
//! message the console's `update` received, with the milliseconds since the session started:
//!
//! ```text
//! {"shopctl_recording":1,"started":1795000000000,"fleet":"demo",…}
//! {"t":0,"kind":"source","event":{"Update":{"Clusters":[…]}}}
//! {"t":1003,"kind":"tick","now":1795000001003}
//! {"t":2210,"kind":"key","key":{"code":{"Char":"j"},"modifiers":"","kind":"Press","state":""}}
//! ```
//!
//! Source events, the operator's keys and pastes, resizes, ticks and what the executor reported
//! (mutations with their results, drain progress) are recorded; effects are not, because a
//! replay never runs them. Nothing secret is written: the console never holds credentials, and
//! every line is scrubbed of URL credentials and bearer tokens before it is written.

pub mod cast;
pub mod file;
pub mod player;
pub mod writer;

use std::sync::OnceLock;

use crossterm::event::KeyEvent;
use serde::{Deserialize, Serialize};

use super::app::{App, Ending, Msg};
use crate::backends::{SourceEvent, SourceInfo};
use crate::domain::Ts;
use crate::domain::release::GatePolicy;
use crate::ops::drain::DrainReport;
use crate::ops::{Denial, Done, Mutation, OpsError};

/// The format's version, the header's `shopctl_recording` field.
pub const VERSION: u32 = 1;

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub shopctl_recording: u32,
    /// When the session started.
    pub started: Ts,
    /// The fleet's name, the context and the mode (`demo`, `live`) as the header showed them.
    pub fleet: String,
    pub context: String,
    pub mode: String,
    pub width: u16,
    pub height: u16,
    /// The operator (`alice@host`) and the session's lock identity.
    pub operator: String,
    pub session: String,
    /// The session could write (a replay shows its dialogs as the operator saw them).
    pub writes: bool,
    #[serde(default)]
    pub denied: Vec<Denial>,
    pub policy: GatePolicy,
    /// The wall-screen layout.
    #[serde(default)]
    pub wall: bool,
    /// The keys the session's configuration rebound (`[keys]`), by action: the replay reads
    /// the recorded key presses with them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub keys: std::collections::BTreeMap<String, Vec<String>>,
}

impl Header {
    /// The header of a session starting now with `app` as it is.
    pub fn of(app: &App) -> Header {
        Header {
            shopctl_recording: VERSION,
            started: app.data.now,
            fleet: app.session.info.fleet.clone(),
            context: app.session.info.context.clone(),
            mode: app.session.info.mode.to_string(),
            width: app.view.size.width,
            height: app.view.size.height,
            operator: app.session.operator.clone(),
            session: app.session.id.clone(),
            writes: !app.readonly(),
            denied: app.session.denied.clone(),
            policy: app.session.policy.clone(),
            wall: app.view.wall.is_some(),
            keys: crate::ui::keymap::keys().names(),
        }
    }

    /// Where the recorded data came from, as the header names it.
    pub fn info(&self) -> SourceInfo {
        SourceInfo {
            fleet: self.fleet.clone(),
            context: self.context.clone(),
            mode: match self.mode.as_str() {
                "demo" => "demo",
                "live" => "live",
                _ => "recorded",
            },
        }
    }
}

/// One recorded message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    Key {
        key: KeyEvent,
    },
    Paste {
        text: String,
    },
    Resize {
        width: u16,
        height: u16,
    },
    Source {
        event: SourceEvent,
    },
    Tick {
        now: Ts,
    },
    Notice {
        text: String,
        bad: bool,
    },
    DrainProgress {
        done: usize,
        total: usize,
    },
    DrainDone {
        result: Result<DrainReport, OpsError>,
    },
    Executed {
        mutation: Box<Mutation>,
        result: Result<Done, OpsError>,
    },
    Terminate {
        why: Ending,
    },
}

/// A recorded message and when it arrived, in milliseconds since the session started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub t: u64,
    #[serde(flatten)]
    pub entry: Entry,
}

impl Entry {
    /// The entries a message is recorded as (a batch of source events is one entry each).
    pub fn of(msg: &Msg) -> Vec<Entry> {
        match msg {
            Msg::Key(key) => vec![Entry::Key { key: *key }],
            Msg::Paste(text) => vec![Entry::Paste { text: text.clone() }],
            Msg::Resize(width, height) => vec![Entry::Resize {
                width: *width,
                height: *height,
            }],
            Msg::Source(event) => vec![Entry::Source {
                event: event.clone(),
            }],
            Msg::Sources(events) => events
                .iter()
                .map(|event| Entry::Source {
                    event: event.clone(),
                })
                .collect(),
            Msg::Tick(now) => vec![Entry::Tick { now: *now }],
            Msg::Terminate(why) => vec![Entry::Terminate { why: *why }],
            Msg::Notice { text, bad } => vec![Entry::Notice {
                text: text.clone(),
                bad: *bad,
            }],
            Msg::DrainProgress { done, total } => vec![Entry::DrainProgress {
                done: *done,
                total: *total,
            }],
            Msg::DrainDone(result) => vec![Entry::DrainDone {
                result: result.clone(),
            }],
            Msg::Executed { mutation, result } => vec![Entry::Executed {
                mutation: mutation.clone(),
                result: result.clone(),
            }],
        }
    }

    /// The message to replay.
    pub fn into_msg(self) -> Msg {
        match self {
            Entry::Key { key } => Msg::Key(key),
            Entry::Paste { text } => Msg::Paste(text),
            Entry::Resize { width, height } => Msg::Resize(width, height),
            Entry::Source { event } => Msg::Source(event),
            Entry::Tick { now } => Msg::Tick(now),
            Entry::Notice { text, bad } => Msg::Notice { text, bad },
            Entry::DrainProgress { done, total } => Msg::DrainProgress { done, total },
            Entry::DrainDone { result } => Msg::DrainDone(result),
            Entry::Executed { mutation, result } => Msg::Executed { mutation, result },
            Entry::Terminate { why } => Msg::Terminate(why),
        }
    }
}

/// Masks what could be a secret in a serialized line: credentials in URLs
/// (`https://user:pass@host`) and bearer tokens or `token=`/`password=` values.
pub fn scrub(line: &str) -> std::borrow::Cow<'_, str> {
    static URL: OnceLock<Option<regex::Regex>> = OnceLock::new();
    static TOKEN: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let url =
        URL.get_or_init(|| regex::Regex::new(r#"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s"'@]+@"#).ok());
    let token = TOKEN.get_or_init(|| {
        regex::Regex::new(
            r#"(?i)(bearer\s+|(?:token|password|passwd|secret|api[_-]?key)\s*[=:]\s*)[^\s"',;}&]+"#,
        )
        .ok()
    });
    let mut out = std::borrow::Cow::Borrowed(line);
    if let Some(re) = url.as_ref()
        && re.is_match(&out)
    {
        out = std::borrow::Cow::Owned(re.replace_all(&out, "${1}…@").into_owned());
    }
    if let Some(re) = token.as_ref()
        && re.is_match(&out)
    {
        out = std::borrow::Cow::Owned(re.replace_all(&out, "${1}…").into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_tokens_are_masked() {
        let s = scrub(
            r#"{"message":"GET https://bob:hunter2@am.example/api: 401 Bearer abc.def token=xyz"}"#,
        );
        assert!(!s.contains("hunter2"), "{s}");
        assert!(!s.contains("abc.def"), "{s}");
        assert!(!s.contains("xyz"), "{s}");
        assert!(s.contains("https://…@am.example/api"), "{s}");
        assert_eq!(
            scrub("plain words, a token of thanks"),
            "plain words, a token of thanks"
        );
    }
}
