//! What can go wrong when talking to ServiceNow, sorted by what the caller should do about it.

use super::wire::ErrorBody;
use crate::domain::record::FailureCode;
use crate::domain::redact::Detailed;
use crate::outbound::{TransportError, describe_unexpected, is_html, rate_limit_wait};
use reqwest::header::HeaderMap;
use std::time::Duration;

/// How long to pause after a `429` that named no time.
const DEFAULT_PAUSE: Duration = Duration::from_secs(60);

/// Every `detail` is written for an administrator and never holds a password, secret or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceNowError {
    /// Worth trying again later: timeouts, connection failures, `429`, `5xx`, an HTML page. `retry_after` is how
    /// long ServiceNow asked to wait (a `429`'s `Retry-After` or `X-RateLimit-Reset`, whichever is later).
    /// `unanswered` when no answer came after the request may have been sent (a timeout, a connection dropped):
    /// ServiceNow may still carry it out.
    #[error("{detail}")]
    Transient {
        detail: String,
        retry_after: Option<Duration>,
        unanswered: bool,
    },
    /// Trying again cannot fix it. `status` is the HTTP status ServiceNow answered.
    #[error("{detail}")]
    Permanent {
        code: FailureCode,
        status: u16,
        detail: String,
    },
}

impl Detailed for ServiceNowError {
    fn detail_mut(&mut self) -> &mut String {
        match self {
            Self::Transient { detail, .. } | Self::Permanent { detail, .. } => detail,
        }
    }
}

impl ServiceNowError {
    pub fn permanent(code: FailureCode, status: u16, detail: impl Into<String>) -> Self {
        Self::Permanent {
            code,
            status,
            detail: detail.into(),
        }
    }

    pub fn transient(detail: impl Into<String>) -> Self {
        Self::Transient {
            detail: detail.into(),
            retry_after: None,
            unanswered: false,
        }
    }

    /// True when ServiceNow asked the connector to slow down (`429`).
    pub fn is_rate_limit(&self) -> bool {
        matches!(
            self,
            Self::Transient {
                retry_after: Some(_),
                ..
            }
        )
    }

    /// True when no answer came after the request may have been sent.
    pub fn is_unanswered(&self) -> bool {
        matches!(
            self,
            Self::Transient {
                unanswered: true,
                ..
            }
        )
    }

    pub fn detail(&self) -> &str {
        match self {
            Self::Transient { detail, .. } | Self::Permanent { detail, .. } => detail,
        }
    }

    /// Sorts an HTTP failure of `what` (for example "the Table API") by status; a `429` carries how long
    /// ServiceNow asked to wait (`Retry-After`).
    pub fn from_status(what: &str, status: u16, headers: &HeaderMap, body: &str) -> Self {
        let detail = format!("{status} from {what}: {}", error_message(headers, body));
        match status {
            // A hibernating instance, a login page or a proxy answers HTML: it says nothing about the request.
            _ if is_html(headers, body) => Self::transient(detail),
            429 => Self::Transient {
                detail,
                // A 429 always pauses; ServiceNow sends Retry-After, but not every proxy in between does.
                retry_after: Some(
                    rate_limit_wait(headers, chrono::Utc::now().timestamp())
                        .unwrap_or(DEFAULT_PAUSE),
                ),
                unanswered: false,
            },
            500..=599 => Self::transient(detail),
            401 => Self::permanent(FailureCode::AuthFailed, status, detail),
            404 => Self::permanent(FailureCode::NotFound, status, detail),
            _ => Self::permanent(FailureCode::Rejected, status, detail),
        }
    }

    /// A transport failure: the request may or may not have reached ServiceNow, so it is always transient.
    pub fn from_transport(what: &str, error: &reqwest::Error) -> Self {
        let transport = TransportError::of(error);
        Self::Transient {
            detail: format!("{what} {}: {}", transport.summary(), transport.reason),
            retry_after: None,
            unanswered: transport.may_have_been_sent(),
        }
    }
}

/// ServiceNow's `{"error": {"message", "detail"}}` as one line, or what came back instead.
pub(crate) fn error_message(headers: &HeaderMap, body: &str) -> String {
    if let Ok(ErrorBody { error }) = serde_json::from_str::<ErrorBody>(body) {
        let text = |t: Option<String>| t.filter(|s| !s.is_empty());
        match (text(error.message), text(error.detail)) {
            (Some(m), Some(d)) => return format!("{m} ({d})"),
            (Some(m), None) => return m,
            (None, Some(d)) => return d,
            (None, None) => {}
        }
    }
    describe_unexpected(headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_statuses_into_transient_and_permanent() {
        let body =
            r#"{"error":{"message":"User Not Authorized","detail":"ACL"},"status":"failure"}"#;
        assert!(matches!(
            ServiceNowError::from_status("the Table API", 429, &retry_after_3s(), body),
            ServiceNowError::Transient { retry_after: Some(d), .. } if d == Duration::from_secs(3)
        ));
        for status in [500, 502, 503, 504] {
            assert!(matches!(
                ServiceNowError::from_status("x", status, &HeaderMap::new(), ""),
                ServiceNowError::Transient { .. }
            ));
        }
        let code = |status| match ServiceNowError::from_status("x", status, &HeaderMap::new(), body)
        {
            ServiceNowError::Permanent { code, .. } => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(400), FailureCode::Rejected);
        assert_eq!(code(403), FailureCode::Rejected);
        assert_eq!(code(401), FailureCode::AuthFailed);
        assert_eq!(code(404), FailureCode::NotFound);
    }

    fn retry_after_3s() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "3".parse().unwrap());
        headers
    }

    #[test]
    fn details_quote_servicenow_error_bodies() {
        let error = ServiceNowError::from_status(
            "the Table API",
            403,
            &HeaderMap::new(),
            r#"{"error":{"message":"User Not Authorized","detail":"ACL restricts access"},"status":"failure"}"#,
        );
        assert_eq!(
            error.detail(),
            "403 from the Table API: User Not Authorized (ACL restricts access)"
        );
        assert_eq!(error_message(&HeaderMap::new(), ""), "no body");
        assert_eq!(
            error_message(&HeaderMap::new(), "gateway timeout"),
            "\"gateway timeout\""
        );
    }

    #[test]
    fn an_html_page_is_transient_whatever_its_status_and_the_detail_says_so() {
        let page =
            "<!DOCTYPE html><html><head><title>Instance Hibernating page</title></head></html>";
        for status in [200, 403, 404, 503] {
            let error =
                ServiceNowError::from_status("the Table API", status, &HeaderMap::new(), page);
            assert_eq!(
                error,
                ServiceNowError::Transient {
                    detail: format!(
                        "{status} from the Table API: an HTML page (\"Instance Hibernating page\")"
                    ),
                    retry_after: None,
                    unanswered: false,
                }
            );
        }
    }
}
