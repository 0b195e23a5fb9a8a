//! The configuration: the README's complete example, the defaults, and an error naming the file,
//! the key and the value for each way a file can be wrong.

use super::*;

const FILE: &str = "/etc/shopctl/config.toml";

fn parse(src: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new(FILE), src)
}

fn err(src: &str) -> String {
    parse(src).expect_err("refused").to_string()
}

const MINIMAL: &str = r#"
[alertmanager]
url = "http://127.0.0.1:9093"

[git]
remote = "/srv/git/platform/system.git"
"#;

#[test]
fn the_complete_example_reads_as_written() {
    let c = parse(
        r#"
[control_plane]
context = "ops"
kubeconfig = "/home/alice/.kube/config"

[[argocd]]
context = "ops"
namespace = "argocd"
shopset_label = "shopset.dev/shopset"
busy_wait_secs = 300
[argocd.components]
lb = ["lb"]
shop_page = ["shop-page", "storefront"]

[[argocd]]
context = "eks-prod"
namespace = "gitops"

[alertmanager]
url = "https://alertmanager.example.com:9093"
labels = { shopset = "shopset", tier = "tier", cluster = "k8s_cluster", severity = "severity" }
gate_severity = "critical"
severities = ["info", "warning", "critical"]
bearer_token_file = "/run/secrets/am-token"
ca_file = "/etc/ssl/am-ca.pem"

[git]
remote = "/srv/git/platform/system.git"
cache = "/var/cache/shopctl/system"

[lock]
namespace = "shopctl"
name = "shopctl-release"
duration_secs = 300
"#,
    )
    .expect("valid");
    assert_eq!(c.control_plane.context.as_deref(), Some("ops"));
    assert_eq!(c.argocd.len(), 2);
    assert_eq!(c.argocd[1].namespace, "gitops");
    assert_eq!(c.argocd[1].shopset_label, "shopset.dev/shopset");
    assert_eq!(c.argocd[0].busy_wait_secs, 300);
    assert_eq!(c.argocd[0].components.words[0], ["lb"]);
    assert_eq!(c.argocd[0].components.words[2], ["shop-page", "storefront"]);
    assert_eq!(c.argocd[0].components.words[3], ["cart"], "a default kept");
    assert_eq!(c.alertmanager.labels.cluster, "k8s_cluster");
    assert_eq!(
        c.alertmanager.bearer_token_file.as_deref(),
        Some(Path::new("/run/secrets/am-token"))
    );
    assert_eq!(c.lock.duration_secs, 300);
    assert_eq!(c.git.cache, PathBuf::from("/var/cache/shopctl/system"));
}

#[test]
fn every_key_but_the_url_and_the_remote_has_a_default() {
    let c = parse(MINIMAL).expect("valid");
    assert_eq!(
        c.control_plane,
        ControlPlane {
            context: None,
            kubeconfig: None
        }
    );
    assert_eq!(
        c.argocd,
        vec![ArgoCd {
            context: None,
            namespace: "argocd".into(),
            shopset_label: "shopset.dev/shopset".into(),
            components: crate::backends::live::argocd::StackWords::default(),
            busy_wait_secs: 120,
        }]
    );
    assert_eq!(c.alertmanager.gate_severity, "critical");
    assert_eq!(c.alertmanager.severities, ["info", "warning", "critical"]);
    assert_eq!(c.alertmanager.labels.tier, "tier");
    assert_eq!(
        (
            c.lock.namespace.as_str(),
            c.lock.name.as_str(),
            c.lock.duration_secs
        ),
        ("shopctl", "shopctl-release", 600)
    );
    assert!(c.git.cache.ends_with(".cache/shopctl/system"));
    let e = err("[git]\nremote = \"x\"\n");
    assert!(e.contains("'alertmanager.url' is required"), "{e}");
    let e = err("[alertmanager]\nurl = \"http://a:1\"\n");
    assert!(e.contains("'git.remote' is required"), "{e}");
}

