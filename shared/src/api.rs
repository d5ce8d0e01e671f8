//! The HTTP edge every HTTP function shares, on plain `http` types so that it is testable without Lambda:
//! problem responses, JSON responses, body limits and bearer authentication.

use crate::auth::bearer_key_is_valid;
use crate::problem::Problem;
use crate::secrets::{SettingsError, SettingsSource};
use crate::settings::Settings;
use crate::store::StoreError;
use http::header::{ALLOW, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;

pub type ApiRequest = http::Request<Vec<u8>>;
pub type ApiResponse = http::Response<String>;

/// Bodies above this size are refused with 413 (CONTRACT §4).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn json_response(status: StatusCode, body: &impl Serialize) -> ApiResponse {
    let text = serde_json::to_string(body).expect("response bodies always serialise");
    http::Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(text)
        .expect("a valid response")
}

pub fn created_response(location: &str, body: &impl Serialize) -> ApiResponse {
    let mut response = json_response(StatusCode::ACCEPTED, body);
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

impl From<Problem> for ApiResponse {
    fn from(problem: Problem) -> Self {
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let text = serde_json::to_string(&problem).expect("problems always serialise");
        http::Response::builder()
            .status(status)
            .header(CONTENT_TYPE, "application/problem+json")
            .body(text)
            .expect("a valid response")
    }
}

/// 405 with the `Allow` header naming what the route accepts.
pub fn method_not_allowed(allowed: &str) -> ApiResponse {
    let mut response = ApiResponse::from(Problem::method_not_allowed(allowed));
    response.headers_mut().insert(
        ALLOW,
        HeaderValue::from_str(allowed).expect("a literal list of methods"),
    );
    response
}

/// A header's value as text; `None` when absent or not visible ASCII.
pub fn header(request: &ApiRequest, name: impl http::header::AsHeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The value of query parameter `name`, percent-decoded.
pub fn query_param(request: &ApiRequest, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Reads the settings, mapping a failure to the problem the caller answers (never with a secret in it).
pub async fn load_settings(source: &impl SettingsSource) -> Result<Arc<Settings>, Problem> {
    source.settings().await.map_err(|error| {
        tracing::error!(%error, "settings unavailable");
        match error {
            SettingsError::Unavailable(_) => {
                Problem::unavailable("the connector cannot read its settings secret")
            }
            SettingsError::Invalid(_) => Problem::internal(
                "the connector's settings secret is invalid; run Validate Settings",
            ),
        }
    })
}

/// Checks `Authorization: Bearer <key>` against the configured PM Cloud keys.
pub fn require_pmc_key(request: &ApiRequest, settings: &Settings) -> Result<(), Problem> {
    if bearer_key_is_valid(header(request, AUTHORIZATION), &settings.pmc_api_keys) {
        Ok(())
    } else {
        Err(Problem::unauthorized())
    }
}

/// The body as a JSON object, after the size and media type checks. Returns the parsed value too,
/// for callers that fingerprint the exact submission.
pub fn json_object_body(request: &ApiRequest) -> Result<(Map<String, Value>, Value), Problem> {
    if request.body().len() > MAX_BODY_BYTES {
        return Err(Problem::payload_too_large(MAX_BODY_BYTES));
    }
    if !is_json_media_type(header(request, CONTENT_TYPE)) {
        return Err(Problem::unsupported_media_type());
    }
    let value: Value = serde_json::from_slice(request.body())
        .map_err(|e| Problem::bad_request(format!("the body is not valid JSON: {e}")))?;
    match &value {
        Value::Object(object) => Ok((object.clone(), value)),
        _ => Err(Problem::bad_request("the body must be a JSON object")),
    }
}

/// `application/json`, or any `+json` type, with or without parameters such as `charset`.
fn is_json_media_type(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let essence = media_type_essence(content_type);
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A `Content-Type`'s type and subtype, lower-cased, without parameters such as `charset`.
pub fn media_type_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Maps a storage failure to a 5xx: it is never the caller's fault.
pub fn store_problem(error: StoreError) -> Problem {
    tracing::error!(%error, "request store failed");
    match error {
        StoreError::Unavailable(_) => {
            Problem::unavailable("the request store is unavailable; retry shortly")
        }
        StoreError::Corrupt(_) | StoreError::Missing(_) => {
            Problem::internal("the request store answered unexpectedly")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(content_type: Option<&str>, body: &[u8]) -> ApiRequest {
        let mut builder = http::Request::builder().method("POST").uri("/v1/requests");
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        builder.body(body.to_vec()).unwrap()
    }

    #[test]
    fn accepts_json_media_types_only() {
        for good in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(
                json_object_body(&request(Some(good), b"{}")).is_ok(),
                "{good}"
            );
        }
        for bad in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/jsonp"),
        ] {
            assert_eq!(
                json_object_body(&request(bad, b"{}")).unwrap_err().status,
                415,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refuses_large_malformed_and_non_object_bodies() {
        let large = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            json_object_body(&request(Some("application/json"), &large))
                .unwrap_err()
                .status,
            413
        );
        let exact = [b"{}".as_slice(), &vec![b' '; MAX_BODY_BYTES - 2]].concat();
        assert!(
            json_object_body(&request(Some("application/json"), &exact)).is_ok(),
            "64 KiB exactly is allowed"
        );
        for bad in [b"{".as_slice(), b"", b"[1]", b"\"text\"", b"null", b"42"] {
            assert_eq!(
                json_object_body(&request(Some("application/json"), bad))
                    .unwrap_err()
                    .status,
                400
            );
        }
    }

    #[test]
    fn problems_are_problem_json_and_405_names_the_methods() {
        let response = method_not_allowed("GET, POST");
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()[ALLOW], "GET, POST");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        let body: Value = serde_json::from_str(response.body()).unwrap();
        assert_eq!(body["status"], 405);
        for key in ["type", "title", "detail"] {
            assert!(body[key].is_string(), "{key}");
        }
    }

    #[test]
    fn query_params_are_decoded() {
        let request = http::Request::builder()
            .uri("/v1/requests?x=1&pmcRequestId=a%3Ab")
            .body(Vec::new())
            .unwrap();
        assert_eq!(
            query_param(&request, "pmcRequestId").as_deref(),
            Some("a:b")
        );
        assert_eq!(query_param(&request, "missing"), None);
    }
}
