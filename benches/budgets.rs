//! The performance budgets of DESIGN.md §7, at the budget's fleet size: 100,000 shops,
//! 1,000 ShopSets, 50 clusters, 10 tiers. Run with `cargo bench`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use shopctl::backends::{SourceEvent, SourceInfo};
use shopctl::domain::*;
use shopctl::ui::app::{App, Msg};
use shopctl::ui::detail::{Detail, DetailTarget};
use shopctl::ui::theme::Theme;
use shopctl::ui::update::update;

const CLUSTERS: usize = 50;
const TIERS: usize = 10;
const SHOPSETS: usize = 1000;
const SHOPS: usize = 100_000;

fn budget_fleet() -> Fleet {
    let now = Ts::from_secs(1_795_363_200);
    let clusters = (0..CLUSTERS)
        .map(|i| Cluster {
            name: format!("c{i:02}"),
            provider: if i % 3 == 0 {
                "eks".into()
            } else {
                "on-prem".into()
            },
            failure_domain: format!("fd{}", i % 7),
            server_version: Some("v1.31.4".into()),
            reachability: Reachability::Reachable,
            reachability_since: Some(now),
            nodes_ready: 20,
            nodes_total: 20,
            cordoned: false,
            drain: None,
        })
        .collect();
    let tiers = (0..TIERS)
        .map(|l| Tier {
            name: format!("tier{l}"),
            level: l as u8,
            branch: format!("tier-{l}"),
            revision: Some(Revision {
                id: format!("{:040x}", 100 - l),
                tag: Some(format!("v1.{}.0", 100 - l)),
                subject: "release".into(),
                seq: (100 - l) as u32,
            }),
            updated_at: Some(now),
            head: None,
            previous: None,
            soak_secs: 60,
            approval: Default::default(),
            auto_rollback: false,
        })
        .collect();
    let shopsets: Vec<ShopSet> = (0..SHOPSETS)
        .map(|i| ShopSet {
            name: format!("ss-{i:04}"),
            tier: format!("tier{}", i % TIERS),
            configuration: "production".into(),
            cluster: format!("c{:02}", i % CLUSTERS),
            capacity: 300,
            components: Components::all(ComponentHealth::Up),
        })
        .collect();
    let shops = (0..SHOPS)
        .map(|i| {
            let a = i % SHOPSETS;
            let dual = i % 3 == 0;
            let mut sets = vec![shopsets[a].name.clone()];
            if dual {
                sets.push(shopsets[(a + TIERS) % SHOPSETS].name.clone());
            }
            Shop {
                name: format!("shop-{i:06}"),
                redundancy: if dual {
                    Redundancy::Dual
                } else {
                    Redundancy::Single
                },
                shopsets: sets,
                previous: None,
                version: None,
            }
        })
        .collect();
    let apps = shopsets
        .iter()
        .map(|s| AppStatus {
            name: format!("shopset-{}", s.name),
            shopset: s.name.clone(),
            sync: SyncStatus::Synced,
            health: HealthStatus::Healthy,
            operation: Some(OperationPhase::Succeeded),
            revision: Some("f".repeat(40)),
            app_revision: Some("e".repeat(40)),
            last_sync_finished: Some(now),
            argo: AppDetail::default(),
        })
        .collect();
    let alerts = (0..40)
        .map(|i| Alert {
            name: "ShopPageLatencyHigh".into(),
            severity: Severity::Warning,
            state: AlertState::Active,
            labels: BTreeMap::from([("shopset".to_string(), format!("ss-{:04}", i * 7))]),
            since: now,
            summary: "p99 shop page latency above 800 ms".into(),
            silenced_by: Vec::new(),
        })
        .collect();
    let mut f = Fleet::new("bench");
    for u in [
        FleetUpdate::Clusters(clusters),
        FleetUpdate::Tiers(tiers),
        FleetUpdate::ShopSets(shopsets),
        FleetUpdate::Shops(Arc::new(shops)),
        FleetUpdate::Apps(apps),
        FleetUpdate::Alerts(alerts),
    ] {
        f.apply(u);
    }
    f.refresh();
    f
}

fn app(fleet: &Fleet, w: u16, h: u16) -> App {
    let info = SourceInfo {
        fleet: "bench".into(),
        context: "bench".into(),
        mode: "demo",
    };
    let now = Ts::from_secs(1_795_363_260);
    let mut app = App::new(info, None, now, Rect::new(0, 0, w, h));
    update(
        &mut app,
        Msg::Sources(
            fleet
                .as_updates()
                .into_iter()
                .map(SourceEvent::Update)
                .collect(),
        ),
    );
    update(
        &mut app,
        Msg::Source(SourceEvent::Heartbeat {
            source: shopctl::backends::SourceId::ControlPlane,
            at: now,
        }),
    );
    app
}

