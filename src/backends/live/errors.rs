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

/// A kube error: the API server's answer as [`status`]; anything else by its causes, without
/// the client library's wrappers (`ServiceError: client error (Connect)`): `cannot connect:
/// tcp connect error: Connection refused (os error 111)`, and a proxy that would not open the
/// tunnel named as the proxy it is.
pub fn say(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => status(s),
        other => {
            let mut chain = Vec::new();
            let mut cause: Option<&dyn std::error::Error> = Some(other);
            while let Some(c) = cause {
                chain.push(c.to_string());
                cause = c.source();
            }
            describe(&chain)
        }
    }
}

/// A kube error kept whole: the API server's status and reason when it answered, and what
/// [`say`] says of it.
pub fn failure(e: &kube::Error) -> crate::ops::ApiFailure {
    let (status, reason) = match e {
        kube::Error::Api(s) => (
            Some(s.code),
            Some(s.reason.clone()).filter(|r| !r.is_empty()),
        ),
        _ => (None, None),
    };
    crate::ops::ApiFailure {
        status,
        reason,
        message: say(e),
    }
}

/// The words of a chain of causes, outermost first, as an operator reads them.
fn describe(chain: &[String]) -> String {
    // What the client library wraps a cause in, said by the cause itself.
    const WRAPPERS: [&str; 4] = [
        "ServiceError: ",
        "client error (",
        "error trying to connect",
        "tunnel error: failed to create underlying connection",
    ];
    let mut parts: Vec<&str> = Vec::new();
    for text in chain {
        let wrapper = WRAPPERS.iter().any(|w| text.starts_with(w));
        // A part already said by the part before it (its Display repeats its source).
        let repeated = parts.last().is_some_and(|p| p.contains(text.as_str()));
        if !wrapper && !repeated && !text.is_empty() {
            parts.push(text);
        }
    }
    let all = chain.join(": ");
    let detail = if parts.is_empty() {
        all.clone()
    } else {
        parts.join(": ")
    };
    if all.contains("tunnel error") {
        let proxy = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|p| !p.is_empty()))
            .map(|p| format!(" {}", redact(&p)))
            .unwrap_or_default();
        // The proxy itself could not be reached, or it would not open the tunnel.
        if all.contains("failed to create underlying connection") {
            return format!("cannot connect to the proxy{proxy}: {detail}");
        }
        return format!(
            "cannot connect: the proxy{proxy} did not open a tunnel to the API server ({detail})"
        );
    }
    if all.contains("client error (Connect)") {
        return format!("cannot connect: {detail}");
    }
    detail
}

/// A proxy URL without its credentials.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) => format!("{scheme}://…@{host}"),
            None => url.into(),
        },
        None => url.into(),
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

    #[test]
    fn a_connection_that_fails_is_said_by_its_cause_without_the_library_wrappers() {
        let chain = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert_eq!(
            describe(&chain(&[
                "ServiceError: client error (Connect)",
                "client error (Connect)",
                "tcp connect error: Connection refused (os error 111)",
                "Connection refused (os error 111)",
            ])),
            "cannot connect: tcp connect error: Connection refused (os error 111)"
        );
        let tunnel = describe(&chain(&[
            "ServiceError: client error (Connect)",
            "client error (Connect)",
            "tunnel error: unsuccessful",
        ]));
        assert!(
            tunnel.starts_with("cannot connect: the proxy")
                && tunnel.ends_with(
                    "did not open a tunnel to the API server (tunnel error: unsuccessful)"
                ),
            "{tunnel}"
        );
        let dead = describe(&chain(&[
            "ServiceError: client error (Connect)",
            "client error (Connect)",
            "tunnel error: failed to create underlying connection",
            "tcp connect error: Connection refused (os error 111)",
        ]));
        assert!(
            dead.starts_with("cannot connect to the proxy")
                && dead.ends_with(": tcp connect error: Connection refused (os error 111)"),
            "{dead}"
        );
        assert_eq!(
            describe(&chain(&["the request timed out"])),
            "the request timed out"
        );
        assert_eq!(
            redact("http://user:secret@proxy:3128"),
            "http://…@proxy:3128"
        );
        assert_eq!(redact("http://proxy:3128"), "http://proxy:3128");
    }
}
