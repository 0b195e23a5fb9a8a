//! Kubernetes clients as kubectl makes them: the kubeconfig (`control_plane.kubeconfig`, else
//! `$KUBECONFIG`, else `~/.kube/config`), a context by name (else the current-context), and its
//! credentials — tokens, client certificates, exec credential plugins. Connecting has a 5 s
//! timeout, so an unreachable cluster is an error within seconds, not a hang.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{ExecInteractiveMode, KubeConfigOptions, Kubeconfig};
use thiserror::Error;

/// How long connecting to an API server may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a connection may stay silent. Longer than the 55 s a watch asks the server to keep
/// it open (`WATCH_SECS`), so a quiet watch is never cut, and short enough that a watch whose
/// connection died without a word (a NAT that forgot it) is given up and started again within
/// about a minute; plain reads and writes are bounded by their callers (a full read by 30 s,
/// each write by 10 s).
pub const READ_TIMEOUT: Duration = Duration::from_secs(70);

/// How long the API server is asked to keep each watch open before ending it (the watch then
/// continues on a new connection, from where it was).
pub const WATCH_SECS: u32 = 55;

/// Why a client for a context cannot be made. Never holds a credential.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KubeconfigError {
    #[error("cannot read the kubeconfig '{file}': {reason}")]
    Read { file: String, reason: String },
    #[error(
        "the kubeconfig '{file}' has no context '{context}' (contexts: {known}); set control_plane.context or --context"
    )]
    NoSuchContext {
        file: String,
        context: String,
        known: String,
    },
    #[error(
        "the kubeconfig '{file}' names no current-context; set control_plane.context or --context"
    )]
    NoCurrentContext { file: String },
    #[error(
        "no kubeconfig (none named, $KUBECONFIG unset, no ~/.kube/config), and the in-cluster service account '{dir}' cannot be used: {reason}"
    )]
    InCluster { dir: String, reason: String },
    #[error("context '{context}' of '{file}' cannot be used: {reason}")]
    Unusable {
        file: String,
        context: String,
        reason: String,
    },
}

/// The kubeconfig live mode reads, and how it names it in messages. With no kubeconfig at all
/// (none named, `$KUBECONFIG` unset, no `~/.kube/config`) inside a pod — `KUBERNETES_SERVICE_HOST`
/// set — it is the pod's service account ([`in_cluster`]), as kubectl and client-go do.
pub fn load(explicit: Option<&Path>) -> Result<(Kubeconfig, String), KubeconfigError> {
    if explicit.is_none()
        && std::env::var_os("KUBECONFIG").is_none()
        && !default_path().exists()
        && let Ok(host) = std::env::var("KUBERNETES_SERVICE_HOST")
    {
        let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
        let k = in_cluster(Path::new(SERVICE_ACCOUNT_DIR), &host, &port)?;
        return Ok((
            k,
            format!("the in-cluster service account ({SERVICE_ACCOUNT_DIR})"),
        ));
    }
    let (result, name) = match explicit {
        Some(p) => (Kubeconfig::read_from(p), p.display().to_string()),
        None => (
            Kubeconfig::read(),
            std::env::var("KUBECONFIG").unwrap_or_else(|_| default_path().display().to_string()),
        ),
    };
    result
        .map(|k| (k, name.clone()))
        .map_err(|e| KubeconfigError::Read {
            // kube's own message repeats the file (quoted twice); ours names it once.
            reason: std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string()),
            file: name,
        })
}

/// Where a pod's service account token, CA and namespace are mounted.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The one context of the in-cluster configuration.
pub const IN_CLUSTER_CONTEXT: &str = "in-cluster";

/// The API server of the pod's own cluster as a kubeconfig of one context, `in-cluster`: the
/// server `https://HOST:PORT`, the CA `DIR/ca.crt`, and the token `DIR/token` read as a token
/// file (so a projected token that the kubelet rotates is read again, at least once a minute).
pub fn in_cluster(dir: &Path, host: &str, port: &str) -> Result<Kubeconfig, KubeconfigError> {
    let unusable = |reason: String| KubeconfigError::InCluster {
        dir: dir.display().to_string(),
        reason,
    };
    let (token, ca) = (dir.join("token"), dir.join("ca.crt"));
    for f in [&token, &ca] {
        std::fs::metadata(f).map_err(|e| unusable(format!("'{}': {e}", f.display())))?;
    }
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let yaml = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": IN_CLUSTER_CONTEXT,
        "clusters": [{"name": IN_CLUSTER_CONTEXT, "cluster": {
            "server": format!("https://{host}:{port}"),
            "certificate-authority": ca.display().to_string()}}],
        "users": [{"name": IN_CLUSTER_CONTEXT, "user": {"tokenFile": token.display().to_string()}}],
        "contexts": [{"name": IN_CLUSTER_CONTEXT, "context": {
            "cluster": IN_CLUSTER_CONTEXT, "user": IN_CLUSTER_CONTEXT}}],
    });
    Kubeconfig::from_yaml(&yaml.to_string()).map_err(|e| unusable(e.to_string()))
}

