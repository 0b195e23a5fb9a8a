//! How shopctl's git clones talk to their remotes. Local paths and `file://` URLs go through
//! libgit2 in-process. Network remotes (`ssh://`, `https://`, `http://`, `git://`, `user@host:path`)
//! go through the `git` command itself, so that they authenticate exactly as the operator's git
//! does — ssh-agent and `~/.ssh/config`, the credential helper, proxies and `insteadOf` rules —
//! with prompts switched off (the console owns the terminal) and a time limit on every call.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one fetch or push over the network may take.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(60);

/// A remote that the `git` command reaches over the network (not a local path).
pub fn is_network(url: &str) -> bool {
    [
        "ssh://",
        "http://",
        "https://",
        "git://",
        "ssh+git://",
        "git+ssh://",
    ]
    .iter()
    .any(|p| url.starts_with(p))
        || scp_like(url)
}

/// `user@host:path` or `host:path` (git's scp-like syntax), but not a Windows-style `C:\…` nor a
/// path with a colon after a slash.
fn scp_like(url: &str) -> bool {
    match url.split_once(':') {
        Some((host, _)) => {
            !host.is_empty() && !host.contains('/') && host.len() > 1 && !url.contains("://")
        }
        None => false,
    }
}

/// The URL with any password or token in it replaced: what messages may show. Over http(s)
/// any user part may be a token (`https://ghp_…@host`), so all of it goes; over ssh only a
/// password does (`ssh://git@host` names the account, not a secret).
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some((userinfo, host)) = authority.rsplit_once('@') {
            let tail = &rest[authority_end..];
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
                return format!("{scheme}://…@{host}{tail}");
            }
            if userinfo.contains(':') {
                let user = userinfo.split(':').next().unwrap_or_default();
                return format!("{scheme}://{user}:…@{host}{tail}");
            }
        }
    }
    url.to_string()
}

/// Replaces every URL-embedded secret in `text` (git's messages may echo a URL).
pub fn redact_text(text: &str) -> String {
    text.split_whitespace()
        .map(|w| {
            let trimmed = w.trim_matches(|c| c == '\'' || c == '"');
            if trimmed.contains("://") {
                w.replace(trimmed, &redact(trimmed))
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    Done,
    /// Not a fast-forward: someone pushed first.
    Rejected,
}

/// Runs `git` with prompts off and a deadline; returns stdout, or why it failed (stderr's
/// last lines, secrets redacted).
fn git(repo: &Path, args: &[&str], timeout: Duration) -> Result<(String, bool), String> {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir")
        .arg(repo)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never")
        .env("SSH_ASKPASS_REQUIRE", "never")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group: on a timeout, git's ssh or https helpers go with it.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    // ssh must not ask for a password or a host key on the console's terminal; an operator who
    // set their own ssh command keeps it.
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        // Read inside the repository: its own config and an includeIf for its path count.
        let configured = Command::new("git")
            .arg("--git-dir")
            .arg(repo)
            .args(["config", "--get", "core.sshCommand"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success());
        if !configured {
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run git (is it installed?): {e}"))?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    // Read both pipes on their own threads so a chatty git never blocks on a full pipe; a
    // helper that keeps a pipe open after git is gone is not waited for.
    let (out_tx, out) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = stdout.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        let _ = out_tx.send(s);
    });
    let (err_tx, err) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        let _ = err_tx.send(s);
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Ok(None) => {
                // The whole group: git and whatever it started.
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(format!("-{}", child.id()))
                    .stdin(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("git did not finish within {} s", timeout.as_secs()));
            }
            Err(e) => return Err(format!("waiting for git: {e}")),
        }
    };
    let drain = Duration::from_secs(5);
    let stdout = out.recv_timeout(drain).unwrap_or_default();
    let stderr = err.recv_timeout(drain).unwrap_or_default();
    if status.success() {
        return Ok((stdout, true));
    }
    // A push that lost the race exits 1 with its verdict on stdout (--porcelain); any other
    // refusal (a hook, a protected branch) is an error with git's reason.
    if stdout.lines().any(lost_race) {
        return Ok((stdout, false));
    }
    let why: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let why = why[why.len().saturating_sub(2)..].join("; ");
    Err(redact_text(if why.is_empty() {
        "git failed"
    } else {
        &why
    }))
}

/// A `--porcelain` push line saying someone else pushed first: `!` with `[rejected]` for a
/// non-fast-forward or "fetch first" (not `[remote rejected]`, which a hook or a protection
/// rule says).
fn lost_race(line: &str) -> bool {
    line.starts_with('!')
        && line.contains("[rejected]")
        && (line.contains("non-fast-forward") || line.contains("fetch first"))
}

/// Fetches `refspecs` from `url` into the bare repository `repo` (pruning what the remote no
/// longer has).
pub fn fetch_network(repo: &Path, url: &str, refspecs: &[&str]) -> Result<(), String> {
    let mut args = vec!["fetch", "--prune", "--no-write-fetch-head", "--quiet", url];
    args.extend_from_slice(refspecs);
    git(repo, &args, NETWORK_TIMEOUT).map(|_| ())
}

/// Pushes `refspec` to `url`; never forces.
pub fn push_network(repo: &Path, url: &str, refspec: &str) -> Result<Pushed, String> {
    let (stdout, ok) = git(
        repo,
        &["push", "--porcelain", url, refspec],
        NETWORK_TIMEOUT,
    )?;
    if stdout.lines().any(lost_race) {
        Ok(Pushed::Rejected)
    } else if ok {
        Ok(Pushed::Done)
    } else {
        let why: Vec<&str> = stdout.lines().filter(|l| l.starts_with('!')).collect();
        Err(redact_text(&why.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_remotes_are_told_from_paths() {
        for n in [
            "ssh://git@git.example.com/platform/system.git",
            "git@github.com:platform/system.git",
            "https://git.example.com/system.git",
            "git://127.0.0.1:9418/system.git",
        ] {
            assert!(is_network(n), "{n}");
        }
        for l in [
            "/srv/git/system.git",
            "file:///srv/git/system.git",
            "./system.git",
            "system.git",
        ] {
            assert!(!is_network(l), "{l}");
        }
    }

    #[test]
    fn only_a_lost_race_is_a_rejection() {
        assert!(lost_race(
            "!\trefs/heads/tier-0:refs/heads/tier-0\t[rejected] (non-fast-forward)"
        ));
        assert!(lost_race(
            "!\trefs/heads/tier-0:refs/heads/tier-0\t[rejected] (fetch first)"
        ));
        assert!(!lost_race(
            "!\trefs/heads/tier-0:refs/heads/tier-0\t[remote rejected] (pre-receive hook declined)"
        ));
    }

    #[test]
    fn secrets_in_urls_are_never_shown() {
        assert_eq!(
            redact("https://bob:s3cret-token@git.example.com/system.git"),
            "https://…@git.example.com/system.git"
        );
        assert_eq!(
            redact("https://ghp_canary@git.example.com/system.git"),
            "https://…@git.example.com/system.git"
        );
        assert_eq!(
            redact("ssh://git:pw@git.example.com/system.git"),
            "ssh://git:…@git.example.com/system.git"
        );
        assert_eq!(
            redact("ssh://git@git.example.com/system.git"),
            "ssh://git@git.example.com/system.git"
        );
        let t = redact_text("fatal: unable to access 'https://x:tok@h/r.git/': refused");
        assert!(!t.contains("tok@"), "{t}");
    }
}
