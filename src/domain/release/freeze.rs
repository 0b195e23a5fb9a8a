//! Freeze windows: times when promotions into some tiers wait (a sale weekend, every Friday
//! evening). A window is either one span of time, or a span of the week in a time zone.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::time::Ts;

/// One freeze, as the configuration's `[[freeze]]` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freeze {
    /// The tiers it freezes; empty means every tier.
    #[serde(default)]
    pub tiers: Vec<String>,
    pub window: Window,
    pub reason: String,
}

/// When a freeze holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Window {
    /// From `from` (inclusive) to `to` (exclusive).
    Once { from: Ts, to: Ts },
    /// Every week, from one weekday and time to another, in `time_zone` (an IANA name). `to`
    /// before `from` in the week spans the weekend: `Fri 16:00` to `Mon 09:00`.
    Weekly {
        from: WeekTime,
        to: WeekTime,
        time_zone: String,
    },
}

/// A weekday and time of day: `Fri 16:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WeekTime {
    /// Minutes since Monday 00:00.
    minute: u16,
}

const WEEK_MINUTES: i64 = 7 * 24 * 60;
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl WeekTime {
    pub fn new(day: u8, hour: u8, minute: u8) -> Option<WeekTime> {
        (day < 7 && hour < 24 && minute < 60).then(|| WeekTime {
            minute: u16::from(day) * 1440 + u16::from(hour) * 60 + u16::from(minute),
        })
    }

    fn day(self) -> usize {
        usize::from(self.minute / 1440)
    }

    fn hour(self) -> i8 {
        ((self.minute % 1440) / 60) as i8
    }

    fn minute(self) -> i8 {
        (self.minute % 60) as i8
    }
}

impl std::str::FromStr for WeekTime {
    type Err = String;
    fn from_str(s: &str) -> Result<WeekTime, String> {
        let bad = || format!("'{s}' is not a weekday and time such as 'Fri 16:00'");
        let (day, time) = s.trim().split_once(' ').ok_or_else(bad)?;
        let day = DAYS
            .iter()
            .position(|d| d.eq_ignore_ascii_case(day.get(..3).unwrap_or(day)))
            .filter(|_| day.len() >= 3)
            .ok_or_else(bad)?;
        let (h, m) = time.trim().split_once(':').ok_or_else(bad)?;
        let h: u8 = h.parse().map_err(|_| bad())?;
        let m: u8 = m.parse().map_err(|_| bad())?;
        WeekTime::new(day as u8, h, m).ok_or_else(bad)
    }
}

impl TryFrom<String> for WeekTime {
    type Error = String;
    fn try_from(s: String) -> Result<WeekTime, String> {
        s.parse()
    }
}

impl From<WeekTime> for String {
    fn from(w: WeekTime) -> String {
        w.to_string()
    }
}

impl fmt::Display for WeekTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:02}:{:02}",
            DAYS[self.day()],
            self.hour(),
            self.minute()
        )
    }
}

fn zone(name: &str) -> Result<jiff::tz::TimeZone, String> {
    jiff::tz::TimeZone::get(name).map_err(|_| format!("'{name}' is not a known time zone"))
}

impl Freeze {
    /// A freeze from the configuration's words: `from` and `to` are both RFC 3339 times (one
    /// window), or both weekday times such as `Fri 16:00` (every week, in `time_zone`, UTC when
    /// none is named).
    pub fn parse(
        tiers: Vec<String>,
        from: &str,
        to: &str,
        time_zone: Option<&str>,
        reason: &str,
    ) -> Result<Freeze, String> {
        if reason.trim().is_empty() {
            return Err("a freeze needs a reason (reason = \"…\")".into());
        }
        let window = match (Ts::parse_rfc3339(from), Ts::parse_rfc3339(to)) {
            (Some(f), Some(t)) => {
                if time_zone.is_some() {
                    return Err("time_zone is for weekly windows ('Fri 16:00'); RFC 3339 times carry their own offset".into());
                }
                if t <= f {
                    return Err(format!("the window ends ({to}) before it starts ({from})"));
                }
                Window::Once { from: f, to: t }
            }
            (None, None) => {
                let f: WeekTime = from.parse()?;
                let t: WeekTime = to.parse()?;
                if f == t {
                    return Err(format!(
                        "the weekly window from '{from}' to '{to}' is empty"
                    ));
                }
                let tz = time_zone.unwrap_or("UTC");
                zone(tz)?;
                Window::Weekly {
                    from: f,
                    to: t,
                    time_zone: tz.to_string(),
                }
            }
            _ => {
                return Err(format!(
                    "from '{from}' and to '{to}' must both be RFC 3339 times (2026-11-27T00:00:00Z) or both weekday times (Fri 16:00)"
                ));
            }
        };
        Ok(Freeze {
            tiers,
            window,
            reason: reason.trim().to_string(),
        })
    }

