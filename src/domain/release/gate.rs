//! The gate for promoting into a tier, condition by condition, as pure rules over a snapshot.

use serde::Serialize;

use super::freeze::{Freeze, frozen};
use super::settled::{app_settled, rollout, settled_at};
use super::verify::{Measured, Status, Verification};
use crate::domain::fleet::Fleet;
use crate::domain::model::{AlertState, Approval, ReleaseLock, Revision, Severity};
use crate::domain::time::{Ts, countdown};

/// The gate's conditions, in the order DESIGN.md §4 lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The tier runs a different revision than the tier below: there is something to promote.
    RevisionDiffers,
    /// Every ShopSet of the tier below is Synced at its branch head and Healthy.
    LowerTierSettled,
    /// No active alert at or above the gate severity is scoped to the tier below.
    NoAlerts,
    /// The tier below finished syncing at least its soak time ago.
    Soaked,
    /// The tier below met every verification by metrics over its soak.
    Verified,
    /// No freeze window holds the tier.
    NotFrozen,
    /// Neither the fleet nor the tier is halted.
    NotHalted,
    /// The release has not failed on the tier (it was not rolled back from there).
    ReleaseNotFailed,
    /// A second person approved exactly this change, where the tier asks for it.
    Approved,
    /// No other operator holds the release lock.
    LockFree,
}

impl Condition {
    pub fn name(self) -> &'static str {
        match self {
            Condition::RevisionDiffers => "revision_differs",
            Condition::LowerTierSettled => "lower_tier_settled",
            Condition::NoAlerts => "no_alerts",
            Condition::Soaked => "soaked",
            Condition::Verified => "verified",
            Condition::NotFrozen => "not_frozen",
            Condition::NotHalted => "not_halted",
            Condition::ReleaseNotFailed => "release_not_failed",
            Condition::Approved => "approved",
            Condition::LockFree => "lock_free",
        }
    }

    /// Alerts, soak time, verification and a freeze may be overridden, and only with a typed
    /// reason; a halt, a failed release and a missing approval never.
    pub fn overridable(self) -> bool {
        matches!(
            self,
            Condition::NoAlerts | Condition::Soaked | Condition::Verified | Condition::NotFrozen
        )
    }

    /// How much a failure of this condition says about the release, most first: what the
    /// guide shows in a blocked tier's row.
    fn weight(self) -> u8 {
        match self {
            Condition::NotHalted => 0,
            Condition::ReleaseNotFailed => 1,
            Condition::NotFrozen => 2,
            Condition::LowerTierSettled => 3,
            Condition::NoAlerts => 4,
            Condition::Verified => 5,
            Condition::Approved => 6,
            Condition::LockFree => 7,
            Condition::Soaked => 8,
            Condition::RevisionDiffers => 9,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub condition: Condition,
    pub passed: bool,
    /// Which ShopSet, alert or holder fails it, or why it passes.
    pub detail: String,
}

/// The verdict for promoting the revision of `from_tier` into `tier`.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub tier: String,
    pub from_tier: String,
    /// What `tier` runs now.
    pub current: Option<Revision>,
    /// What it would run: exactly the revision of the tier below.
    pub target: Option<Revision>,
    pub checks: Vec<Check>,
    /// Seconds of soak left, when the soak condition is what waits.
    pub soak_left: Option<i64>,
    /// The tier below's verifications, each with its value and threshold.
    pub measured: Vec<Measured>,
}

impl Gate {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    /// Passes if the operator overrides the failed conditions that may be overridden.
    pub fn passes_with_override(&self) -> bool {
        self.failed().all(|c| c.condition.overridable())
    }

    /// Failed conditions that no reason can override.
    pub fn blocking(&self) -> impl Iterator<Item = &Check> {
        self.failed().filter(|c| !c.condition.overridable())
    }

