//! Alertmanager silences: matchers over alert labels, for a while, with who set them and why.
//! The matcher syntax is Alertmanager's own (`name="value"`, `!=`, `=~`, `!~`; regular
//! expressions are anchored at both ends).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::model::Alert;
use super::time::Ts;

/// How a matcher compares a label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MatchOp {
    #[serde(rename = "=")]
    Equal,
    #[serde(rename = "!=")]
    NotEqual,
    #[serde(rename = "=~")]
    Regex,
    #[serde(rename = "!~")]
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }

    pub fn is_regex(self) -> bool {
        matches!(self, MatchOp::Regex | MatchOp::NotRegex)
    }

    pub fn is_equal(self) -> bool {
        matches!(self, MatchOp::Equal | MatchOp::Regex)
    }

    pub fn from_flags(is_regex: bool, is_equal: bool) -> MatchOp {
        match (is_regex, is_equal) {
            (false, true) => MatchOp::Equal,
            (false, false) => MatchOp::NotEqual,
            (true, true) => MatchOp::Regex,
            (true, false) => MatchOp::NotRegex,
        }
    }
}

/// One condition on one label.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
}

/// A value quoted as `parse_matchers` reads it back: `"` and `\` escaped, new lines and tabs
/// as `\n`, `\r`, `\t`; other control characters (which no terminal should receive) left out.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name: String = self.name.chars().filter(|c| !c.is_control()).collect();
        write!(f, "{name}{}{}", self.op.as_str(), quoted(&self.value))
    }
}

impl Matcher {
    pub fn equal(name: &str, value: &str) -> Matcher {
        Matcher {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
        }
    }

    /// Whether `labels` satisfy this matcher; a missing label counts as the empty value, as in
    /// Alertmanager. A regular expression that does not compile matches nothing.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let v = labels.get(&self.name).map_or("", String::as_str);
        match self.op {
            MatchOp::Equal => v == self.value,
            MatchOp::NotEqual => v != self.value,
            MatchOp::Regex | MatchOp::NotRegex => {
                let found = anchored(&self.value).is_ok_and(|re| re.is_match(v));
                found == (self.op == MatchOp::Regex)
            }
        }
    }
}

fn anchored(re: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&format!("^(?:{re})$"))
}

/// All matchers hold for `labels`.
pub fn all_match(matchers: &[Matcher], labels: &BTreeMap<String, String>) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

/// Matchers as typed: `alertname="X" cluster=~"b|c"`, separated by spaces or commas, values
/// quoted (with `\"` and `\\` escapes) or bare. At least one must be an equality or regular
/// expression that cannot match the empty value, as Alertmanager requires.
pub fn parse_matchers(s: &str) -> Result<Vec<Matcher>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
    let mut seen = std::collections::BTreeSet::new();
    while !rest.is_empty() {
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        if rest[name_len..].starts_with(|c: char| c.is_alphanumeric()) {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            return Err(format!(
                "'{word}' is not a label name: ASCII letters, digits and '_' only"
            ));
        }
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!(
                "expected a label name at '{}'",
                rest.chars().take(20).collect::<String>()
            ));
        }
        rest = &rest[name_len..];
        let op = if let Some(r) = rest.strip_prefix("=~") {
            rest = r;
            MatchOp::Regex
        } else if let Some(r) = rest.strip_prefix("!~") {
            rest = r;
            MatchOp::NotRegex
        } else if let Some(r) = rest.strip_prefix("!=") {
            rest = r;
            MatchOp::NotEqual
        } else if let Some(r) = rest.strip_prefix('=') {
            rest = r;
            MatchOp::Equal
        } else {
            return Err(format!("'{name}' needs =, !=, =~ or !~ and a value"));
        };
        let value;
        if let Some(r) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = r.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, 'n')) => v.push('\n'),
                        Some((_, 'r')) => v.push('\r'),
                        Some((_, 't')) => v.push('\t'),
                        Some((_, e)) => v.push(e),
                        None => break,
                    },
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => v.push(c),
                }
            }
            let Some(end) = end else {
                return Err(format!("the value of '{name}' has no closing quote"));
            };
            value = v;
            rest = &r[end..];
        } else {
            let len = rest
                .find(|c: char| c.is_whitespace() || c == ',')
                .unwrap_or(rest.len());
            value = rest[..len].to_string();
            rest = &rest[len..];
        }
        if op.is_regex()
            && let Err(e) = anchored(&value)
        {
            return Err(format!(
                "the regular expression of '{name}' is invalid: {e}"
            ));
        }
        let m = Matcher {
            name: name.to_string(),
            op,
            value,
        };
        if seen.insert(m.clone()) {
            out.push(m);
        }
        if !rest.is_empty() && !rest.starts_with(|c: char| c.is_whitespace() || c == ',') {
            return Err(format!(
                "expected a space or a comma after '{name}' at '{}'",
                rest.chars().take(20).collect::<String>()
            ));
        }
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
    }
    if out.is_empty() {
        return Err("at least one matcher is needed, e.g. alertname=\"HighLatency\"".into());
    }
    let empty = BTreeMap::new();
    if out.iter().all(|m| m.matches(&empty)) {
        return Err(
            "these matchers would match every alert; at least one must need a non-empty value"
                .into(),
        );
    }
    Ok(out)
}

