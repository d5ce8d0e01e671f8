//! `POST /management-api/v2/AuthorizationRequest/notification`, "Handle URM ticket notifications": how an ITSM
//! tells PM Cloud that a ticket behind an authorization request was decided.
//!
//! The checks run in ASP.NET Core's order, so a request with several faults gets the answer the real API gives:
//! authentication (401), authorization (403), media type (415), model binding and validation (400), and only then
//! the handler itself (404, 200).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use serde_json::{Map, Value, json};

use crate::config::JitAccess;
use crate::faults::{self, FaultTarget};
use crate::oauth;
use crate::problem;
use crate::state::{ADMIN_DECISION_PATH, Notification, Tenant};

/// The model's properties, each `[Required]`: in the body as camelCase, in error messages as the C# name.
const FIELDS: [&str; 10] = [
    "itsmRequestId",
    "systemId",
    "ticketId",
    "ticketUrl",
    "decision",
    "status",
    "duration",
    "decisionPerformedByUser",
    "decisionTime",
    "message",
];

pub(crate) async fn notify(
    State(sim): State<Arc<Tenant>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&sim, &headers, &body, NOTIFICATION_PATH).await
}

/// The admin decision call ([`ADMIN_DECISION_PATH`]): as BeyondTrust describes AdminAccessRequest's decision
/// (request id, decision, duration in seconds, who, message, ticket), taken here with the notification's body.
pub(crate) async fn notify_admin(
    State(sim): State<Arc<Tenant>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&sim, &headers, &body, ADMIN_DECISION_PATH).await
}

const NOTIFICATION_PATH: &str = "/management-api/v2/AuthorizationRequest/notification";

