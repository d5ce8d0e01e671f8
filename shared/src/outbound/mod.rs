//! What every call out of the connector shares, whether to ServiceNow or to PM Cloud: one reqwest client per
//! execution environment with bounded timeouts and no redirects, the reading of `Retry-After`, and a transport
//! failure described for an administrator (never with a credential: URLs carry none, and reqwest's messages
//! quote no headers or bodies).

use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::Duration;

/// Well under every function's timeout, so that a slow remote ends as a transient error, not a killed function.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The default bound on a whole call, answer body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub type HttpClient = reqwest::Client;

/// The HTTP client a function builds once, in `main`, with [`REQUEST_TIMEOUT`].
pub fn http_client() -> HttpClient {
    http_client_with_timeout(REQUEST_TIMEOUT)
}

/// The same with another total timeout (the settings check, and tests that stage slow answers).
pub fn http_client_with_timeout(timeout: Duration) -> HttpClient {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "pmc-servicenow-connector/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .expect("the TLS stack and the system's CA certificates load")
}

/// `Retry-After` as whole seconds (both ServiceNow and PM Cloud send seconds); `None` when absent or unreadable.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// How a call failed before any answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// No answer within the timeout (connect or total).
    TimedOut,
    /// The TLS handshake failed: an untrusted or mismatched certificate, or something intercepting TLS.
    Tls,
    /// The host name did not resolve.
    NameNotFound,
    /// No connection could be made (refused, unreachable): the request was never sent.
    Refused,
    /// The connection failed after it was made, so the request may have been sent.
    Dropped,
}

/// A transport failure and its reason: the error with its causes, which is where "connection refused", a DNS
/// failure or a TLS reason is said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub failure: TransportFailure,
    pub reason: String,
}

impl TransportError {
    pub fn of(error: &reqwest::Error) -> Self {
        let reason = error_chain(error);
        let lower = reason.to_lowercase();
        let failure = if error.is_timeout() {
            TransportFailure::TimedOut
        } else if is_tls_failure(&lower) {
            TransportFailure::Tls
        } else if ["dns", "lookup", "resolve"]
            .iter()
            .any(|needle| lower.contains(needle))
        {
            TransportFailure::NameNotFound
        } else if error.is_connect() {
            TransportFailure::Refused
        } else {
            TransportFailure::Dropped
        };
        Self { failure, reason }
    }

    /// "timed out", "could not connect" or "failed": how a call ended, for a one-line detail.
    pub fn summary(&self) -> &'static str {
        match self.failure {
            TransportFailure::TimedOut => "timed out",
            TransportFailure::Tls | TransportFailure::NameNotFound | TransportFailure::Refused => {
                "could not connect"
            }
            TransportFailure::Dropped => "failed",
        }
    }
}

fn is_tls_failure(reason: &str) -> bool {
    [
        "certificate",
        "tls",
        "ssl",
        "handshake",
        "invalidcontenttype",
        "corrupt message",
        "peer is incompatible",
    ]
    .iter()
    .any(|needle| reason.contains(needle))
}

/// An error with its causes, each said once.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_whole_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, " 7 ".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[tokio::test]
    async fn a_refused_connection_says_why() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let error = http_client()
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err();
        let transport = TransportError::of(&error);
        assert_eq!(transport.failure, TransportFailure::Refused);
        assert_eq!(transport.summary(), "could not connect");
        assert!(
            transport.reason.to_lowercase().contains("refused"),
            "{}",
            transport.reason
        );
    }
}
