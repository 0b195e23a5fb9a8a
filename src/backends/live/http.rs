//! A small HTTP(S) client for live mode's plain HTTP peers (Alertmanager): rustls with ring, the
//! system's roots plus an optional CA file, a timeout on every request, and an authorization
//! header that is never logged or shown.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use thiserror::Error;

/// How long one request may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request did not give an answer. Never holds a credential.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpError {
    #[error("'{url}' did not answer within {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("'{url}' cannot be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("'{url}' answered {status}{}", if .said.is_empty() { String::new() } else { format!(": {}", .said) })]
    Status {
        url: String,
        status: u16,
        /// What the peer said about it (a JSON answer's `error`), cut short; empty when nothing.
        said: String,
    },
    #[error("cannot read '{file}': {reason}")]
    File { file: PathBuf, reason: String },
    #[error("'{file}' holds no usable certificate")]
    Certificate { file: PathBuf },
    #[error("'{url}' is not a valid URL")]
    Url { url: String },
}

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A client for one base URL.
#[derive(Clone)]
pub struct HttpClient {
    base: String,
    client: Client<Connector, Full<Bytes>>,
    credential: Credential,
    timeout: Duration,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The authorization header is a secret: only whether there is one.
        f.debug_struct("HttpClient")
            .field("base", &self.base)
            .field("authorized", &!matches!(self.credential, Credential::None))
            .finish()
    }
}

/// How a client authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    /// A bearer token read from a file.
    BearerFile(&'a Path),
    /// A user and a password read from a file.
    Basic {
        username: &'a str,
        password_file: &'a Path,
    },
}

impl<'a> Auth<'a> {
    /// The configuration's `bearer_token_file`, else its `basic_auth`, else none.
    pub fn of(
        bearer_token_file: Option<&'a Path>,
        basic_auth: Option<&'a super::config::BasicAuth>,
    ) -> Auth<'a> {
        match (bearer_token_file, basic_auth) {
            (Some(f), _) => Auth::BearerFile(f),
            (None, Some(b)) => Auth::Basic {
                username: &b.username,
                password_file: &b.password_file,
            },
            (None, None) => Auth::None,
        }
    }
}

impl HttpClient {
    pub fn new(
        base: &str,
        auth: Auth<'_>,
        ca_file: Option<&Path>,
    ) -> Result<HttpClient, HttpError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if let Some(file) = ca_file {
            use rustls_pki_types::pem::PemObject;
            let certs: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(file)
                .map_err(|e| HttpError::File {
                    file: file.into(),
                    reason: e.to_string(),
                })?
                .filter_map(Result::ok)
                .collect();
            if certs.is_empty() {
                return Err(HttpError::Certificate { file: file.into() });
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|_| HttpError::Certificate { file: file.into() })?;
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpError::Unreachable {
            url: base.into(),
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        // Read now, so a missing file is said at once; and again for every request, so a
        // rotated token or password is used from the next request on.
        authorization(auth)?;
        Ok(HttpClient {
            base: base.trim_end_matches('/').to_string(),
            client,
            credential: Credential::of(auth),
            timeout: TIMEOUT,
        })
    }

    /// GETs `path` (e.g. `/api/v2/alerts`) and returns the body of a 2xx answer.
    pub async fn get(&self, path: &str) -> Result<Bytes, HttpError> {
        self.send(Method::GET, path, None).await
    }

    /// POSTs a JSON body to `path` and returns the body of a 2xx answer.
    pub async fn post_json(&self, path: &str, body: Vec<u8>) -> Result<Bytes, HttpError> {
        self.send(Method::POST, path, Some(body)).await
    }

    /// DELETEs `path` and returns the body of a 2xx answer.
    pub async fn delete(&self, path: &str) -> Result<Bytes, HttpError> {
        self.send(Method::DELETE, path, None).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, HttpError> {
        let url = format!("{}{path}", self.base);
        let uri: Uri = url
            .parse()
            .map_err(|_| HttpError::Url { url: url.clone() })?;
        let mut req = Request::builder().method(method).uri(uri);
        if body.is_some() {
            req = req.header(http::header::CONTENT_TYPE, "application/json");
        }
        if let Some(a) = authorization(self.credential.auth())? {
            req = req.header(http::header::AUTHORIZATION, a);
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|_| HttpError::Url { url: url.clone() })?;
        let call = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| HttpError::Unreachable {
                    url: url.clone(),
                    reason: root_cause(&e),
                })?;
            let status = resp.status();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| HttpError::Unreachable {
                    url: url.clone(),
                    reason: e.to_string(),
                })?
                .to_bytes();
            if status.is_success() {
                Ok(bytes)
            } else {
                Err(HttpError::Status {
                    url: url.clone(),
                    status: status.as_u16(),
                    said: said(&bytes),
                })
            }
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::Timeout {
                url,
                secs: self.timeout.as_secs(),
            }),
        }
    }
}

