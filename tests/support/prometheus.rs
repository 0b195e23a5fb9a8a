//! A real Prometheus (Debian package `prometheus`) for the tests: started on 127.0.0.1 with a
//! temporary TSDB, scraping every second a test exporter whose gauges the test sets.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;

/// A running Prometheus, stopped when dropped.
pub struct Running {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
    /// Every scrape of the exporter, as it is served.
    pub scrapes: Scrapes,
}

/// The exporter's scrapes, counted as Prometheus makes them: a test waits for the next one
/// rather than for a time.
#[derive(Clone)]
pub struct Scrapes(tokio::sync::watch::Receiver<u64>);

impl Scrapes {
    /// Waits for the next scrape after now, at most `within` (a scrape comes every second).
    pub async fn next(&mut self, within: Duration) {
        self.0.mark_unchanged();
        tokio::time::timeout(within, self.0.changed())
            .await
            .expect("Prometheus scrapes the exporter every second")
            .expect("the exporter runs");
    }
}

/// A test exporter on a port, and its scrapes.
pub struct Exporter {
    pub port: u16,
    pub scrapes: Scrapes,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The test exporter: `/metrics` in Prometheus's text format, one gauge per ShopSet.
pub type Values = Arc<Mutex<Vec<(String, f64)>>>;

pub async fn exporter(values: Values) -> Exporter {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("exporter binds");
    let port = listener.local_addr().expect("addr").port();
    let (scraped, scrapes) = tokio::sync::watch::channel(0u64);
    let scraped = Arc::new(scraped);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let values = Arc::clone(&values);
            let scraped = Arc::clone(&scraped);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |_req| {
                    scraped.send_modify(|n| *n += 1);
                    let body: String = values
                        .lock()
                        .expect("values")
                        .iter()
                        .map(|(ss, v)| format!("checkout_error_ratio{{shopset=\"{ss}\"}} {v}\n"))
                        .collect();
                    async move {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(format!("# TYPE checkout_error_ratio gauge\n{body}")),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Exporter {
        port,
        scrapes: Scrapes(scrapes),
    }
}

/// Prometheus scraping `target`, returned once it has scraped it and answers.
pub async fn start(target: Exporter) -> Running {
    let Exporter {
        port: target,
        mut scrapes,
    } = target;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: shops\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
        ),
    )
    .expect("config written");
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Prometheus is not installed: apt-get install prometheus");
    let running = Running {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
        scrapes: scrapes.clone(),
    };
    // Its first scrape says it runs (it reads its configuration before it scrapes).
    scrapes.next(Duration::from_secs(60)).await;
    let probe = shopctl::backends::live::http::HttpClient::new(
        &running.url,
        shopctl::backends::live::http::Auth::None,
        None,
    )
    .expect("client");
    // Ready once it has scraped; a second scrape gives its API the time it may still need.
    let mut tries = 0;
    while let Err(e) = probe.get("/-/ready").await {
        tries += 1;
        assert!(
            tries < 10,
            "Prometheus not ready after {tries} scrapes: {e}"
        );
        scrapes.next(Duration::from_secs(10)).await;
    }
    running
}
