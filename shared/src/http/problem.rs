//! RFC 9457 problem details: the one shape of every error the HTTP functions answer (CONTRACT §4).
//!
//! Problems are built only from the constructors here, and none of them takes a secret: a problem's text
//! comes from validation messages and fixed phrases, never from credentials or tokens.

use crate::domain::fields::FieldError;
use serde::Serialize;

/// `{"type", "title", "status", "detail"}`, plus `errors` naming every invalid field of a `422`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The `WWW-Authenticate` challenge a `401` carries (RFC 9110 §11.6.1); not part of the body.
    #[serde(skip)]
    pub challenge: Option<&'static str>,
}

/// The challenge of the routes PM Cloud calls with a bearer key (CONTRACT §3).
pub const BEARER_CHALLENGE: &str = r#"Bearer realm="pmc-servicenow-connector""#;
/// The challenge of ServiceNow's webhook, signed with a shared secret (CONTRACT §3).
pub const WEBHOOK_CHALLENGE: &str = r#"X-Webhook-Signature realm="servicenow-webhook""#;

impl Problem {
    fn new(slug: &str, title: &str, status: u16, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("/problems/{slug}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
            challenge: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new("malformed-body", "Malformed request body", 400, detail)
    }

    /// `401`, answered with `challenge` in `WWW-Authenticate`.
    pub fn unauthorized(challenge: &'static str) -> Self {
        Self {
            challenge: Some(challenge),
            ..Self::new(
                "unauthorized",
                "Authentication failed",
                401,
                "missing, wrong, stale or malformed credentials",
            )
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new("not-found", "Not found", 404, detail)
    }

    pub fn method_not_allowed(allowed: &str) -> Self {
        Self::new(
            "method-not-allowed",
            "Method not allowed",
            405,
            format!("this route accepts {allowed}"),
        )
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new("conflict", "Conflict", 409, detail)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            "payload-too-large",
            "Payload too large",
            413,
            format!("the body must be at most {limit} bytes"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            "unsupported-media-type",
            "Unsupported media type",
            415,
            "send the body as application/json, in UTF-8 and uncompressed",
        )
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => "1 field is invalid".to_owned(),
            n => format!("{n} fields are invalid"),
        };
        Self {
            errors,
            ..Self::new("validation", "Invalid request", 422, detail)
        }
    }

    /// A fault of the connector or its AWS dependencies; `detail` must already be free of secrets.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new("internal", "Connector fault", 500, detail)
    }

    /// ServiceNow refused the connector (for example its credentials): a fault of the connector's set-up.
    pub fn bad_gateway(detail: impl Into<String>) -> Self {
        Self::new(
            "bad-gateway",
            "ServiceNow refused the connector",
            502,
            detail,
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new("unavailable", "Dependency unavailable", 503, detail)
    }

    /// The settings secret breaks a rule of CONTRACT §2: `503` naming each field and its rule, never a value.
    pub fn settings_invalid(errors: &[FieldError]) -> Self {
        Self::new(
            "settings-invalid",
            "Settings invalid",
            503,
            format!(
                "the connector's settings secret is invalid: {}. Correct it in Secrets Manager; Validate Settings \
                 reports every check while a pmcApiKeys entry keeps the key rules",
                crate::domain::fields::describe_fields(errors)
            ),
        )
    }
}
