//! Live mode's configuration through the binary: every error names the file, the key and the
//! value, and never repeats a secret.

use assert_cmd::Command;
use predicates::prelude::*;

fn shopctl(config_home: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("shopctl").expect("binary");
    c.env("XDG_CONFIG_HOME", config_home)
        .env("XDG_STATE_HOME", config_home.join("state"));
    c
}

#[test]
fn a_bad_configuration_names_the_file_the_key_and_the_value() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("shopctl.toml");
    std::fs::write(
        &file,
        "[alertmanager]\nurl = \"http://127.0.0.1:9093\"\ngate_severity = \"page\"\n[git]\nremote = \"r\"\n",
    )
    .expect("written");
    shopctl(tmp.path())
        .arg("--config")
        .arg(&file)
        .arg("status")
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(file.display().to_string())
                .and(predicate::str::contains("'alertmanager.gate_severity'"))
                .and(predicate::str::contains("'page'")),
        );
    std::fs::write(
        &file,
        "[alertmanager]\nurl = \"http://127.0.0.1:9093\"\n[git]\nremote = \"r\"\nbranch = \"main\"\n",
    )
    .expect("written");
    shopctl(tmp.path())
        .arg("--config")
        .arg(&file)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown key 'git.branch'"));
}

#[test]
fn a_secret_written_in_the_configuration_is_refused_without_being_repeated() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("shopctl.toml");
    std::fs::write(
        &file,
        "[alertmanager]\nurl = \"http://127.0.0.1:9093\"\nbasic_auth = { username = \"u\", password = \"canary-5e3f\" }\n[git]\nremote = \"r\"\n",
    )
    .expect("written");
    shopctl(tmp.path())
        .arg("--config")
        .arg(&file)
        .arg("status")
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("password_file")
                .and(predicate::str::contains("canary-5e3f").not()),
        );
    let log =
        std::fs::read_to_string(tmp.path().join("state/shopctl/shopctl.log")).unwrap_or_default();
    assert!(!log.contains("canary-5e3f"), "the secret reached the log");
}

#[test]
fn without_a_configuration_it_says_where_one_goes_and_demo_flags_do_not_mix() {
    let tmp = tempfile::tempdir().expect("tempdir");
    shopctl(tmp.path()).arg("status").assert().code(1).stderr(
        predicate::str::contains(tmp.path().join("shopctl/config.toml").display().to_string())
            .and(predicate::str::contains("--demo")),
    );
    shopctl(tmp.path())
        .args(["--demo", "--config", "x.toml", "status"])
        .assert()
        .code(2);
    shopctl(tmp.path())
        .args(["--demo", "--context", "ops", "status"])
        .assert()
        .code(2);
}
