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

pub async fn exporter(values: Values) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("exporter binds");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let values = Arc::clone(&values);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |_req| {
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
    port
}

pub async fn start(target: u16) -> Running {
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
    };
    let probe = shopctl::backends::live::http::HttpClient::new(
        &running.url,
        shopctl::backends::live::http::Auth::None,
        None,
    )
    .expect("client");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while probe.get("/-/ready").await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "Prometheus ready within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    running
}
