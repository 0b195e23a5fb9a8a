//! A small fleet for the release rules' tests: dev (level 0) and prod (level 1).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::domain::*;

pub const NOW: Ts = Ts(1_795_363_200_000);

pub fn rev(seq: u32) -> Revision {
    Revision {
        id: format!("{seq:040}"),
        tag: Some(format!("v1.{seq}.0")),
        subject: format!("release {seq}"),
        seq,
    }
}

/// dev (level 0) at revision 5, prod (level 1) at 4; dev's two ShopSets synced 300 s ago.
pub fn fleet() -> Fleet {
    let tier = |name: &str, level: u8, seq: u32| Tier {
        name: name.into(),
        level,
        branch: format!("tier-{level}"),
        revision: Some(rev(seq)),
        updated_at: Some(NOW.plus_secs(-400)),
        head: Some(format!("head-{level}")),
        previous: None,
        soak_secs: 120,
        approval: crate::domain::Approval::None,
        auto_rollback: false,
    };
    let ss = |name: &str, tier: &str, cluster: &str| ShopSet {
        name: name.into(),
        tier: tier.into(),
        configuration: "production".into(),
        cluster: cluster.into(),
        capacity: 10,
        components: Components::all(ComponentHealth::Up),
    };
    let app = |ss: &str, head: &str| AppStatus {
        name: format!("app-{ss}"),
        shopset: ss.into(),
        sync: SyncStatus::Synced,
        health: HealthStatus::Healthy,
        operation: Some(OperationPhase::Succeeded),
        revision: Some(head.into()),
        app_revision: None,
        last_sync_finished: Some(NOW.plus_secs(-300)),
        argo: AppDetail::default(),
    };
    let mut f = Fleet::new("t");
    f.apply(FleetUpdate::Tiers(vec![
        tier("dev", 0, 5),
        tier("prod", 1, 4),
    ]));
    f.apply(FleetUpdate::ShopSets(vec![
        ss("D-1", "dev", "A"),
        ss("D-2", "dev", "B"),
        ss("P-1", "prod", "A"),
    ]));
    f.apply(FleetUpdate::Apps(vec![
        app("D-1", "head-0"),
        app("D-2", "head-0"),
        app("P-1", "head-1"),
    ]));
    f.apply(FleetUpdate::Shops(Arc::new(Vec::new())));
    f.refresh();
    f
}

pub fn alert(name: &str, severity: Severity, labels: &[(&str, &str)]) -> Alert {
    Alert {
        name: name.into(),
        severity,
        state: AlertState::Active,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        since: NOW,
        summary: String::new(),
        silenced_by: Vec::new(),
    }
}