    /// The failed condition that says most: a halt before a failed release before a freeze,
    /// and so on.
    pub fn headline(&self) -> Option<&Check> {
        self.failed().min_by_key(|c| c.condition.weight())
    }

    /// Only time stands between the gate and a pass: the soak runs, and verifications hold so
    /// far.
    pub fn only_soaking(&self) -> bool {
        self.failed().next().is_some()
            && self.failed().all(|c| match c.condition {
                Condition::Soaked => true,
                Condition::Verified => self
                    .measured
                    .iter()
                    .all(|m| matches!(m.status, Status::Passed | Status::Holding)),
                _ => false,
            })
    }

    fn check(&self, c: Condition) -> Option<&Check> {
        self.checks.iter().find(|x| x.condition == c)
    }

    /// Whether condition `c` passed.
    pub fn passes(&self, c: Condition) -> bool {
        self.check(c).is_some_and(|x| x.passed)
    }
}

/// Release policy: what the gate considers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GatePolicy {
    /// Alerts at or above this severity block (critical is the most severe).
    pub min_severity: Severity,
    /// What the tier below must meet by metrics (`[[verification]]`).
    #[serde(default)]
    pub verifications: Vec<Verification>,
    /// When promotions wait (`[[freeze]]`).
    #[serde(default)]
    pub freezes: Vec<Freeze>,
}

impl Default for GatePolicy {
    fn default() -> Self {
        GatePolicy {
            min_severity: Severity::Critical,
            verifications: Vec::new(),
            freezes: Vec::new(),
        }
    }
}

