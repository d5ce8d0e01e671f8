//! How PM Cloud's Management API words its failures: ASP.NET's ProblemDetails bodies, and `Retry-After` on a
//! `429`. The kit sorts them
//! ([`crate::outbound::failure::Failure::of_answer`]).

use crate::outbound::answer::{Answer, retry_after};
use crate::outbound::failure::Dialect;
use serde::Deserialize;
use serde_json::Value;

/// PM Cloud's error bodies and rate limits, for [`crate::outbound::failure::Failure::of_answer`].
pub(crate) const DIALECT: Dialect = Dialect {
    message,
    rate_limit_wait: retry_after,
};

/// ASP.NET's ProblemDetails, as the Management API answers errors: `title`, `detail`, and for a `400` the
/// invalid fields under `errors`.
#[derive(Deserialize, Default)]
struct ProblemDetails {
    title: Option<String>,
    detail: Option<String>,
    #[serde(default)]
    errors: serde_json::Map<String, Value>,
}

/// ProblemDetails as one line (`title: detail; Field: message`), or what came back instead.
fn message(answer: &Answer) -> String {
    let Ok(problem) = serde_json::from_str::<ProblemDetails>(&answer.text) else {
        return answer.describe_unexpected();
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
        answer.describe_unexpected()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::failure::{Failure, Transient, sorted};
    use reqwest::header::HeaderMap;
    use std::time::Duration;

    fn from_status(what: &str, status: u16, headers: &HeaderMap, body: &str) -> Failure {
        sorted(&DIALECT, what, status, headers, body)
    }

    #[test]
    fn sorts_statuses_into_transient_and_permanent() {
        let none = HeaderMap::new();
        let mut wait = HeaderMap::new();
        wait.insert("retry-after", "7".parse().unwrap());
        assert_eq!(
            from_status("x", 429, &wait, ""),
            Failure::Transient(Transient {
                detail: "429 from x: no body".into(),
                retry_after: Some(Duration::from_secs(7)),
                unanswered: false,
            })
        );
        for status in [500, 502, 503] {
            assert!(matches!(
                from_status("x", status, &none, ""),
                Failure::Transient(_)
            ));
        }
        for status in [400, 401, 403, 404, 415] {
            assert!(matches!(
                from_status("x", status, &none, "{}"),
                Failure::Permanent { status: s, .. } if s == status
            ));
        }
        assert!(matches!(
            from_status("x", 400, &none, "<!DOCTYPE html><html></html>"),
            Failure::Transient(_)
        ));
    }

    #[test]
    fn details_read_asp_net_problem_details() {
        let body = r#"{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"errors":{"TicketUrl":["The TicketUrl field is required."]},"traceId":"00-ab"}"#;
        assert_eq!(
            from_status("PM Cloud", 400, &HeaderMap::new(), body).detail(),
            "400 from PM Cloud: One or more validation errors occurred.; TicketUrl: The TicketUrl field is required."
        );
        assert_eq!(
            from_status(
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