fn render(c: &mut Criterion) {
    let fleet = budget_fleet();
    let theme = Theme::load("default").expect("theme");
    let app = app(&fleet, 200, 50);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    c.bench_function("frame render, main screen 200x50", |b| {
        b.iter(|| {
            terminal
                .draw(|f| shopctl::ui::render::render(black_box(&app), &theme, f))
                .map(|_| ())
        })
    });
    c.bench_function("frame render floor: one empty block 200x50", |b| {
        b.iter(|| {
            terminal
                .draw(|f| f.render_widget(ratatui::widgets::Block::new(), f.area()))
                .map(|_| ())
        })
    });
    let mut app = app;
    update(
        &mut app,
        Msg::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char('3'),
        )),
    );
    update(
        &mut app,
        Msg::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Enter,
        )),
    );
    c.bench_function("frame render, ShopSet detail 200x50", |b| {
        b.iter(|| {
            terminal
                .draw(|f| shopctl::ui::render::render(black_box(&app), &theme, f))
                .map(|_| ())
        })
    });
}

fn filter(c: &mut Criterion) {
    let fleet = budget_fleet();
    let mut detail = Detail::open(DetailTarget::ShopSet("ss-0001".into()), &fleet);
    c.bench_function("filter shops of a ShopSet among 100k", |b| {
        b.iter(|| detail.set_filter(&fleet, black_box("shop-0".into())))
    });
    let a = app(&fleet, 200, 50);
    c.bench_function("filter 1000 ShopSets (pane)", |b| {
        b.iter(|| {
            shopctl::ui::panes::filtered::<shopctl::ui::panes::shopsets::ShopSetsPane>(
                &a.data.fleet,
                black_box("tier3"),
            )
            .len()
        })
    });
}

fn apply(c: &mut Criterion) {
    let mut fleet = budget_fleet();
    let apps = fleet.apps.clone();
    let mut i = 0;
    c.bench_function("apply one Argo CD app watch update", |b| {
        b.iter(|| {
            let mut app = apps[i % apps.len()].clone();
            app.sync = if i % 2 == 0 {
                SyncStatus::OutOfSync
            } else {
                SyncStatus::Synced
            };
            fleet.apply(FleetUpdate::AppUpserted(black_box(app)));
            i += 1;
        })
    });
    let shops: Vec<Shop> = fleet.shops.iter().take(1000).cloned().collect();
    let mut j = 0;
    c.bench_function("apply one shop watch update", |b| {
        b.iter(|| {
            fleet.apply(FleetUpdate::ShopUpserted(black_box(
                shops[j % shops.len()].clone(),
            )));
            j += 1;
        })
    });
    // A live watch event as the API server sends it: JSON decoded into a Shop object, mapped to
    // the model and applied (the budget: 10 µs per event).
    let events: Vec<Vec<u8>> = shops
        .iter()
        .map(|s| {
            serde_json::to_vec(&serde_json::json!({
                "apiVersion": "shopset.dev/v1alpha1", "kind": "Shop",
                "metadata": {"name": s.name, "resourceVersion": "12345", "uid": "0d5c8a54-0000-4000-8000-000000000000",
                             "generation": 2, "creationTimestamp": "2026-11-22T16:00:00Z",
                             "annotations": {"shopset.dev/drain": "drain-c-1796409902",
                                             "shopset.dev/previous-shopsets": "c-1"},
                             // As a real API server writes them: the creator's fields and the
                             // drain's patch.
                             "managedFields": [
                                 {"manager": "kubectl-create", "operation": "Update", "apiVersion": "shopset.dev/v1alpha1",
                                  "time": "2026-11-22T16:00:00Z", "fieldsType": "FieldsV1",
                                  "fieldsV1": {"f:spec": {".": {}, "f:redundancy": {}, "f:shopSets": {}}}},
                                 {"manager": "shopctl", "operation": "Update", "apiVersion": "shopset.dev/v1alpha1",
                                  "time": "2026-11-22T17:00:00Z", "fieldsType": "FieldsV1",
                                  "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:shopset.dev/drain": {},
                                               "f:shopset.dev/previous-shopsets": {}}},
                                               "f:spec": {"f:shopSets": {}}}}]},
                "spec": {"redundancy": s.redundancy.as_str(), "shopSets": s.shopsets}
            }))
            .unwrap_or_default()
        })
        .collect();
    let mut k = 0;
    c.bench_function("decode, map and apply one live Shop watch event", |b| {
        b.iter(|| {
            let bytes = &events[k % events.len()];
            if let Ok(obj) =
                serde_json::from_slice::<shopctl::backends::live::crds::ShopRead>(black_box(bytes))
            {
                fleet.apply(FleetUpdate::ShopUpserted(
                    shopctl::backends::live::objects::shop(&obj),
                ));
            }
            k += 1;
        })
    });
    c.bench_function(
        "refresh derived facts (counts, invariants) at 100k shops, once per batch",
        |b| {
            b.iter(|| {
                fleet.apply(FleetUpdate::ShopUpserted(shops[0].clone()));
                fleet.refresh();
            })
        },
    );
}

fn drain(c: &mut Criterion) {
    let fleet = budget_fleet();
    c.bench_function("drain plan for one of 50 clusters at 100k shops", |b| {
        b.iter(|| {
            shopctl::domain::placement::plan_drain(&fleet, black_box("c07"), &Default::default())
                .moves
                .len()
        })
    });
}

criterion_group! {
    name = budgets;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = render, filter, apply, drain
}
criterion_main!(budgets);