/// The gate for promoting into `tier_name`; `None` for the lowest tier or an unknown one.
pub fn gate(
    fleet: &Fleet,
    tier_name: &str,
    now: Ts,
    policy: &GatePolicy,
    lock: Option<&ReleaseLock>,
    // The caller's lock session: a lock held by any other session fails the gate.
    me: &str,
) -> Option<Gate> {
    let tier = fleet.tier(tier_name)?;
    let below = fleet.tier_below(tier_name)?;
    let mut checks = Vec::new();

    let differs = match (&tier.revision, &below.revision) {
        (Some(t), Some(b)) => t.id != b.id,
        (None, Some(_)) => true,
        _ => false,
    };
    let detail = match (&tier.revision, &below.revision) {
        (_, None) => format!("'{}' runs no known revision", below.name),
        (Some(t), Some(b)) if t.id == b.id => format!("'{}' already runs {}", tier.name, b.label()),
        (t, Some(b)) => format!(
            "{} → {}",
            t.as_ref()
                .map(|r| r.label())
                .unwrap_or_else(|| "nothing".into()),
            b.label()
        ),
    };
    checks.push(Check {
        condition: Condition::RevisionDiffers,
        passed: differs,
        detail,
    });

    let mut unsettled = Vec::new();
    let sets: Vec<_> = fleet.shopsets_of_tier(&below.name).collect();
    for ss in &sets {
        match fleet.app_for(&ss.name) {
            None => unsettled.push(format!("{}: no Argo CD application", ss.name)),
            Some(app) if app_settled(app, below) => {}
            Some(app) if app.revision.is_none() || app.revision != below.head => {
                unsettled.push(format!("{}: {} not at the branch head", ss.name, app.sync));
            }
            Some(app) => unsettled.push(format!("{}: {}/{}", ss.name, app.sync, app.health)),
        }
    }
    let detail = if sets.is_empty() {
        format!("'{}' has no ShopSets", below.name)
    } else if unsettled.is_empty() {
        format!(
            "all {} ShopSets of '{}' Synced and Healthy",
            sets.len(),
            below.name
        )
    } else {
        unsettled.join("; ")
    };
    checks.push(Check {
        condition: Condition::LowerTierSettled,
        passed: rollout(fleet, below).is_settled(),
        detail,
    });

    let firing: Vec<String> = fleet
        .alerts
        .iter()
        .filter(|a| a.state == AlertState::Active && a.severity <= policy.min_severity)
        .filter(|a| {
            fleet.alert_touches_tier(a, &below.name)
                || sets.iter().any(|ss| fleet.alert_touches_shopset(a, ss))
        })
        .map(|a| {
            format!(
                "{} ({}, {})",
                a.name,
                a.severity.as_str(),
                a.scope(&fleet.scope_labels)
            )
        })
        .collect();
    // Alerts that cannot be read are not "no alerts": the condition fails, saying why.
    let (passed, detail) = match &fleet.alerts_unknown {
        Some(why) => (false, format!("alert state unknown: {why}")),
        None if firing.is_empty() => (
            true,
            format!(
                "no active {}+ alert on '{}'",
                policy.min_severity.as_str(),
                below.name
            ),
        ),
        None => (false, firing.join("; ")),
    };
    checks.push(Check {
        condition: Condition::NoAlerts,
        passed,
        detail,
    });

    let mut soak_left = None;
    let (soaked, detail) = match settled_at(fleet, below) {
        None => (false, rollout(fleet, below).why_not(&below.name)),
        Some(at) => {
            let left = i64::from(below.soak_secs) - at.secs_until(now);
            if left > 0 {
                soak_left = Some(left);
                (
                    false,
                    format!(
                        "'{}' soaks {} more (soak time {}s)",
                        below.name,
                        countdown(left),
                        below.soak_secs
                    ),
                )
            } else {
                (
                    true,
                    format!(
                        "'{}' settled {} ago",
                        below.name,
                        crate::domain::time::age(at.secs_until(now))
                    ),
                )
            }
        }
    };
    checks.push(Check {
        condition: Condition::Soaked,
        passed: soaked,
        detail,
    });

    let measured = verified(fleet, below, policy, &mut checks);
    decided(fleet, tier, below, now, policy, &mut checks);

    let (free, detail) = match lock.filter(|l| l.is_held(now)) {
        _ if fleet.lock_problem.is_some() => (
            false,
            format!(
                "the lock cannot be read: {}",
                fleet.lock_problem.as_deref().unwrap_or_default()
            ),
        ),
        Some(l) if l.session.is_empty() || l.session != me => (
            false,
            format!("locked by {} until {}", l.who(), l.expires_at.hhmmss()),
        ),
        Some(_) => (true, "held by you".to_string()),
        None => (true, "free".to_string()),
    };
    checks.push(Check {
        condition: Condition::LockFree,
        passed: free,
        detail,
    });

    Some(Gate {
        tier: tier.name.clone(),
        from_tier: below.name.clone(),
        current: tier.revision.clone(),
        target: below.revision.clone(),
        checks,
        soak_left,
        measured,
    })
}

/// The `verified` condition: the tier below met every verification, measured for the revision
/// it runs. Returns the measurements.
fn verified(
    fleet: &Fleet,
    below: &crate::domain::model::Tier,
    policy: &GatePolicy,
    checks: &mut Vec<Check>,
) -> Vec<Measured> {
    let mut push = |passed, detail| {
        checks.push(Check {
            condition: Condition::Verified,
            passed,
            detail,
        })
    };
    if policy.verifications.is_empty() {
        push(true, "no verifications configured".into());
        return Vec::new();
    }
    let running = below.revision.as_ref().map(|r| r.id.as_str());
    match fleet.verification.get(&below.name) {
        None => {
            push(false, format!("'{}' has not been measured yet", below.name));
            Vec::new()
        }
        Some(v) if v.revision.as_deref() != running => {
            push(
                false,
                format!(
                    "'{}' has not been measured at {} yet",
                    below.name,
                    below
                        .revision
                        .as_ref()
                        .map(|r| r.label())
                        .unwrap_or_else(|| "its revision".into())
                ),
            );
            v.checks.clone()
        }
        Some(v) => {
            let passed = v.passed();
            let detail = v
                .checks
                .iter()
                .filter(|m| passed || m.status != Status::Passed)
                .map(|m| m.detail.clone())
                .collect::<Vec<_>>()
                .join("; ");
            push(passed, detail);
            v.checks.clone()
        }
    }
}

