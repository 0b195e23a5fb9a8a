//! kube's errors as an operator reads them: an API server's refusal by its own message, HTTP
//! code and reason — never the debug form of its `Status` object, which kube's `Display` adds.

use kube::core::Status;
use kube::runtime::watcher;

/// `shops.shopset.dev is forbidden: User "viewer" cannot patch … (403 Forbidden)`.
pub fn status(s: &Status) -> String {
    let message = if s.message.is_empty() {
        "the API server refused"
    } else {
        s.message.as_str()
    };
    if s.reason.is_empty() {
        format!("{message} ({})", s.code)
    } else {
        format!("{message} ({} {})", s.code, s.reason)
    }
}

/// A kube error: the API server's answer as [`status`], anything else as kube says it followed
/// by its causes (`client error (Connect): tcp connect error: Connection refused`), so a dead
/// proxy or a refused connection is named, not just "client error".
pub fn say(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => status(s),
        other => {
            let mut out = other.to_string();
            let mut cause = std::error::Error::source(other);
            while let Some(c) = cause {
                let text = c.to_string();
                if !out.contains(&text) {
                    out.push_str(": ");
                    out.push_str(&text);
                }
                cause = c.source();
            }
            out
        }
    }
}

/// A watcher's error, with the API server's answer as [`status`].
pub fn say_watch(e: &watcher::Error) -> String {
    match e {
        watcher::Error::InitialListFailed(k) => format!("cannot list: {}", say(k)),
        watcher::Error::WatchStartFailed(k) => format!("cannot start watching: {}", say(k)),
        watcher::Error::WatchError(s) => format!("the API server ended the watch: {}", status(s)),
        watcher::Error::WatchFailed(k) => format!("the watch failed: {}", say(k)),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_as_its_message_code_and_reason_with_no_debug_dump() {
        let s = Status {
            message: "shops.shopset.dev \"x\" is forbidden".into(),
            reason: "Forbidden".into(),
            code: 403,
            ..Status::default()
        };
        let said = say(&kube::Error::Api(Box::new(s.clone())));
        assert_eq!(said, "shops.shopset.dev \"x\" is forbidden (403 Forbidden)");
        let raw = kube::Error::Api(Box::new(s)).to_string();
        assert!(
            raw.contains("Status {"),
            "kube's own form has the dump: {raw}"
        );
        let w = say_watch(&watcher::Error::InitialListFailed(kube::Error::Api(
            Box::new(Status {
                message: "nope".into(),
                code: 500,
                ..Status::default()
            }),
        )));
        assert_eq!(w, "cannot list: nope (500)");
    }
}
