//! Wall-clock timestamps as plain values, so rules can be tested with explicit clocks.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch (UTC).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Ts(pub i64);

impl Ts {
    pub fn now() -> Ts {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ts(d.as_millis() as i64)
    }

    /// An RFC 3339 timestamp (`2024-03-05T07:33:04Z`), as Kubernetes and Alertmanager write them.
    pub fn parse_rfc3339(s: &str) -> Option<Ts> {
        let t =
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
            .ok()
            .map(Ts)
    }

    pub fn from_secs(secs: i64) -> Ts {
        Ts(secs * 1000)
    }

    pub fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn plus_secs(self, secs: i64) -> Ts {
        Ts(self.0 + secs * 1000)
    }

    pub fn plus_ms(self, ms: i64) -> Ts {
        Ts(self.0 + ms)
    }

    /// Whole seconds from `self` to `later` (negative when `later` is earlier).
    pub fn secs_until(self, later: Ts) -> i64 {
        (later.0 - self.0).div_euclid(1000)
    }

    /// `HH:MM` of the UTC day.
    pub fn hhmm(self) -> String {
        let s = self.secs().rem_euclid(86_400);
        format!("{:02}:{:02}", s / 3600, (s / 60) % 60)
    }

    /// `HH:MM:SS` of the UTC day.
    pub fn hhmmss(self) -> String {
        let s = self.secs().rem_euclid(86_400);
        format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    }

    /// RFC 3339 in UTC, e.g. `2026-11-22T16:03:31Z`.
    pub fn rfc3339(self) -> String {
        let days = self.secs().div_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!("{y:04}-{m:02}-{d:02}T{}Z", self.hhmmss())
    }
}

/// Why a span of time (`1h30m`) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpanError {
    Empty,
    /// A character that is neither a digit nor a unit.
    NotASpan,
    /// Digits at the end with no unit after them.
    NoUnit(String),
}

/// `90m`, `2h`, `1h30m`, `3d`, `1w`: numbers each followed by a unit (s, m, h, d, w), in
/// seconds.
pub fn parse_span(s: &str) -> Result<i64, SpanError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(SpanError::Empty);
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(SpanError::NotASpan),
        };
        let n: i64 = num.parse().map_err(|_| SpanError::NotASpan)?;
        num.clear();
        total = total.saturating_add(n.saturating_mul(unit));
    }
    if !num.is_empty() {
        return Err(SpanError::NoUnit(num));
    }
    Ok(total)
}

/// Compact age such as `42s`, `7m`, `3h`, `2d` (what an operator reads at a glance).
pub fn age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Countdown such as `1m05s` or `42s`.
pub fn countdown(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_reads_back_what_it_writes() {
        let t = Ts::from_secs(1_795_363_200);
        assert_eq!(Ts::parse_rfc3339(&t.rfc3339()), Some(t));
        assert_eq!(
            Ts::parse_rfc3339("2024-03-05T07:33:04.250+01:00"),
            Ts::parse_rfc3339("2024-03-05T06:33:04Z").map(|t| t.plus_ms(250))
        );
        assert_eq!(Ts::parse_rfc3339("yesterday"), None);
    }

    use super::*;

    #[test]
    fn formats_utc() {
        let t = Ts::from_secs(1_795_363_411); // 2026-11-22T16:03:31Z
        assert_eq!(t.rfc3339(), "2026-11-22T16:03:31Z");
        assert_eq!(t.hhmm(), "16:03");
    }

    #[test]
    fn ages_and_countdowns() {
        assert_eq!(age(-3), "0s");
        assert_eq!(age(59), "59s");
        assert_eq!(age(61), "1m");
        assert_eq!(age(7200), "2h");
        assert_eq!(age(200_000), "2d");
        assert_eq!(countdown(65), "1m05s");
        assert_eq!(countdown(9), "9s");
    }
}
