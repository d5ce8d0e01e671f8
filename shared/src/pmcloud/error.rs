//! What can go wrong when pushing a decision to PM Cloud, sorted by what the caller should do about it.

use crate::domain::redact::Detailed;
use crate::outbound::{TransportError, describe_unexpected, is_html, retry_after};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// Every `detail` is written for an administrator and never holds a secret or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PmCloudError {
    /// Worth trying again later: timeouts, connection failures, `429`, `5xx`, an HTML page.
    #[error("{detail}")]
    Transient {
        detail: String,
        retry_after: Option<Duration>,
    },
    /// Trying again cannot fix it: `400`, `403`, `404`, a `401` a new token did not cure, a refused grant.
    #[error("{detail}")]
    Permanent { status: u16, detail: String },
}

/// ASP.NET's ProblemDetails, as the Management API answers errors: `title`, `detail`, and for a `400` the
/// invalid fields under `errors`.
#[derive(Deserialize, Default)]
struct ProblemDetails {
    title: Option<String>,
    detail: Option<String>,
    #[serde(default)]
    errors: serde_json::Map<String, Value>,
}

impl Detailed for PmCloudError {
    fn detail_mut(&mut self) -> &mut String {
        match self {
            Self::Transient { detail, .. } | Self::Permanent { detail, .. } => detail,
        }
    }
}

impl PmCloudError {
    pub fn transient(detail: impl Into<String>) -> Self {
        Self::Transient {
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Self::Transient { detail, .. } | Self::Permanent { detail, .. } => detail,
        }
    }

    /// Sorts an answer of `what` (for example "PM Cloud's notification endpoint") by status.
    pub fn from_status(what: &str, status: u16, headers: &HeaderMap, body: &str) -> Self {
        let detail = format!("{status} from {what}: {}", message(headers, body));
        match status {
            _ if is_html(headers, body) => Self::transient(detail),
            429 => Self::Transient {
                detail,
                retry_after: retry_after(headers),
            },
            500..=599 => Self::transient(detail),
            _ => Self::Permanent { status, detail },
        }
    }

    /// A transport failure: the call may or may not have reached PM Cloud, so it is always transient.
    pub fn from_transport(what: &str, error: &reqwest::Error) -> Self {
        let transport = TransportError::of(error);
        Self::transient(format!(
            "{what} {}: {}",
            transport.summary(),
            transport.reason
        ))
    }
}

/// ProblemDetails as one line (`title: detail; Field: message`), or what came back instead.
fn message(headers: &HeaderMap, body: &str) -> String {
    let Ok(problem) = serde_json::from_str::<ProblemDetails>(body) else {
        return describe_unexpected(headers, body);
    };
    let fields = problem.errors.iter().flat_map(|(field, messages)| {
        let messages = messages.as_array().cloned().unwrap_or_default();
        messages
            .into_iter()
            .filter_map(|m| m.as_str().map(|m| format!("{field}: {m}")))
            .collect::<Vec<_>>()
    });
    let parts: Vec<String> = [problem.title, problem.detail]
        .into_iter()
        .flatten()
        .filter(|t| !t.trim().is_empty())
        .chain(fields)
        .collect();
    if parts.is_empty() {
        describe_unexpected(headers, body)
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_statuses_into_transient_and_permanent() {
        let none = HeaderMap::new();
        let mut wait = HeaderMap::new();
        wait.insert("retry-after", "7".parse().unwrap());
        assert_eq!(
            PmCloudError::from_status("x", 429, &wait, ""),
            PmCloudError::Transient {
                detail: "429 from x: no body".into(),
                retry_after: Some(Duration::from_secs(7))
            }
        );
        for status in [500, 502, 503] {
            assert!(matches!(
                PmCloudError::from_status("x", status, &none, ""),
                PmCloudError::Transient { .. }
            ));
        }
        for status in [400, 401, 403, 404, 415] {
            assert!(matches!(
                PmCloudError::from_status("x", status, &none, "{}"),
                PmCloudError::Permanent { status: s, .. } if s == status
            ));
        }
        assert!(matches!(
            PmCloudError::from_status("x", 400, &none, "<!DOCTYPE html><html></html>"),
            PmCloudError::Transient { .. }
        ));
    }

    #[test]
    fn details_read_asp_net_problem_details() {
        let body = r#"{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"errors":{"TicketUrl":["The TicketUrl field is required."]},"traceId":"00-ab"}"#;
        assert_eq!(
            PmCloudError::from_status("PM Cloud", 400, &HeaderMap::new(), body).detail(),
            "400 from PM Cloud: One or more validation errors occurred.; TicketUrl: The TicketUrl field is required."
        );
        assert_eq!(
            PmCloudError::from_status(
                "PM Cloud",
                403,
                &HeaderMap::new(),
                r#"{"title":"Forbidden","status":403}"#
            )
            .detail(),
            "403 from PM Cloud: Forbidden"
        );
    }
}
