//! The HTTP edge every HTTP function shares, on plain `http` types so that it is testable without Lambda:
//! reading bodies ([`body`]), who may call ([`auth`]), problem responses ([`problem`]) and the one mapping of each
//! rules error to a problem ([`errors`]), a function's rules with its settings ([`Edge`]), and the Lambda
//! adapter ([`lambda`]). The rules know nothing of this module.

pub mod auth;
pub mod body;
mod edge;
mod errors;
pub mod lambda;
mod problem;

pub use edge::{Caller, Edge};
pub use problem::{BEARER_CHALLENGE, Problem, WEBHOOK_CHALLENGE};

use http::header::{ALLOW, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use serde::Serialize;

/// A request with its raw body bytes (a webhook's signature covers exactly these).
pub type ApiRequest = http::Request<Vec<u8>>;
pub type ApiResponse = http::Response<String>;

/// `status` with `body` as `application/json`.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> ApiResponse {
    let text = serde_json::to_string(body).expect("response bodies always serialise");
    http::Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(text)
        .expect("a valid response")
}

/// `202 Accepted` with `Location: location` and `body`.
pub fn accepted_response(location: &str, body: &impl Serialize) -> ApiResponse {
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
        let mut response = http::Response::builder()
            .status(status)
            .header(CONTENT_TYPE, "application/problem+json");
        if let Some(challenge) = problem.challenge {
            response = response.header(WWW_AUTHENTICATE, challenge);
        }
        response.body(text).expect("a valid response")
    }
}

/// The answer of a route: its success, or the problem that stopped it.
pub fn respond(result: Result<ApiResponse, Problem>) -> ApiResponse {
    result.unwrap_or_else(ApiResponse::from)
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

/// 404 for a path no route serves.
pub fn no_route(path: &str) -> ApiResponse {
    Problem::not_found(format!("no route {path}")).into()
}

/// `None` for `POST <route>` (a trailing `/` allowed); otherwise the `404` or `405` (with `Allow`) to answer.
pub fn refuse_unless_post(request: &ApiRequest, route: &str) -> Option<ApiResponse> {
    let path = request.uri().path().trim_end_matches('/');
    if path != route {
        Some(no_route(path))
    } else if request.method() != http::Method::POST {
        Some(method_not_allowed("POST"))
    } else {
        None
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

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
