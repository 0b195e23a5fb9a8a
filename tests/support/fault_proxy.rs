//! A TCP proxy in front of a real API server, for the faults a real server does not make by
//! itself: a network that goes silent (nothing answers, nothing is closed) and every open
//! connection cut at once. TLS passes through untouched: the client still talks to the server.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct FaultProxy {
    pub addr: SocketAddr,
    frozen: watch::Sender<bool>,
    refusing: Arc<std::sync::atomic::AtomicBool>,
    cuts: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}

impl FaultProxy {
    /// Listens on a free port of 127.0.0.1 and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (frozen, _) = watch::channel(false);
        let (cuts, _) = watch::channel(0u64);
        let (f, c) = (frozen.clone(), cuts.clone());
        let refusing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r = refusing.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if r.load(Ordering::SeqCst) {
                    // The server is gone: the connection is closed at once.
                    drop(client);
                    continue;
                }
                let (f, cut) = (f.subscribe(), c.subscribe());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::select! {
                        _ = pipe(cr, sw, f.clone()) => {}
                        _ = pipe(sr, cw, f) => {}
                        _ = until_cut(cut) => {}
                    }
                });
            }
        });
        FaultProxy {
            addr,
            frozen,
            refusing,
            cuts,
            task,
        }
    }

    /// Every open connection is cut, and new ones are closed at once until [`FaultProxy::allow`].
    pub fn refuse(&self) {
        self.refusing.store(true, Ordering::SeqCst);
        self.cut();
    }

    /// New connections are forwarded again.
    pub fn allow(&self) {
        self.refusing.store(false, Ordering::SeqCst);
    }

    /// The network goes silent: bytes stop flowing both ways, and no connection is closed.
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Every open connection is closed at once, and bytes flow again on new ones.
    pub fn cut(&self) {
        self.frozen.send_replace(false);
        self.cuts.send_modify(|n| *n += 1);
    }
}

async fn until_cut(mut cut: watch::Receiver<u64>) {
    let _ = cut.changed().await;
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Held while the network is silent; flows on when it is back (or the proxy is gone).
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// An HTTP proxy that tunnels `CONNECT host:port` (what `HTTPS_PROXY` names), counting the
/// tunnels it opened.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    tunnels: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ConnectProxy {
    pub async fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let tunnels = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let t = tunnels.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let t = t.clone();
                tokio::spawn(async move {
                    // The request head, byte by byte up to the blank line.
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match client.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let Some(target) = head
                        .strip_prefix("CONNECT ")
                        .and_then(|r| r.split_whitespace().next())
                    else {
                        let _ = client
                            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                            .await;
                        return;
                    };
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    t.fetch_add(1, Ordering::SeqCst);
                    if client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await
                        .is_ok()
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        ConnectProxy {
            addr,
            tunnels,
            task,
        }
    }

    /// How many tunnels were opened through it.
    pub fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}
