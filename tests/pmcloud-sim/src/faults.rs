//! Injected misbehaviour: error statuses, slow answers, and the HTML error pages a gateway in front of the API
//! sends when it, not the API, answers.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sim_kit::{Due, Target};

use crate::problem;
use crate::state::Tenant;

sim_kit::faults! {
    /// One queued fault: a `status` fault answers with the endpoint's own error shape (`{"error": …}` from the
    /// token endpoint, a ProblemDetails from the API); an `html` fault answers as a load balancer or WAF does, a
    /// 429 with `Retry-After: 1`. JSON: `{"kind":"status","target":"notification","status":503,"times":2}`.
    pub enum Fault for FaultTarget {}
}

/// The endpoint a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultTarget {
    /// `POST /oauth/connect/token`
    Token,
    /// `POST /management-api/v2/AuthorizationRequest/notification` (and the admin decision path)
    Notification,
    /// `GET /management-api/v2/AuthorizationRequest` and `GET …/AuthorizationRequest/{id}`
    AuthorizationRequest,
}

impl Target for FaultTarget {
    type Request = FaultTarget;

    fn matches(self, request: FaultTarget) -> bool {
        self == request
    }
}

/// Apply the fault due for this request, if any. `Err` is the answer to send instead of handling the request.
pub(crate) async fn apply(sim: &Tenant, target: FaultTarget) -> Result<(), Response> {
    match sim.base.faults.due(target).await {
        None => Ok(()),
        Some(Due::Status {
            status,
            retry_after_secs,
        }) => Err(status_answer(target, status, retry_after_secs)),
        Some(Due::Html { status }) => Err(html_answer(status)),
        Some(Due::Own(own)) => match own {},
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn status_answer(target: FaultTarget, status: u16, retry_after_secs: Option<u64>) -> Response {
    let status = status_code(status);
    let mut answer = match target {
        FaultTarget::Token => {
            // IdentityServer's error codes; anything that is not the client's fault is a server error.
            let error = match status.as_u16() {
                400 => "invalid_request",
                401 => "invalid_client",
                _ => "server_error",
            };
            (status, Json(json!({ "error": error }))).into_response()
        }
        FaultTarget::Notification | FaultTarget::AuthorizationRequest => problem::problem(status),
    };
    let retry_after = match retry_after_secs {
        None if status == StatusCode::TOO_MANY_REQUESTS => Some(1),
        other => other,
    };
    if let Some(secs) = retry_after {
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    answer
}

fn html_answer(status: u16) -> Response {
    let status = status_code(status);
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    );
    let mut answer = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1u32));
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_json_is_tagged_camel_case() {
        let fault: Fault = serde_json::from_str(
            r#"{"kind":"status","target":"notification","status":429,"retryAfterSecs":7,"times":2}"#,
        )
        .unwrap();
        assert_eq!(
            fault,
            Fault::Status {
                target: FaultTarget::Notification,
                status: 429,
                retry_after_secs: Some(7),
                times: 2
            }
        );
        let fault: Fault =
            serde_json::from_str(r#"{"kind":"html","target":"token","status":502}"#).unwrap();
        assert_eq!(
            fault,
            Fault::Html {
                target: FaultTarget::Token,
                status: 502,
                times: 1
            }
        );
        let fault: Fault =
            serde_json::from_str(r#"{"kind":"delay","target":"token","millis":5}"#).unwrap();
        assert_eq!(
            fault,
            Fault::Delay {
                target: FaultTarget::Token,
                millis: 5,
                times: 1
            }
        );
    }
}