async fn handle(sim: &Tenant, headers: &HeaderMap, body: &[u8], path: &str) -> Response {
    sim.base.lock().stats.notification_calls += 1;
    if let Err(answer) = faults::apply(sim, FaultTarget::Notification).await {
        return answer;
    }
    if let Some(answer) = oauth::bearer_refusal(sim, headers) {
        return answer;
    }
    if sim.base.lock().jit_access != JitAccess::Full {
        return problem::problem_with_detail(
            StatusCode::FORBIDDEN,
            "The API account needs Full Access to JIT Application Access to handle ticket notifications.",
        );
    }
    if !is_json(headers) {
        return problem::problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let body = match parse(body).and_then(|body| validate(&body).map(|()| body)) {
        Ok(body) => body,
        Err(errors) => return problem::validation(errors),
    };
    let request_id = field(&body, "itsmRequestId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if let Some(known) = &sim.base.config.known_request_ids
        && !known.iter().any(|id| id == request_id)
    {
        return problem::problem_with_detail(
            StatusCode::NOT_FOUND,
            &format!("No authorization request has the ITSM request id {request_id}."),
        );
    }
    let correlation_id = headers
        .get("x-correlation-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let text = |name: &str| {
        field(&body, name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    // PM Cloud records the ITSM's decision on the request it names.
    sim.decide(
        request_id,
        text("status") == "2000",
        &text("decisionPerformedByUser"),
        &text("duration"),
        &text("decisionTime"),
    );
    let mut inner = sim.base.lock();
    inner.notifications.push(Notification {
        body: Value::Object(body.clone()),
        correlation_id,
        path: path.to_owned(),
        received_at: chrono::Utc::now(),
    });
    inner.stats.notifications_accepted += 1;
    StatusCode::OK.into_response()
}

/// The media types ASP.NET's JSON input formatter reads: `application/json`, `text/json`, `application/*+json`.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let media_type = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media_type == "application/json"
        || media_type == "text/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

type Errors = Map<String, Value>;

fn error(key: &str, message: String) -> Errors {
    Map::from_iter([(key.to_owned(), json!([message]))])
}

/// The body as a JSON object, or the errors System.Text.Json's binding would report.
fn parse(body: &[u8]) -> Result<Map<String, Value>, Errors> {
    if body.is_empty() {
        return Err(error("", "A non-empty request body is required.".into()));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(body)) => Ok(body),
        Ok(_) => Err(error(
            "$",
            "The JSON value could not be converted to the notification model. Path: $.".into(),
        )),
        Err(e) => Err(error(
            "$",
            format!("The request body is not valid JSON: {e}. Path: $."),
        )),
    }
}

/// ASP.NET binds JSON properties case-insensitively.
fn field<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    body.iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// Every field's errors at once, as ASP.NET reports them. A field that is not a string (nor null) fails binding,
/// and a failed binding is reported alone: validation never runs on a model that could not be read.
fn validate(body: &Map<String, Value>) -> Result<(), Errors> {
    let wrong_types: Errors = FIELDS
        .iter()
        .filter_map(|name| body.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)))
        .filter(|(_, value)| !value.is_string() && !value.is_null())
        .map(|(key, _)| {
            let message =
                format!("The JSON value could not be converted to System.String. Path: $.{key}.");
            (format!("$.{key}"), json!([message]))
        })
        .collect();
    if !wrong_types.is_empty() {
        return Err(wrong_types);
    }
    let errors: Errors = FIELDS
        .iter()
        .filter_map(|name| {
            let text = field(body, name)
                .and_then(Value::as_str)
                .unwrap_or_default();
            let property = pascal(name);
            // [Required] refuses null, empty and whitespace-only strings alike.
            let message = if text.trim().is_empty() {
                format!("The {property} field is required.")
            } else {
                format_error(name, text)?.replace("{}", &property)
            };
            Some((property, json!([message])))
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The message for a present value that the field does not accept; `{}` stands for the property name.
fn format_error(name: &str, text: &str) -> Option<&'static str> {
    let ok = match name {
        "decision" => matches!(text, "Approved" | "Denied"),
        "status" => matches!(text, "2000" | "2001"),
        "decisionTime" => is_decision_time(text),
        "duration" => is_duration(text),
        _ => true,
    };
    if ok {
        return None;
    }
    Some(match name {
        "decision" => "The field {} must be Approved or Denied.",
        "status" => "The field {} must be 2000 or 2001.",
        "decisionTime" => "The field {} must be a date and time in the form yyyy-MM-dd HH:mm:ss.",
        _ => "The field {} must be Once, Forever or a number of seconds.",
    })
}

/// `YYYY-MM-DD HH:MM:SS` exactly (no `T`, zone or fraction), and a real date and time.
fn is_decision_time(text: &str) -> bool {
    let shape = text.len() == 19
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b' ',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    shape && NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").is_ok()
}

/// `Once`, `Forever`, or a whole number of seconds in decimal digits.
fn is_duration(text: &str) -> bool {
    matches!(text, "Once" | "Forever")
        || (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
}

/// The C# property name behind a camelCase JSON name.
fn pascal(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_time_is_a_real_time_in_one_form() {
        assert!(is_decision_time("2025-03-01 14:05:09"));
        for bad in [
            "2025-03-01T14:05:09",
            "2025-03-01 14:05:09Z",
            "2025-03-01 14:05",
            "2025-02-30 14:05:09",
            "2025-03-01 24:00:00",
            "25-03-01 14:05:09",
            "+2025-3-01 14:05:09",
        ] {
            assert!(!is_decision_time(bad), "{bad}");
        }
    }

    #[test]
    fn duration_is_once_forever_or_seconds() {
        for good in ["Once", "Forever", "3600", "0"] {
            assert!(is_duration(good), "{good}");
        }
        for bad in ["", "once", "forever", "1.5", "-60", "PT1H", "60s", "1 hour"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn property_names_are_pascal_case() {
        assert_eq!(pascal("itsmRequestId"), "ItsmRequestId");
        assert_eq!(pascal("decisionPerformedByUser"), "DecisionPerformedByUser");
    }
}
