//! What can go wrong when talking to ServiceNow, sorted by what the caller should do about it.

use serde_json::Value;
use std::time::Duration;

/// Why a request became `failed` (CONTRACT §7 `failure.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCode {
    /// The OAuth grant was refused, or the Table API refused a fresh token.
    AuthFailed,
    /// ServiceNow refused the record: `400` (bad fields) or `403` (ACL, business rule, data policy).
    Rejected,
    /// `404`: the table does not exist for this user, or an ACL hides it.
    NotFound,
    /// The settings secret is invalid, so no ticket can be opened until an administrator fixes it.
    SettingsInvalid,
}

impl FailureCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthFailed => "servicenow_auth_failed",
            Self::Rejected => "servicenow_rejected",
            Self::NotFound => "servicenow_not_found",
            Self::SettingsInvalid => "settings_invalid",
        }
    }
}

/// Every `detail` is written for an administrator and never holds a password, secret or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceNowError {
    /// Worth trying again later: timeouts, connection failures, `429`, `5xx`.
    #[error("{detail}")]
    Transient {
        detail: String,
        retry_after: Option<Duration>,
    },
    /// Trying again cannot fix it.
    #[error("{detail}")]
    Permanent { code: FailureCode, detail: String },
}

impl ServiceNowError {
    pub fn permanent(code: FailureCode, detail: impl Into<String>) -> Self {
        Self::Permanent {
            code,
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
            401 => Self::permanent(FailureCode::AuthFailed, detail),
            404 => Self::permanent(FailureCode::NotFound, detail),
            _ => Self::permanent(FailureCode::Rejected, detail),
        }
    }

    /// A transport failure: the request may or may not have reached ServiceNow, so it is always transient.
    pub fn from_transport(what: &str, error: &reqwest::Error) -> Self {
        let kind = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "could not connect"
        } else {
            "failed"
        };
        Self::transient(format!("{what} {kind}: {}", error_chain(error)))
    }
}

/// ServiceNow's `{"error": {"message", "detail"}}` as one line, or the start of an unexpected body.
pub(crate) fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    if let Some(error) = parsed.as_ref().and_then(|v| v.get("error")) {
        let message = error.get("message").and_then(text);
        let detail = error.get("detail").and_then(text);
        match (message, detail) {
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

/// A reqwest error with its causes, which is where "connection refused" or a TLS reason is said.
/// reqwest never puts credentials in these messages; URLs carry none in this client.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
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