/// What people decided: a freeze window, a halt, a release failed on the tier, the approval.
fn decided(
    fleet: &Fleet,
    tier: &crate::domain::model::Tier,
    below: &crate::domain::model::Tier,
    now: Ts,
    policy: &GatePolicy,
    checks: &mut Vec<Check>,
) {
    let (passed, detail) = match frozen(&policy.freezes, &tier.name, now) {
        Some(f) => (false, format!("'{}' is {}", tier.name, f.describe())),
        None => (true, format!("no freeze holds '{}'", tier.name)),
    };
    checks.push(Check {
        condition: Condition::NotFrozen,
        passed,
        detail,
    });
    let unknown = fleet
        .controls_unknown
        .as_ref()
        .map(|why| format!("halts, failed releases and approvals cannot be read: {why}"));
    let (passed, detail) = match fleet.controls.halt_of(&tier.name) {
        _ if unknown.is_some() => (false, unknown.clone().unwrap_or_default()),
        Some(h) => (
            false,
            format!(
                "{}; H (or `shopctl release resume{}`) lifts it",
                h.describe(),
                h.tier
                    .as_ref()
                    .map(|t| format!(" --tier {t}"))
                    .unwrap_or_default()
            ),
        ),
        None => (true, "not halted".into()),
    };
    checks.push(Check {
        condition: Condition::NotHalted,
        passed,
        detail,
    });
    let target = below.revision.as_ref();
    let failed = target.and_then(|t| fleet.controls.failed_on(&tier.name, &t.id));
    let (passed, detail) = match failed {
        _ if unknown.is_some() => (false, unknown.clone().unwrap_or_default()),
        Some(f) => (
            false,
            format!(
                "{} failed on '{}' ({}, by {} at {}); clearing it (C, or `shopctl release clear --tier {}`) offers it again",
                f.revision.label(),
                tier.name,
                f.reason,
                f.by,
                f.at.hhmmss(),
                tier.name
            ),
        ),
        None => (
            true,
            format!("the release has not failed on '{}'", tier.name),
        ),
    };
    checks.push(Check {
        condition: Condition::ReleaseNotFailed,
        passed,
        detail,
    });
    let (passed, detail) = match (tier.approval, target) {
        (Approval::None, _) => (true, "no approval needed".to_string()),
        (Approval::SecondPerson, None) => (false, "nothing to approve".to_string()),
        // No change, nothing to approve (revision_differs says why nothing moves).
        (Approval::SecondPerson, Some(to))
            if tier.revision.as_ref().is_some_and(|r| r.id == to.id) =>
        {
            (true, "nothing to approve: no change".to_string())
        }
        (Approval::SecondPerson, Some(_)) if unknown.is_some() => {
            (false, unknown.clone().unwrap_or_default())
        }
        (Approval::SecondPerson, Some(to)) => match fleet.controls.request_for(tier, &to.id) {
            None => (
                false,
                format!(
                    "'{}' needs a second person's approval of {} → {}; ask with a (or `shopctl release request --tier {}`)",
                    tier.name,
                    tier.revision
                        .as_ref()
                        .map(|r| r.label())
                        .unwrap_or_else(|| "nothing".into()),
                    to.label(),
                    tier.name
                ),
            ),
            Some(r) if r.approved() => (
                true,
                format!(
                    "approved by {} at {} (asked by {})",
                    r.approved_by.as_deref().unwrap_or_default(),
                    r.approved_at.map(|t| t.hhmmss()).unwrap_or_default(),
                    r.requested_by
                ),
            ),
            Some(r) => (
                false,
                format!(
                    "asked by {} at {}; waiting for a second person to approve with a (or `shopctl release approve --tier {}`)",
                    r.requested_by,
                    r.requested_at.hhmmss(),
                    tier.name
                ),
            ),
        },
    };
    checks.push(Check {
        condition: Condition::Approved,
        passed,
        detail,
    });
}