    pub fn covers_tier(&self, tier: &str) -> bool {
        self.tiers.is_empty() || self.tiers.iter().any(|t| t == tier)
    }

    /// When the window holding `now` ends; `None` when `now` is outside it.
    pub fn ends(&self, now: Ts) -> Option<Ts> {
        match &self.window {
            Window::Once { from, to } => (*from <= now && now < *to).then_some(*to),
            Window::Weekly {
                from,
                to,
                time_zone,
            } => {
                let tz = zone(time_zone).ok()?;
                let zoned = jiff::Timestamp::from_millisecond(now.0)
                    .ok()?
                    .to_zoned(tz.clone());
                let wm = i64::from(zoned.weekday().to_monday_zero_offset()) * 1440
                    + i64::from(zoned.hour()) * 60
                    + i64::from(zoned.minute());
                let (f, t) = (i64::from(from.minute), i64::from(to.minute));
                let inside = if f < t {
                    f <= wm && wm < t
                } else {
                    wm >= f || wm < t
                };
                if !inside {
                    return None;
                }
                // The next `to` after now, as a local time in the zone (so a change of
                // daylight saving time inside the window moves nothing).
                let ahead = (t - wm).rem_euclid(WEEK_MINUTES);
                let days = (wm % 1440 + ahead) / 1440;
                let date = zoned
                    .date()
                    .checked_add(jiff::Span::new().days(days))
                    .ok()?;
                let end = date
                    .at(to.hour(), to.minute(), 0, 0)
                    .to_zoned(tz)
                    .ok()?
                    .timestamp();
                Some(Ts(end.as_millisecond()))
            }
        }
    }

    /// When promotions reopen, said as the window says it: `Mon 09:00 Europe/Berlin` or
    /// `2026-12-01T00:00:00Z`.
    pub fn reopens_label(&self, at: Ts) -> String {
        match &self.window {
            Window::Once { .. } => at.rfc3339(),
            Window::Weekly { to, time_zone, .. } => format!("{to} {time_zone}"),
        }
    }

    /// The window as the configuration gives it.
    pub fn window_label(&self) -> String {
        match &self.window {
            Window::Once { from, to } => format!("{} – {}", from.rfc3339(), to.rfc3339()),
            Window::Weekly {
                from,
                to,
                time_zone,
            } => format!("every {from} – {to} {time_zone}"),
        }
    }
}

/// A tier frozen now: the freeze that holds it, and when promotions reopen (the end of every
/// window that holds it, one after another).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frozen<'a> {
    pub freeze: &'a Freeze,
    pub until: Ts,
}

impl Frozen<'_> {
    /// `frozen until Mon 09:00 Europe/Berlin: Black Friday`.
    pub fn describe(&self) -> String {
        format!(
            "frozen until {}: {}",
            self.freeze.reopens_label(self.until),
            self.freeze.reason
        )
    }
}

