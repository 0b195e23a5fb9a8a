//! State as symbol + word, so that 16-colour, mono and colour-blind users read the same thing.

use crate::domain::*;

pub fn reachability(r: Reachability) -> &'static str {
    match r {
        Reachability::Reachable => "● up",
        Reachability::Unreachable => "✗ DOWN",
        Reachability::Unknown => "? unknown",
    }
}

pub fn sync(s: SyncStatus) -> &'static str {
    match s {
        SyncStatus::Synced => "✓ Synced",
        SyncStatus::OutOfSync => "≠ OutOfSync",
        SyncStatus::Unknown => "? Unknown",
    }
}

pub fn health(h: HealthStatus) -> &'static str {
    match h {
        HealthStatus::Healthy => "● Healthy",
        HealthStatus::Progressing => "◐ Progressing",
        HealthStatus::Degraded => "✗ Degraded",
        HealthStatus::Suspended => "‖ Suspended",
        HealthStatus::Missing => "∅ Missing",
        HealthStatus::Unknown => "? Unknown",
    }
}

pub fn operation(o: Option<OperationPhase>) -> &'static str {
    match o {
        None => "-",
        Some(OperationPhase::Running) => "◐ Running",
        Some(OperationPhase::Terminating) => "◌ Terminating",
        Some(OperationPhase::Failed) => "✗ Failed",
        Some(OperationPhase::Error) => "✗ Error",
        Some(OperationPhase::Succeeded) => "✓ Succeeded",
    }
}

pub fn component(c: ComponentHealth) -> &'static str {
    match c {
        ComponentHealth::Up => "●",
        ComponentHealth::Progressing => "◐",
        ComponentHealth::Degraded => "▲",
        ComponentHealth::Down => "✗",
        ComponentHealth::Unknown => "?",
    }
}

pub fn component_word(c: ComponentHealth) -> &'static str {
    match c {
        ComponentHealth::Up => "● up",
        ComponentHealth::Progressing => "◐ rolling out",
        ComponentHealth::Degraded => "▲ degraded",
        ComponentHealth::Down => "✗ down",
        ComponentHealth::Unknown => "? unknown",
    }
}

pub fn severity(s: Severity, state: AlertState) -> &'static str {
    match (state, s) {
        (AlertState::Suppressed, _) => "◌ silenced",
        (_, Severity::Critical) => "✗ critical",
        (_, Severity::Warning) => "▲ warning",
        (_, Severity::Info) => "· info",
    }
}

/// Marks rows that belong to the highlighted cluster or tier.
pub const RELATED: &str = "›";