fn default_path() -> PathBuf {
    dirs::home_dir()
        .unwrap_or_default()
        .join(".kube")
        .join("config")
}

/// How a request the API server turns away for now (`429` from API Priority and Fairness,
/// `503`, `504`) is tried again: after the server's `Retry-After` when it gives one, else after
/// 200 ms doubling to 2 s, at most 10 times — as client-go does, bounded, where kube's own
/// policy lets the waits grow to minutes.
fn retry_policy() -> kube::client::retry::RetryPolicy {
    kube::client::retry::RetryPolicy::new(
        std::time::Duration::from_millis(200),
        std::time::Duration::from_secs(2),
        10,
        true,
    )
    .unwrap_or_default()
}

/// A client for `config`, with shopctl's retries of requests the server turns away for now.
/// Made inside a tokio runtime: the requests pass through a buffer whose task runs there (a
/// request is tried again from a copy, which needs a service that can be shared).
pub fn client(mut config: kube::Config) -> Result<kube::Client, kube::Error> {
    config.default_retry = false;
    Ok(kube::client::ClientBuilder::try_from(config)?
        .with_layer(&tower::buffer::BufferLayer::new(1024))
        .with_layer(&tower::retry::RetryLayer::new(retry_policy()))
        .build())
}

/// The client configuration of `context` (else the current-context), with timeouts.
pub async fn client_config(
    kubeconfig: &Kubeconfig,
    file: &str,
    context: Option<&str>,
) -> Result<kube::Config, KubeconfigError> {
    let context = match context {
        Some(c) => c.to_string(),
        None => kubeconfig
            .current_context
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| KubeconfigError::NoCurrentContext { file: file.into() })?,
    };
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        let known: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(KubeconfigError::NoSuchContext {
            file: file.into(),
            context,
            known: if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            },
        });
    }
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    // An exec credential plugin never reads the console's keys or writes on its screen: its
    // stdin and stderr are kube's, not the terminal's, whatever the kubeconfig asks.
    let mut kubeconfig = kubeconfig.clone();
    for named in &mut kubeconfig.auth_infos {
        if let Some(exec) = named.auth_info.as_mut().and_then(|a| a.exec.as_mut()) {
            exec.interactive_mode = Some(ExecInteractiveMode::Never);
        }
    }
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| KubeconfigError::Unusable {
            file: file.into(),
            context,
            reason: e.to_string(),
        })?;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: ops
clusters:
  - name: ops
    cluster:
      server: http://127.0.0.1:1
  - name: eks
    cluster:
      server: https://127.0.0.1:2
      insecure-skip-tls-verify: true
contexts:
  - name: ops
    context: {cluster: ops, user: alice}
  - name: eks-prod
    context: {cluster: eks, user: aws}
users:
  - name: alice
    user: {token: canary-token-9f2}
  - name: aws
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1beta1
        command: /bin/false
        interactiveMode: Never
"#;

    fn kubeconfig(dir: &Path) -> (Kubeconfig, String) {
        let f = dir.join("kubeconfig");
        std::fs::write(&f, KUBECONFIG).unwrap();
        load(Some(&f)).unwrap()
    }

    #[tokio::test]
    async fn a_named_or_current_context_gives_a_client_with_timeouts() {
        let dir = tempfile::tempdir().unwrap();
        let (k, file) = kubeconfig(dir.path());
        let c = client_config(&k, &file, None).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "http://127.0.0.1:1/");
        assert_eq!(c.connect_timeout, Some(CONNECT_TIMEOUT));
        assert!(
            c.read_timeout > Some(Duration::from_secs(u64::from(WATCH_SECS) + 10)),
            "a quiet watch would be cut before the server ends it"
        );
        let eks = client_config(&k, &file, Some("eks-prod")).await.unwrap();
        assert_eq!(eks.cluster_url.to_string(), "https://127.0.0.1:2/");
    }

    #[tokio::test]
    async fn an_exec_plugin_never_gets_the_terminal_whatever_the_kubeconfig_asks() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("kubeconfig");
        std::fs::write(
            &f,
            KUBECONFIG.replace("interactiveMode: Never", "interactiveMode: Always"),
        )
        .unwrap();
        let (k, file) = load(Some(&f)).unwrap();
        let c = client_config(&k, &file, Some("eks-prod")).await.unwrap();
        let exec = c.auth_info.exec.expect("the plugin");
        assert_eq!(exec.interactive_mode, Some(ExecInteractiveMode::Never));
    }

    #[tokio::test]
    async fn a_missing_context_names_the_file_and_the_known_contexts_but_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let (k, file) = kubeconfig(dir.path());
        let e = client_config(&k, &file, Some("staging"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'staging'") && e.contains("ops, eks-prod") && e.contains(&file),
            "{e}"
        );
        assert!(!e.contains("canary"), "{e}");
        let missing = load(Some(&dir.path().join("nope")))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope"), "{missing}");
    }
}