#[cfg(test)]
mod tests {
    use super::super::testing::{NOW, alert, fleet, rev};
    use super::*;
    use crate::domain::*;

    fn check(g: &Gate, c: Condition) -> &Check {
        g.checks
            .iter()
            .find(|x| x.condition == c)
            .expect("condition present")
    }

    fn g(f: &Fleet) -> Gate {
        gate(f, "prod", NOW, &GatePolicy::default(), None, "me").expect("gate")
    }

    #[test]
    fn a_settled_soaked_quiet_tier_may_be_promoted_exactly() {
        let f = fleet();
        let v = g(&f);
        assert!(v.passed(), "{v:?}");
        // Invariant 1: the target is exactly what the tier below runs, nothing else.
        assert_eq!(v.target, Some(rev(5)));
        assert_eq!(v.current, Some(rev(4)));
        assert!(
            gate(&f, "dev", NOW, &GatePolicy::default(), None, "me").is_none(),
            "nothing below dev"
        );
    }

    #[test]
    fn nothing_to_promote_when_revisions_match() {
        let mut f = fleet();
        let mut tiers = f.tiers.clone();
        tiers[1].revision = Some(rev(5));
        f.apply(FleetUpdate::Tiers(tiers));
        let v = g(&f);
        assert!(!check(&v, Condition::RevisionDiffers).passed);
        assert!(!v.passes_with_override());
    }

    #[test]
    fn an_unsynced_or_unhealthy_shopset_below_blocks_and_cannot_be_overridden() {
        for (sync, health, head) in [
            (SyncStatus::OutOfSync, HealthStatus::Healthy, "head-0"),
            (SyncStatus::Synced, HealthStatus::Degraded, "head-0"),
            (SyncStatus::Synced, HealthStatus::Healthy, "an-older-head"),
        ] {
            let mut f = fleet();
            let mut app = f.app_for("D-2").cloned().expect("app");
            app.sync = sync;
            app.health = health;
            app.revision = Some(head.into());
            f.apply(FleetUpdate::AppUpserted(app));
            let v = g(&f);
            let c = check(&v, Condition::LowerTierSettled);
            assert!(!c.passed && c.detail.contains("D-2"), "{c:?}");
            assert!(!v.passes_with_override());
            assert!(
                !check(&v, Condition::Soaked).passed,
                "not settled, so not soaking either"
            );
        }
    }

    #[test]
    fn alerts_that_cannot_be_read_fail_the_alert_condition_instead_of_passing_it() {
        let mut f = fleet();
        f.apply(FleetUpdate::AlertsUnknown(
            "'http://127.0.0.1:9093/api/v2/alerts' cannot be reached".into(),
        ));
        let c = check(&g(&f), Condition::NoAlerts).clone();
        assert!(
            !c.passed && c.detail.contains("alert state unknown"),
            "{c:?}"
        );
        f.apply(FleetUpdate::Alerts(Vec::new()));
        assert!(check(&g(&f), Condition::NoAlerts).passed);
    }

