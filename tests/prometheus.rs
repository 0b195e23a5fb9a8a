//! Verification by metrics against a real Prometheus (Debian package `prometheus`), started on
//! 127.0.0.1 with a temporary TSDB, scraping a test exporter every second whose values the test
//! sets. A good release passes, a bad one fails `verified`, a refused query and a dead
//! Prometheus fail closed. Its absence is a failure, not a skip.

#[path = "support/prometheus.rs"]
mod prometheus_env;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_env::{Scrapes, Values, exporter, start};
use shopctl::backends::live::config::Prometheus;
use shopctl::backends::live::prometheus::PrometheusClient;
use shopctl::domain::Ts;
use shopctl::domain::release::verify::{Compare, Status, Verification, Window, judge};
use shopctl::ops::verify::MetricsSource;

fn client(url: &str) -> PrometheusClient {
    PrometheusClient::new(&Prometheus {
        url: url.into(),
        bearer_token_file: None,
        basic_auth: None,
        ca_file: None,
        interval_secs: 15,
    })
    .expect("client")
}

fn verification(query: &str) -> Verification {
    Verification {
        name: "checkout-errors".into(),
        query: query.into(),
        compare: Compare::Below,
        threshold: 0.01,
        hold_secs: Some(3),
    }
}

/// beta's window: its two ShopSets, since `from`, settled then.
fn window(from: Ts) -> Window {
    Window {
        tier: "beta".into(),
        revision: Some("r".into()),
        from,
        synced: true,
        to: Ts::now(),
        settled: Some(from),
        soak_secs: 3,
        shopsets: vec!["a-1".into(), "a-2".into()],
        clusters: vec!["a".into()],
    }
}

/// Measures after each scrape until `done` says the result is the one waited for.
async fn measure_until(
    prom: &PrometheusClient,
    scrapes: &mut Scrapes,
    v: &Verification,
    from: Ts,
    done: impl Fn(&shopctl::domain::release::verify::Measured) -> bool,
) -> shopctl::domain::release::verify::Measured {
    // A minute of scrapes at most (one a second).
    for _ in 0..60 {
        let w = window(from);
        let m = judge(v, &w, prom.samples(v, &w).await);
        if done(&m) {
            return m;
        }
        scrapes.next(Duration::from_secs(10)).await;
    }
    let w = window(from);
    panic!(
        "not within 60 scrapes; last: {:?}",
        judge(v, &w, prom.samples(v, &w).await)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_release_passes_a_bad_one_fails_and_a_dead_prometheus_fails_closed() {
    let values: Values = Arc::new(Mutex::new(vec![
        ("a-1".into(), 0.002),
        ("a-2".into(), 0.003),
        // Another tier's ShopSet: its errors are not beta's.
        ("z-9".into(), 0.5),
    ]));
    let target = exporter(Arc::clone(&values)).await;
    let prom = start(target).await;
    let mut scrapes = prom.scrapes.clone();
    let c = client(&prom.url);
    let from = Ts::now();
    // Per ShopSet, as an SRE would write it for a tier: {shopsets} is beta's ShopSets.
    let v = verification("max by (shopset) (checkout_error_ratio{shopset=~\"{shopsets}\"})");

    // Good: below the threshold for the hold time since it settled.
    let good = measure_until(&c, &mut scrapes, &v, from, |m| m.status == Status::Passed).await;
    assert!(
        good.value.is_some_and(|x| x < 0.01),
        "z-9's 0.5 is another tier's: {good:?}"
    );
    assert!(good.query.contains("a-1|a-2"), "{}", good.query);

    // Bad: one ShopSet's errors jump; the verification fails, naming it and the value.
    values.lock().expect("values")[1].1 = 0.08;
    let bad = measure_until(&c, &mut scrapes, &v, from, |m| m.status != Status::Passed).await;
    assert_eq!(bad.status, Status::Failed, "{bad:?}");
    assert!(
        bad.detail.contains("0.08") && bad.detail.contains("shopset=\"a-2\""),
        "{}",
        bad.detail
    );
    assert_eq!(bad.value, Some(0.08));

    // A query Prometheus refuses is unknown, in Prometheus's words — never a pass.
    let refused = verification("max(checkout_error_ratio{shopset=~\"{shopsets}\"}");
    let w = window(from);
    let m = judge(&refused, &w, c.samples(&refused, &w).await);
    assert_eq!(m.status, Status::Unknown);
    assert!(m.detail.contains("parse error"), "{}", m.detail);

    // A series that does not exist: no samples, unknown.
    let missing = verification("nothing_here{shopset=~\"{shopsets}\"}");
    let m = judge(&missing, &w, c.samples(&missing, &w).await);
    assert_eq!(m.status, Status::Unknown, "{m:?}");

    // Dead: unknown, saying why.
    let url = prom.url.clone();
    drop(prom);
    let dead = client(&url);
    let m = judge(&v, &window(from), dead.samples(&v, &window(from)).await);
    assert_eq!(m.status, Status::Unknown);
    assert!(m.detail.contains("cannot be measured"), "{}", m.detail);
}