/// Matchers as one line, as `parse_matchers` reads them back.
pub fn format_matchers(matchers: &[Matcher]) -> String {
    matchers
        .iter()
        .map(Matcher::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The matchers that silence exactly this alert: equality on each of its labels.
pub fn matchers_for(alert: &Alert) -> Vec<Matcher> {
    alert
        .labels
        .iter()
        .map(|(k, v)| Matcher::equal(k, v))
        .collect()
}

/// The longest silence shopctl sets: a silence is for an incident, not a way of life.
pub const MAX_SILENCE_SECS: i64 = 30 * 24 * 3600;

/// `90m`, `2h`, `1h30m`, `3d`, `45s`: a positive duration of at most 30 days, in seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    use super::time::{SpanError, parse_span};
    let t = s.trim();
    let total = parse_span(t).map_err(|e| match e {
        SpanError::Empty => "a duration is needed, e.g. 2h or 30m".to_string(),
        SpanError::NotASpan => format!("'{t}' is not a duration (use s, m, h, d, w: 1h30m)"),
        SpanError::NoUnit(num) => format!("'{t}' needs a unit after {num} (s, m, h, d or w)"),
    })?;
    if total <= 0 {
        return Err("the duration must be longer than zero".into());
    }
    if total > MAX_SILENCE_SECS {
        return Err(format!(
            "'{t}' is longer than the 30 days a silence may last"
        ));
    }
    Ok(total)
}

/// `2h`, `1h30m`, `3d`: a duration as `parse_duration` reads it back.
pub fn format_duration(secs: i64) -> String {
    let mut out = String::new();
    let mut rest = secs.max(0);
    for (unit, name) in [(86_400, 'd'), (3600, 'h'), (60, 'm'), (1, 's')] {
        if rest >= unit {
            out.push_str(&format!("{}{name}", rest / unit));
            rest %= unit;
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

/// Where a silence stands, as Alertmanager says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SilenceState {
    Active,
    Pending,
    Expired,
}

impl SilenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
            SilenceState::Expired => "expired",
        }
    }

    /// Alertmanager's `status.state`; anything else counts as expired (it mutes nothing).
    pub fn from_api(s: &str) -> SilenceState {
        match s {
            "active" => SilenceState::Active,
            "pending" => SilenceState::Pending,
            _ => SilenceState::Expired,
        }
    }
}

/// A silence as Alertmanager holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: Ts,
    pub ends_at: Ts,
    pub created_by: String,
    pub comment: String,
    pub state: SilenceState,
}

impl Silence {
    /// Mutes alerts now (Alertmanager's own state, not re-derived from the clock).
    pub fn is_active(&self) -> bool {
        self.state == SilenceState::Active
    }

    /// Mutes an alert with these labels while active.
    pub fn covers(&self, labels: &BTreeMap<String, String>) -> bool {
        all_match(&self.matchers, labels)
    }

    /// The same matchers as `other`, in any order.
    pub fn same_matchers(&self, other: &[Matcher]) -> bool {
        let mut a = self.matchers.clone();
        let mut b = other.to_vec();
        a.sort();
        b.sort();
        a.dedup();
        b.dedup();
        a == b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn matchers_read_alertmanagers_syntax_and_print_it_back() {
        let m = parse_matchers(r#"alertname="High Latency", cluster=~"b|c" tier!=dev x!~"a\"b""#)
            .unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[0], Matcher::equal("alertname", "High Latency"));
        assert_eq!(m[1].op, MatchOp::Regex);
        assert_eq!(m[2].op, MatchOp::NotEqual);
        assert_eq!(m[3].value, "a\"b");
        assert_eq!(parse_matchers(&format_matchers(&m)).unwrap(), m);
        let odd = vec![Matcher::equal("summary", "line one\nline \"two\"\t\\ end")];
        assert_eq!(parse_matchers(&format_matchers(&odd)).unwrap(), odd);
    }

    #[test]
    fn bad_matchers_say_what_is_wrong() {
        for (input, says) in [
            ("", "at least one matcher"),
            ("tier!=dev", "would match every alert"),
            ("cluster=~\".*\"", "would match every alert"),
            ("alertname", "needs =, !=, =~ or !~"),
            ("alertname=\"x", "no closing quote"),
            ("=x", "expected a label name"),
            ("a=~\"(\"", "regular expression of 'a' is invalid"),
            ("a=\"x\"b=c", "expected a space or a comma"),
            ("clüster=\"a\"", "'clüster' is not a label name"),
        ] {
            let e = parse_matchers(input).unwrap_err();
            assert!(e.contains(says), "{input:?}: {e}");
        }
    }

    #[test]
    fn regular_expressions_are_anchored_and_missing_labels_are_empty() {
        let l = labels(&[("cluster", "b2")]);
        let re = |v: &str, op| Matcher {
            name: "cluster".into(),
            op,
            value: v.into(),
        };
        assert!(!re("b", MatchOp::Regex).matches(&l));
        assert!(re("b.", MatchOp::Regex).matches(&l));
        assert!(re("b", MatchOp::NotRegex).matches(&l));
        assert!(Matcher::equal("tier", "").matches(&l));
        assert!(!Matcher::equal("tier", "dev").matches(&l));
    }

    #[test]
    fn durations_read_and_print_back() {
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration(" 2d "), Ok(172_800));
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(parse_duration(&format_duration(93_784)), Ok(93_784));
        for bad in ["", "0m", "2", "2x", "h", "31d", "99999999999999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn same_matchers_ignores_order() {
        let s = Silence {
            id: "x".into(),
            matchers: parse_matchers("a=1 b=2").unwrap(),
            starts_at: Ts::from_secs(0),
            ends_at: Ts::from_secs(10),
            created_by: "me".into(),
            comment: "c".into(),
            state: SilenceState::Active,
        };
        assert!(s.same_matchers(&parse_matchers("b=2 a=1").unwrap()));
        assert!(!s.same_matchers(&parse_matchers("a=1").unwrap()));
    }
}