#[test]
fn errors_name_the_file_the_key_and_the_value() {
    let cases = [
        ("[lock]\nduration = 10\n", "unknown key 'lock.duration'"),
        (
            "[lock]\nduration_secs = 5\n",
            "'lock.duration_secs' has invalid value '5'",
        ),
        (
            "[lock]\nduration_secs = \"ten\"\n",
            "'lock.duration_secs' has invalid value 'ten'",
        ),
        (
            "[lock]\nnamespace = \"Shop_Ctl\"\n",
            "'lock.namespace' has invalid value 'Shop_Ctl'",
        ),
        (
            "[alertmanager]\ngate_severity = \"page\"\n",
            "'alertmanager.gate_severity' has invalid value 'page'",
        ),
        (
            "[alertmanager]\nurl = \"127.0.0.1:9093\"\n",
            "'alertmanager.url' has invalid value '127.0.0.1:9093'",
        ),
        (
            "[alertmanager]\nurl = \"ftp://am\"\n",
            "'alertmanager.url' has invalid value 'ftp://am'",
        ),
        (
            "[alertmanager.labels]\nteir = \"tier\"\n",
            "unknown key 'alertmanager.labels.teir'",
        ),
        (
            "[[argocd]]\nnamspace = \"argocd\"\n",
            "unknown key 'argocd[0].namspace'",
        ),
        (
            "argocd = \"argocd\"\n",
            "'argocd' has invalid value 'argocd'",
        ),
        ("severity = 1\n", "unknown key 'severity'"),
        (
            "[[argocd]]\n[argocd.components]\ncart = \"cart\"\n",
            "'argocd[0].components.cart' has invalid value 'cart'",
        ),
        (
            "[[argocd]]\n[argocd.components]\ncart = [\"shop page\"]\n",
            "'argocd[0].components.cart' has invalid value 'shop page'",
        ),
        (
            "[[argocd]]\n[argocd.components]\ncheckout = [\"x\"]\n",
            "unknown key 'argocd[0].components.checkout'",
        ),
        (
            "[[argocd]]\nbusy_wait_secs = -1\n",
            "'argocd[0].busy_wait_secs' has invalid value '-1'",
        ),
        (
            "[alertmanager]\nseverities = [\"info\", \"info\"]\n",
            "'alertmanager.severities' has invalid value",
        ),
        (
            "[control_plane]\ncontext = \"\"\n",
            "'control_plane.context' has invalid value ''",
        ),
    ];
    for (extra, want) in cases {
        // The extra keys come first, so that they override nothing required.
        let src = format!("{extra}\n{MINIMAL}");
        let src = if extra.starts_with("[alertmanager]") && !extra.contains("url") {
            format!(
                "{}\nurl = \"http://127.0.0.1:9093\"\n[git]\nremote = \"r\"\n",
                extra.trim_end()
            )
        } else if extra.starts_with("[alertmanager]") {
            format!("{extra}\n[git]\nremote = \"r\"\n")
        } else {
            src
        };
        let e = err(&src);
        assert!(e.contains(FILE), "{e}");
        assert!(e.contains(want), "wanted {want:?} in: {e}");
    }
}

#[test]
fn network_remotes_are_accepted_and_credentials_in_them_refused_unechoed() {
    for remote in [
        "ssh://git@git.example.com/platform/system.git",
        "git@github.com:org/system.git",
        "https://git.example.com/system.git",
        "/srv/git/system.git",
        "file:///srv/git/system.git",
    ] {
        let src = format!("[alertmanager]\nurl = \"http://a:1\"\n[git]\nremote = \"{remote}\"\n");
        assert_eq!(parse(&src).expect("valid").git.remote, remote);
    }
    let e = err(
        "[alertmanager]\nurl = \"http://a:1\"\n[git]\nremote = \"https://bob:ghp_canary@git.example.com/s.git\"\n",
    );
    assert!(
        e.contains("'git.remote'") && e.contains("credential helper") && !e.contains("ghp_canary"),
        "{e}"
    );
}

