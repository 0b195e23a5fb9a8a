//! A real Prometheus Alertmanager (Debian package `prometheus-alertmanager`) for the tests,
//! started on 127.0.0.1 with a temporary storage directory. Its absence is a failure, not a
//! skip.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use shopctl::backends::live::http::{Auth, HttpClient};

/// A running Alertmanager, stopped when dropped.
pub struct Alertmanager {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> String {
    for b in ["prometheus-alertmanager", "alertmanager"] {
        if Command::new(b)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return b.into();
        }
    }
    panic!("Prometheus Alertmanager is not installed: apt-get install prometheus-alertmanager");
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub async fn start() -> Alertmanager {
    start_with(&["--cluster.listen-address=".to_string()]).await
}

/// An Alertmanager with these cluster flags (a peer of an HA pair, or none).
pub async fn start_with(cluster: &[String]) -> Alertmanager {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: none\nreceivers:\n  - name: none\n",
    )
    .expect("config written");
    let port = free_port();
    let mut child = Command::new(binary())
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(cluster)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("alertmanager starts");
    // Its log says when it listens; the log is read to the end so that it never blocks on a
    // full pipe.
    let log = child.stderr.take().expect("stderr piped");
    let (listening, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(log)).map_while(Result::ok) {
            if line.contains("msg=\"Listening on\"") {
                let _ = listening.send(());
            }
        }
    });
    let am = Alertmanager {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    heard
        .recv_timeout(Duration::from_secs(30))
        .expect("alertmanager listens within 30 s");
    let probe = HttpClient::new(&am.url, Auth::None, None).expect("client");
    probe
        .get("/-/ready")
        .await
        .expect("alertmanager is ready once it listens");
    am
}