/// Whether `tier` is frozen at `now`, and until when.
pub fn frozen<'a>(freezes: &'a [Freeze], tier: &str, now: Ts) -> Option<Frozen<'a>> {
    let mut holding: Option<Frozen<'a>> = None;
    let mut at = now;
    // Windows that overlap or follow each other without a gap hold the tier until the last ends.
    for _ in 0..16 {
        let next = freezes
            .iter()
            .filter(|f| f.covers_tier(tier))
            .filter_map(|f| f.ends(at).map(|until| Frozen { freeze: f, until }))
            .max_by_key(|f| f.until);
        match next {
            Some(f) if holding.as_ref().is_none_or(|h| f.until > h.until) => {
                at = f.until;
                holding = Some(f);
            }
            _ => break,
        }
    }
    holding
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Ts {
        Ts::parse_rfc3339(s).expect("time")
    }

    #[test]
    fn a_one_off_window_holds_from_its_start_until_its_end() {
        let f = Freeze::parse(
            vec!["prod".into()],
            "2026-11-27T00:00:00Z",
            "2026-12-01T09:00:00+01:00",
            None,
            "Black Friday",
        )
        .expect("freeze");
        assert_eq!(f.ends(at("2026-11-26T23:59:59Z")), None);
        assert_eq!(
            f.ends(at("2026-11-27T00:00:00Z")),
            Some(at("2026-12-01T08:00:00Z"))
        );
        assert_eq!(f.ends(at("2026-12-01T08:00:00Z")), None);
        let fs = [f];
        assert!(frozen(&fs, "prod-ha", at("2026-11-28T00:00:00Z")).is_none());
        let holds = frozen(&fs, "prod", at("2026-11-28T00:00:00Z")).expect("frozen");
        assert_eq!(
            holds.describe(),
            "frozen until 2026-12-01T08:00:00Z: Black Friday"
        );
    }

    #[test]
    fn a_weekly_window_spans_the_weekend_in_its_time_zone_across_daylight_saving() {
        let f = Freeze::parse(
            vec![],
            "Fri 16:00",
            "Mon 09:00",
            Some("Europe/Berlin"),
            "weekend",
        )
        .expect("freeze");
        // Friday 2026-03-27 15:59 Berlin (UTC+1) is before; 16:00 is inside.
        assert_eq!(f.ends(at("2026-03-27T14:59:00Z")), None);
        // Summer time begins on Sunday 29 March: Monday 09:00 is 07:00 UTC.
        assert_eq!(
            f.ends(at("2026-03-27T15:00:00Z")),
            Some(at("2026-03-30T07:00:00Z"))
        );
        assert_eq!(
            f.ends(at("2026-03-29T12:00:00Z")),
            Some(at("2026-03-30T07:00:00Z"))
        );
        assert_eq!(f.ends(at("2026-03-30T07:00:00Z")), None);
        assert_eq!(f.ends(at("2026-04-01T12:00:00Z")), None);
        let fs = [f];
        let holds = frozen(&fs, "prod", at("2026-03-28T00:00:00Z")).expect("frozen");
        assert_eq!(
            holds.describe(),
            "frozen until Mon 09:00 Europe/Berlin: weekend"
        );
    }

    #[test]
    fn a_window_within_one_day_ends_the_same_day() {
        let f = Freeze::parse(vec![], "Wed 10:00", "Wed 11:30", None, "standup").expect("freeze");
        assert_eq!(
            f.ends(at("2026-12-02T10:15:00Z")),
            Some(at("2026-12-02T11:30:00Z"))
        );
        let f = Freeze::parse(vec![], "Tue 22:00", "Wed 02:00", None, "batch").expect("freeze");
        assert_eq!(
            f.ends(at("2026-12-01T23:00:00Z")),
            Some(at("2026-12-02T02:00:00Z"))
        );
        assert_eq!(
            f.ends(at("2026-12-02T01:00:00Z")),
            Some(at("2026-12-02T02:00:00Z"))
        );
    }

    #[test]
    fn windows_that_follow_each_other_hold_until_the_last_ends() {
        let a = Freeze::parse(
            vec![],
            "2026-11-27T00:00:00Z",
            "2026-11-28T00:00:00Z",
            None,
            "a",
        )
        .expect("a");
        let b = Freeze::parse(
            vec![],
            "2026-11-27T12:00:00Z",
            "2026-11-30T00:00:00Z",
            None,
            "b",
        )
        .expect("b");
        let fs = [a, b];
        let holds = frozen(&fs, "dev", at("2026-11-27T01:00:00Z")).expect("frozen");
        assert_eq!(holds.until, at("2026-11-30T00:00:00Z"));
    }

    #[test]
    fn bad_windows_are_named() {
        for (from, to, tz, reason, says) in [
            (
                "Fri 16:00",
                "2026-11-27T00:00:00Z",
                None,
                "r",
                "must both be",
            ),
            (
                "Fri 16:00",
                "Mon 09:00",
                Some("Mars/Olympus"),
                "r",
                "Mars/Olympus",
            ),
            ("Fri 25:00", "Mon 09:00", None, "r", "Fri 25:00"),
            ("Fri 16:00", "Fri 16:00", None, "r", "empty"),
            (
                "2026-11-28T00:00:00Z",
                "2026-11-27T00:00:00Z",
                None,
                "r",
                "before it starts",
            ),
            ("Fri 16:00", "Mon 09:00", None, " ", "needs a reason"),
        ] {
            let e = Freeze::parse(vec![], from, to, tz, reason).expect_err(from);
            assert!(e.contains(says), "{e}");
        }
    }
}