    #[test]
    fn alerts_on_the_tier_below_block_and_may_be_overridden() {
        let mut f = fleet();
        f.apply(FleetUpdate::Alerts(vec![
            alert(
                "CheckoutErrorRateHigh",
                Severity::Critical,
                &[("shopset", "D-1")],
            ),
            alert("Elsewhere", Severity::Critical, &[("shopset", "P-1")]),
            alert("JustAWarning", Severity::Warning, &[("tier", "dev")]),
        ]));
        let v = g(&f);
        let c = check(&v, Condition::NoAlerts);
        assert!(!c.passed);
        assert!(
            c.detail.contains("CheckoutErrorRateHigh")
                && !c.detail.contains("Elsewhere")
                && !c.detail.contains("JustAWarning"),
            "{c:?}"
        );
        assert!(v.passes_with_override());
        let strict = gate(
            &f,
            "prod",
            NOW,
            &GatePolicy {
                min_severity: Severity::Warning,
                ..GatePolicy::default()
            },
            None,
            "me",
        )
        .expect("gate");
        assert!(
            check(&strict, Condition::NoAlerts)
                .detail
                .contains("JustAWarning")
        );
        // A silenced alert never blocks.
        let mut silenced = f.alerts.clone();
        silenced[0].state = AlertState::Suppressed;
        f.apply(FleetUpdate::Alerts(silenced));
        assert!(g(&f).passed());
    }

    #[test]
    fn soak_time_counts_from_the_last_finished_sync() {
        let mut f = fleet();
        let mut app = f.app_for("D-1").cloned().expect("app");
        app.last_sync_finished = Some(NOW.plus_secs(-30));
        f.apply(FleetUpdate::AppUpserted(app));
        let v = g(&f);
        let c = check(&v, Condition::Soaked);
        assert!(!c.passed && c.detail.contains("1m30s"), "{c:?}");
        assert_eq!(v.soak_left, Some(90));
        assert!(v.passes_with_override());
        let later = gate(
            &f,
            "prod",
            NOW.plus_secs(90),
            &GatePolicy::default(),
            None,
            "me",
        )
        .expect("gate");
        assert!(later.passed());
    }

    #[test]
    fn another_operators_lock_blocks_until_it_expires() {
        let f = fleet();
        let lock = ReleaseLock {
            holder: "alice@ops".into(),
            session: "1".into(),
            acquired_at: NOW,
            expires_at: NOW.plus_secs(60),
            operation: None,
        };
        let v = gate(
            &f,
            "prod",
            NOW,
            &GatePolicy::default(),
            Some(&lock),
            "bob@ops",
        )
        .expect("gate");
        let c = check(&v, Condition::LockFree);
        assert!(!c.passed && c.detail.contains("alice@ops"));
        assert!(!v.passes_with_override());
        assert!(
            gate(&f, "prod", NOW, &GatePolicy::default(), Some(&lock), "1")
                .expect("gate")
                .passed()
        );
        assert!(
            gate(
                &f,
                "prod",
                NOW.plus_secs(61),
                &GatePolicy::default(),
                Some(&lock),
                "bob@ops"
            )
            .expect("gate")
            .passed()
        );
    }

    fn policy_verifying() -> GatePolicy {
        GatePolicy {
            verifications: vec![crate::domain::release::Verification {
                name: "errors".into(),
                query: "q".into(),
                compare: crate::domain::release::verify::Compare::Below,
                threshold: 0.01,
                hold_secs: None,
            }],
            ..GatePolicy::default()
        }
    }

    fn measured(revision: &str, status: Status) -> crate::domain::release::TierVerification {
        crate::domain::release::TierVerification {
            tier: "dev".into(),
            revision: Some(revision.into()),
            at: NOW,
            checks: vec![Measured {
                name: "errors".into(),
                query: "q".into(),
                compare: crate::domain::release::verify::Compare::Below,
                threshold: 0.01,
                value: Some(0.002),
                status,
                detail: format!("errors {status:?}"),
            }],
        }
    }