/// A JSON error answer's `error` (Prometheus explains a bad query there), printable and at most
/// 200 characters.
fn said(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Answer {
        error: String,
    }
    serde_json::from_slice::<Answer>(body)
        .map(|a| {
            crate::domain::printable(&a.error)
                .chars()
                .take(200)
                .collect()
        })
        .unwrap_or_default()
}

/// The deepest cause of a client error: "connection refused", not "client error (Connect)".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The credential files a client reads for each request.
#[derive(Clone)]
enum Credential {
    None,
    Bearer(PathBuf),
    Basic {
        username: String,
        password_file: PathBuf,
    },
}

impl Credential {
    fn of(auth: Auth<'_>) -> Credential {
        match auth {
            Auth::None => Credential::None,
            Auth::BearerFile(f) => Credential::Bearer(f.into()),
            Auth::Basic {
                username,
                password_file,
            } => Credential::Basic {
                username: username.into(),
                password_file: password_file.into(),
            },
        }
    }

    fn auth(&self) -> Auth<'_> {
        match self {
            Credential::None => Auth::None,
            Credential::Bearer(f) => Auth::BearerFile(f),
            Credential::Basic {
                username,
                password_file,
            } => Auth::Basic {
                username,
                password_file,
            },
        }
    }
}

fn read_secret(file: &Path) -> Result<String, HttpError> {
    std::fs::read_to_string(file)
        .map(|s| s.trim().to_string())
        .map_err(|e| HttpError::File {
            file: file.into(),
            reason: e.to_string(),
        })
}

fn authorization(auth: Auth<'_>) -> Result<Option<HeaderValue>, HttpError> {
    let value = match auth {
        Auth::None => return Ok(None),
        Auth::BearerFile(file) => format!("Bearer {}", read_secret(file)?),
        Auth::Basic {
            username,
            password_file,
        } => {
            let password = read_secret(password_file)?;
            format!("Basic {}", base64(&format!("{username}:{password}")))
        }
    };
    let mut h = HeaderValue::from_str(&value).map_err(|_| HttpError::File {
        file: PathBuf::from("(credential)"),
        reason: "the credential holds characters a header cannot".into(),
    })?;
    h.set_sensitive(true);
    Ok(Some(h))
}

/// Standard base64 with padding (for basic auth).
fn base64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Whether an answer's status is one the caller may retry later.
pub fn is_transient(e: &HttpError) -> bool {
    match e {
        HttpError::Timeout { .. } | HttpError::Unreachable { .. } => true,
        HttpError::Status { status, .. } => {
            StatusCode::from_u16(*status).is_ok_and(|s| s.is_server_error())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_base64_encoded() {
        assert_eq!(
            base64("Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64("ab"), "YWI=");
        assert_eq!(base64(""), "");
    }

    #[test]
    fn a_client_never_shows_its_credential() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "canary-token-77\n").unwrap();
        let c = HttpClient::new("http://127.0.0.1:1", Auth::BearerFile(&token), None).unwrap();
        assert!(!format!("{c:?}").contains("canary"));
        let missing = HttpClient::new(
            "http://127.0.0.1:1",
            Auth::BearerFile(&dir.path().join("none")),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            missing.contains("none") && !missing.contains("canary"),
            "{missing}"
        );
    }

    /// A server on 127.0.0.1 that answers every request `200 []` and hands over each request's
    /// Authorization header.
    async fn recording_server() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut c, _)) = l.accept().await {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && c.read(&mut b).await.unwrap_or(0) == 1 {
                    head.push(b[0]);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let auth = head
                    .lines()
                    .find_map(|l| l.strip_prefix("authorization: "))
                    .unwrap_or_default()
                    .to_string();
                let _ = tx.send(auth);
                let _ = c
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]",
                    )
                    .await;
            }
        });
        (url, rx)
    }

    #[tokio::test]
    async fn a_rotated_token_is_sent_from_the_next_request_on() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "first\n").unwrap();
        let (url, mut seen) = recording_server().await;
        let c = HttpClient::new(&url, Auth::BearerFile(&token), None).unwrap();
        c.get("/api/v2/alerts").await.unwrap();
        assert_eq!(seen.recv().await.unwrap(), "Bearer first");
        std::fs::write(&token, "second\n").unwrap();
        c.get("/api/v2/alerts").await.unwrap();
        assert_eq!(seen.recv().await.unwrap(), "Bearer second");
        // A token file gone meanwhile is named, not sent empty.
        std::fs::remove_file(&token).unwrap();
        let e = c.get("/api/v2/alerts").await.unwrap_err().to_string();
        assert!(e.contains("token"), "{e}");
    }

    #[tokio::test]
    async fn a_dead_server_is_a_clear_error_within_the_timeout() {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = HttpClient::new(&format!("http://127.0.0.1:{port}"), Auth::None, None).unwrap();
        let e = c.get("/api/v2/alerts").await.unwrap_err();
        assert!(matches!(e, HttpError::Unreachable { .. }), "{e}");
        assert!(is_transient(&e));
        assert!(e.to_string().contains(&port.to_string()), "{e}");
    }
}
