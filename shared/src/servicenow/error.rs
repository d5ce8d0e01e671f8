//! What can go wrong when talking to ServiceNow, sorted by what the caller should do about it; and how
//! ServiceNow words its failures (its `{"error": {"message", "detail"}}` body, its rate limits).

use super::wire::ErrorBody;
use crate::domain::record::FailureCode;
use crate::domain::redact::Detailed;
use crate::outbound::answer::{Answer, rate_limit_wait};
use crate::outbound::failure::{Dialect, Failure, Transient};
use reqwest::header::HeaderMap;
use std::time::Duration;

/// ServiceNow's error bodies and rate limits, for [`Failure::of_answer`].
pub(crate) const DIALECT: Dialect = Dialect {
    message: error_message,
    rate_limit_wait: pause,
};

/// What a `429` asks: `Retry-After` or `X-RateLimit-Reset`, whichever is later (the kit pauses 60 s when neither is
/// readable, and at most an hour).
fn pause(headers: &HeaderMap) -> Option<Duration> {
    rate_limit_wait(headers, chrono::Utc::now().timestamp())
}

/// Every `detail` is written for an administrator and never holds a password, secret or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceNowError {
    /// Worth trying again later; `retry_after` is how long ServiceNow asked to wait (a `429`'s `Retry-After` or
    /// `X-RateLimit-Reset`, whichever is later).
    #[error(transparent)]
    Transient(Transient),
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
            Self::Transient(transient) => transient.detail_mut(),
            Self::Permanent { detail, .. } => detail,
        }
    }
}

/// A permanent failure's code by its status: `401` a refused token, `404` a record absent or hidden.
impl From<Failure> for ServiceNowError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Transient(transient) => Self::Transient(transient),
            Failure::Permanent { status, detail } => {
                let code = match status {
                    401 => FailureCode::AuthFailed,
                    404 => FailureCode::NotFound,
                    _ => FailureCode::Rejected,
                };
                Self::permanent(code, status, detail)
            }
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
        Self::Transient(Transient::new(detail))
    }

    pub fn detail(&self) -> &str {
        match self {
            Self::Transient(transient) => &transient.detail,
            Self::Permanent { detail, .. } => detail,
        }
    }
}

/// ServiceNow's `{"error": {"message", "detail"}}` as one line, or what came back instead.
fn error_message(answer: &Answer) -> String {
    if let Ok(ErrorBody { error }) = serde_json::from_str::<ErrorBody>(&answer.text) {
        let text = |t: Option<String>| t.filter(|s| !s.is_empty());
        match (text(error.message), text(error.detail)) {
            (Some(m), Some(d)) => return format!("{m} ({d})"),
            (Some(m), None) => return m,
            (None, Some(d)) => return d,
            (None, None) => {}
        }
    }
    answer.describe_unexpected()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::failure::sorted;

    fn from_status(what: &str, status: u16, headers: &HeaderMap, body: &str) -> ServiceNowError {
        sorted(&DIALECT, what, status, headers, body).into()
    }

    fn message(body: &str) -> String {
        error_message(&Answer {
            status: 500,
            headers: HeaderMap::new(),
            text: body.to_owned(),
            sent: Vec::new(),
        })
    }

    #[test]
    fn sorts_statuses_into_transient_and_permanent() {
        let body =
            r#"{"error":{"message":"User Not Authorized","detail":"ACL"},"status":"failure"}"#;
        assert!(matches!(
            from_status("the Table API", 429, &retry_after_3s(), body),
            ServiceNowError::Transient(Transient { retry_after: Some(d), .. }) if d == Duration::from_secs(3)
        ));
        for status in [500, 502, 503, 504] {
            assert!(matches!(
                from_status("x", status, &HeaderMap::new(), ""),
                ServiceNowError::Transient(_)
            ));
        }
        // A pause is bounded whatever ServiceNow (or a proxy) names: at most an hour, 60 s when unreadable.
        let wait = |name: &str, value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
            match from_status("x", 429, &headers, "") {
                ServiceNowError::Transient(transient) => transient.retry_after,
                other => panic!("{other:?}"),
            }
        };
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(wait("x-ratelimit-reset", &i64::MAX.to_string()), hour);
        assert_eq!(wait("retry-after", "99999999999"), hour);
        assert_eq!(
            wait("retry-after", "tomorrow"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            wait("x-ratelimit-reset", "0"),
            Some(Duration::ZERO),
            "a reset in the past"
        );
        let code = |status| match from_status("x", status, &HeaderMap::new(), body) {
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
        let error = from_status(
            "the Table API",
            403,
            &HeaderMap::new(),
            r#"{"error":{"message":"User Not Authorized","detail":"ACL restricts access"},"status":"failure"}"#,
        );
        assert_eq!(
            error.detail(),
            "403 from the Table API: User Not Authorized (ACL restricts access)"
        );
        assert_eq!(message(""), "no body");
        assert_eq!(message("gateway timeout"), "\"gateway timeout\"");
    }

    #[test]
    fn an_html_page_is_transient_whatever_its_status_and_the_detail_says_so() {
        let page =
            "<!DOCTYPE html><html><head><title>Instance Hibernating page</title></head></html>";
        for status in [200, 403, 404, 503] {
            let error = from_status("the Table API", status, &HeaderMap::new(), page);
            assert_eq!(
                error,
                ServiceNowError::Transient(Transient {
                    detail: format!(
                        "{status} from the Table API: an HTML page (\"Instance Hibernating page\")"
                    ),
                    retry_after: None,
                    unanswered: false,
                })
            );
        }
    }
}