    #[test]
    fn verification_passes_only_when_measured_for_what_the_tier_below_runs() {
        let mut f = fleet();
        let p = policy_verifying();
        let at = |f: &Fleet| {
            gate(f, "prod", NOW, &p, None, "me")
                .expect("gate")
                .checks
                .into_iter()
                .find(|c| c.condition == Condition::Verified)
                .expect("verified")
        };
        let c = at(&f);
        assert!(!c.passed && c.detail.contains("not been measured"), "{c:?}");
        f.apply(FleetUpdate::Verified(measured(&rev(5).id, Status::Passed)));
        assert!(at(&f).passed);
        assert!(
            gate(&f, "prod", NOW, &p, None, "me")
                .expect("gate")
                .passed()
        );
        // Measured for an older revision: not this release's verification.
        f.apply(FleetUpdate::Verified(measured(&rev(4).id, Status::Passed)));
        assert!(!at(&f).passed);
        for status in [Status::Failed, Status::Unknown, Status::Holding] {
            f.apply(FleetUpdate::Verified(measured(&rev(5).id, status)));
            let g = gate(&f, "prod", NOW, &p, None, "me").expect("gate");
            assert!(!g.passed() && g.passes_with_override(), "{status:?}");
        }
        // Nothing configured: nothing to verify.
        assert!(check(&g(&fleet()), Condition::Verified).passed);
    }

    #[test]
    fn a_freeze_a_halt_a_failed_release_and_a_missing_approval_block() {
        use crate::domain::release::{
            ApprovalRequest, FailedRelease, Freeze, Halt, ReleaseControls,
        };
        let frozen = GatePolicy {
            freezes: vec![
                Freeze::parse(
                    vec!["prod".into()],
                    &NOW.plus_secs(-60).rfc3339(),
                    &NOW.plus_secs(3600).rfc3339(),
                    None,
                    "sale",
                )
                .expect("freeze"),
            ],
            ..GatePolicy::default()
        };
        let v = gate(&fleet(), "prod", NOW, &frozen, None, "me").expect("gate");
        let c = check(&v, Condition::NotFrozen);
        assert!(!c.passed && c.detail.contains("sale"), "{c:?}");
        assert!(v.passes_with_override());
        assert_eq!(
            v.headline().map(|c| c.condition),
            Some(Condition::NotFrozen)
        );

        let mut f = fleet();
        let halt = Halt {
            tier: None,
            reason: "incident".into(),
            by: "bob".into(),
            at: NOW,
        };
        f.apply(FleetUpdate::Controls(ReleaseControls {
            halts: vec![halt],
            ..Default::default()
        }));
        let v = g(&f);
        assert!(!check(&v, Condition::NotHalted).passed && !v.passes_with_override());
        assert_eq!(
            v.headline().map(|c| c.condition),
            Some(Condition::NotHalted)
        );

        let mut f = fleet();
        f.apply(FleetUpdate::Controls(ReleaseControls {
            failed: vec![FailedRelease {
                tier: "prod".into(),
                revision: rev(5),
                reason: "rolled back by bob".into(),
                by: "bob".into(),
                at: NOW,
            }],
            ..Default::default()
        }));
        let v = g(&f);
        let c = check(&v, Condition::ReleaseNotFailed);
        assert!(!c.passed && c.detail.contains("release clear"), "{c:?}");
        assert!(!v.passes_with_override());

        let mut f = fleet();
        let mut tiers = f.tiers.clone();
        tiers[1].approval = Approval::SecondPerson;
        f.apply(FleetUpdate::Tiers(tiers));
        assert!(!check(&g(&f), Condition::Approved).passed);
        let request = |approved_by: Option<&str>, to: u32| ApprovalRequest {
            name: "r".into(),
            tier: "prod".into(),
            from: Some(rev(4).id),
            to: rev(to),
            requested_by: "alice".into(),
            requested_at: NOW,
            head: Some("head-1".into()),
            approved_by: approved_by.map(str::to_string),
            approved_at: approved_by.map(|_| NOW),
        };
        for (r, passes) in [
            (request(None, 5), false),
            (request(Some("alice"), 5), false),
            (request(Some("bob"), 6), false),
            (request(Some("bob"), 5), true),
        ] {
            f.apply(FleetUpdate::Controls(ReleaseControls {
                requests: vec![r.clone()],
                ..Default::default()
            }));
            assert_eq!(check(&g(&f), Condition::Approved).passed, passes, "{r:?}");
        }
    }
}