#[test]
fn credentials_in_the_alertmanager_url_are_refused_without_being_echoed() {
    let src =
        "[alertmanager]\nurl = \"http://ops:hunter2@127.0.0.1:9093\"\n[git]\nremote = \"r\"\n";
    let e = err(src);
    assert!(
        e.contains("'alertmanager.url'")
            && e.contains("password_file")
            && e.contains("127.0.0.1:9093"),
        "{e}"
    );
    assert!(
        !e.contains("hunter2") && !e.contains("ops:"),
        "a secret in a message: {e}"
    );
}

#[test]
fn passwords_are_never_written_in_the_file() {
    let src = "[alertmanager]\nurl = \"http://a:1\"\nbasic_auth = { username = \"shopctl\", password = \"hunter2\" }\n[git]\nremote = \"r\"\n";
    let e = err(src);
    assert!(
        e.contains("'alertmanager.basic_auth.password'") && e.contains("password_file"),
        "{e}"
    );
    assert!(!e.contains("hunter2"), "a secret in a message: {e}");
    let both = "[alertmanager]\nurl = \"http://a:1\"\nbearer_token_file = \"/t\"\nbasic_auth = { username = \"u\", password_file = \"/p\" }\n[git]\nremote = \"r\"\n";
    assert!(err(both).contains("not both"));
    let ok = "[alertmanager]\nurl = \"http://a:1\"\nbasic_auth = { username = \"u\", password_file = \"/p\" }\n[git]\nremote = \"r\"\n";
    assert_eq!(
        parse(ok).expect("valid").alertmanager.basic_auth,
        Some(BasicAuth {
            username: "u".into(),
            password_file: PathBuf::from("/p")
        })
    );
}

#[test]
fn context_overrides_the_control_plane_and_a_missing_file_says_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("config.toml");
    std::fs::write(&f, MINIMAL).unwrap();
    let c = Config::load(&f, Some("staging")).unwrap();
    assert_eq!(c.control_plane.context.as_deref(), Some("staging"));
    let e = Config::load(&dir.path().join("none.toml"), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("none.toml") && e.contains("--demo"), "{e}");
    std::fs::write(&f, "[lock\n").unwrap();
    let e = Config::load(&f, None).unwrap_err().to_string();
    assert!(e.contains("not valid TOML"), "{e}");
}

#[test]
fn an_ha_alertmanager_is_its_peers_in_order_and_an_unlabelled_alert_counts_as_the_gate() {
    let c = parse(
        "[alertmanager]\nurls = [\"http://127.0.0.1:9093\", \"http://127.0.0.1:9094\"]\n[git]\nremote = \"r\"\n",
    )
    .unwrap();
    assert_eq!(
        c.alertmanager.urls,
        ["http://127.0.0.1:9093", "http://127.0.0.1:9094"]
    );
    assert_eq!(c.alertmanager.missing_severity, "critical");
    let one =
        parse("[alertmanager]\nurl = \"http://127.0.0.1:9093\"\n[git]\nremote = \"r\"\n").unwrap();
    assert_eq!(one.alertmanager.urls, ["http://127.0.0.1:9093"]);
    let both = err(
        "[alertmanager]\nurl = \"http://a:1\"\nurls = [\"http://b:1\"]\n[git]\nremote = \"r\"\n",
    );
    assert!(
        both.contains("'alertmanager.urls'") && both.contains("not both"),
        "{both}"
    );
    let secret = err("[alertmanager]\nurls = [\"http://u:hunter2@b:1\"]\n[git]\nremote = \"r\"\n");
    assert!(!secret.contains("hunter2"), "{secret}");
    let empty = err("[alertmanager]\nurls = []\n[git]\nremote = \"r\"\n");
    assert!(empty.contains("'alertmanager.urls'"), "{empty}");
    let bad = err(
        "[alertmanager]\nurl = \"http://a:1\"\nmissing_severity = \"page\"\n[git]\nremote = \"r\"\n",
    );
    assert!(
        bad.contains("'alertmanager.missing_severity'") && bad.contains("'page'"),
        "{bad}"
    );
}
