//! Injected misbehaviour: error statuses, slow answers, and the HTML error pages a gateway in front of the API
//! sends when it, not the API, answers.

use std::collections::VecDeque;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::problem;
use crate::state::Shared;

/// One queued fault. Each applies to the next `times` matching requests (0 counts as 1), then is used up.
/// JSON: `{"kind":"status","target":"notification","status":503,"times":2}`; `times` defaults to 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Fault {
    /// Answer with `status` and the endpoint's own error shape: `{"error": …}` from the token endpoint, a
    /// ProblemDetails from the API. A 429 always carries `Retry-After` (`retry_after_secs`, default 1); other
    /// statuses carry it only when `retry_after_secs` is set.
    Status {
        target: FaultTarget,
        status: u16,
        #[serde(default)]
        retry_after_secs: Option<u64>,
        #[serde(default = "once")]
        times: u32,
    },
    /// Answer normally, but only after `millis`.
    Delay {
        target: FaultTarget,
        millis: u64,
        #[serde(default = "once")]
        times: u32,
    },
    /// Answer with `status` and an HTML page instead of JSON, as a load balancer or WAF does. A 429 carries
    /// `Retry-After: 1`.
    Html {
        target: FaultTarget,
        status: u16,
        #[serde(default = "once")]
        times: u32,
    },
}

fn once() -> u32 {
    1
}

/// The endpoint a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultTarget {
    /// `POST /oauth/connect/token`
    Token,
    /// `POST /management-api/v2/AuthorizationRequest/notification`
    Notification,
}

impl Fault {
    fn target(&self) -> FaultTarget {
        match self {
            Fault::Status { target, .. }
            | Fault::Delay { target, .. }
            | Fault::Html { target, .. } => *target,
        }
    }

    fn times_mut(&mut self) -> &mut u32 {
        match self {
            Fault::Status { times, .. }
            | Fault::Delay { times, .. }
            | Fault::Html { times, .. } => times,
        }
    }
}

/// Use up one application of the first queued fault for `target`.
fn take(queue: &mut VecDeque<Fault>, target: FaultTarget) -> Option<Fault> {
    let index = queue.iter().position(|f| f.target() == target)?;
    let times = queue[index].times_mut();
    if *times > 1 {
        *times -= 1;
        Some(queue[index].clone())
    } else {
        queue.remove(index)
    }
}

/// Apply the fault due for this request, if any. `Err` is the answer to send instead of handling the request.
pub(crate) async fn apply(sim: &Shared, target: FaultTarget) -> Result<(), Response> {
    let fault = take(&mut sim.lock().faults, target);
    match fault {
        None => Ok(()),
        Some(Fault::Status {
            status,
            retry_after_secs,
            ..
        }) => Err(status_answer(target, status, retry_after_secs)),
        Some(Fault::Delay { millis, .. }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            Ok(())
        }
        Some(Fault::Html { status, .. }) => Err(html_answer(status)),
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
        FaultTarget::Notification => problem::problem(status),
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
    fn faults_are_used_up_in_queue_order_per_target() {
        let mut queue = VecDeque::from([
            Fault::Status {
                target: FaultTarget::Token,
                status: 500,
                retry_after_secs: None,
                times: 1,
            },
            Fault::Delay {
                target: FaultTarget::Notification,
                millis: 1,
                times: 2,
            },
            Fault::Html {
                target: FaultTarget::Notification,
                status: 502,
                times: 0,
            },
        ]);
        assert!(matches!(
            take(&mut queue, FaultTarget::Notification),
            Some(Fault::Delay { .. })
        ));
        assert!(matches!(
            take(&mut queue, FaultTarget::Notification),
            Some(Fault::Delay { times: 1, .. })
        ));
        // times 0 counts as 1.
        assert!(matches!(
            take(&mut queue, FaultTarget::Notification),
            Some(Fault::Html { status: 502, .. })
        ));
        assert_eq!(take(&mut queue, FaultTarget::Notification), None);
        assert!(matches!(
            take(&mut queue, FaultTarget::Token),
            Some(Fault::Status { status: 500, .. })
        ));
        assert!(queue.is_empty());
    }

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
