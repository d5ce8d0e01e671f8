//! How a call failed before any answer came, described for an administrator (never with a credential: URLs carry
//! none, and reqwest's messages quote no headers or bodies).

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

    /// True when the request may have reached the remote although no answer came back (it may act on it).
    pub fn may_have_been_sent(&self) -> bool {
        matches!(
            self.failure,
            TransportFailure::TimedOut | TransportFailure::Dropped
        )
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
    use crate::domain::base_url::Hosts;
    use crate::outbound::client::http_client;

    #[tokio::test]
    async fn a_refused_connection_says_why() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let error = http_client(Hosts::Local)
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
