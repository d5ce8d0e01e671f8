//! What can go wrong when talking to ServiceNow, sorted by what the caller should do about it.

use super::wire::ErrorBody;
use crate::domain::record::FailureCode;
use crate::outbound::TransportError;
use std::time::Duration;

/// Every `detail` is written for an administrator and never holds a password, secret or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceNowError {
    /// Worth trying again later: timeouts, connection failures, `429`, `5xx`.
    #[error("{detail}")]
    Transient {
        detail: String,
        retry_after: Option<Duration>,
    },
    /// Trying again cannot fix it. `status` is the HTTP status ServiceNow answered.
    #[error("{detail}")]
    Permanent {
        code: FailureCode,
        status: u16,
        detail: String,
    },
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
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Self::Transient { detail, .. } | Self::Permanent { detail, .. } => detail,
        }
    }

    /// Sorts an HTTP failure of `what` (for example "the Table API") by status.
    pub fn from_status(what: &str, status: u16, body: &str, retry_after: Option<Duration>) -> Self {
        let detail = format!("{status} from {what}: {}", error_message(body));
        match status {
            429 => Self::Transient {
                detail,
                retry_after,
            },
            500..=599 => Self::Transient {
                detail,
                retry_after: None,
            },
            401 => Self::permanent(FailureCode::AuthFailed, status, detail),
            404 => Self::permanent(FailureCode::NotFound, status, detail),
            _ => Self::permanent(FailureCode::Rejected, status, detail),
        }
    }

    /// A transport failure: the request may or may not have reached ServiceNow, so it is always transient.
    pub fn from_transport(what: &str, error: &reqwest::Error) -> Self {
        let transport = TransportError::of(error);
        Self::transient(format!(
            "{what} {}: {}",
            transport.summary(),
            transport.reason
        ))
    }
}

/// ServiceNow's `{"error": {"message", "detail"}}` as one line, or the start of an unexpected body.
pub(crate) fn error_message(body: &str) -> String {
    if let Ok(ErrorBody { error }) = serde_json::from_str::<ErrorBody>(body) {
        let text = |t: Option<String>| t.filter(|s| !s.is_empty());
        match (text(error.message), text(error.detail)) {
            (Some(m), Some(d)) => return format!("{m} ({d})"),
            (Some(m), None) => return m,
            (None, Some(d)) => return d,
            (None, None) => {}
        }
    }
    let trimmed = body.trim();
    if trimmed.is_empty() {
        "no body".to_owned()
    } else {
        trimmed.chars().take(200).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_statuses_into_transient_and_permanent() {
        let body =
            r#"{"error":{"message":"User Not Authorized","detail":"ACL"},"status":"failure"}"#;
        assert!(matches!(
            ServiceNowError::from_status("the Table API", 429, body, Some(Duration::from_secs(3))),
            ServiceNowError::Transient { retry_after: Some(d), .. } if d == Duration::from_secs(3)
        ));
        for status in [500, 502, 503, 504] {
            assert!(matches!(
                ServiceNowError::from_status("x", status, "", None),
                ServiceNowError::Transient { .. }
            ));
        }
        let code = |status| match ServiceNowError::from_status("x", status, body, None) {
            ServiceNowError::Permanent { code, .. } => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(400), FailureCode::Rejected);
        assert_eq!(code(403), FailureCode::Rejected);
        assert_eq!(code(401), FailureCode::AuthFailed);
        assert_eq!(code(404), FailureCode::NotFound);
    }

    #[test]
    fn details_quote_servicenow_error_bodies() {
        let error = ServiceNowError::from_status(
            "the Table API",
            403,
            r#"{"error":{"message":"User Not Authorized","detail":"ACL restricts access"},"status":"failure"}"#,
            None,
        );
        assert_eq!(
            error.detail(),
            "403 from the Table API: User Not Authorized (ACL restricts access)"
        );
        assert_eq!(error_message(""), "no body");
        assert_eq!(
            error_message("<html>gateway</html>"),
            "<html>gateway</html>"
        );
    }
}
