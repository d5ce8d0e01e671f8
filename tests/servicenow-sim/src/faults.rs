//! Injected misbehaviour: error statuses, slow answers, creates whose answer never arrives in time or whose record
//! arrives late or incomplete, and the HTML page of a hibernating instance.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sim_kit::{Due, Target};

use crate::state::{Instance, sn_error};
use crate::{pages, ratelimit};

sim_kit::faults! {
    /// One queued fault. A `status` fault answers with ServiceNow's error body; its 429 always carries
    /// `Retry-After` (`retry_after_secs`, default 1), `X-RateLimit-Limit` and `X-RateLimit-Reset`. An `html` fault
    /// answers with the HTML page of a hibernating developer instance: what a client gets that reaches a sleeping
    /// instance, whatever it asked for. The instance's own faults apply to creates only.
    /// JSON: `{"kind":"status","target":"tableCreate","status":503,"times":2}`; `times` defaults to 1.
    pub enum Fault for FaultTarget, own CreateFault matching RequestKind::is_create {
        /// Store the created record, then hold the answer for `hold_millis`: a client with a shorter timeout gives
        /// up, yet the ticket exists.
        LoseCreateResponse { hold_millis: u64 },
        /// Hold the create for `delay_millis` before storing the record, then answer: a client with a shorter
        /// timeout gives up, its look-ups during the delay find nothing, and the record appears afterwards. The
        /// opposite order to [`Fault::LoseCreateResponse`], as when the instance's database commit lags behind
        /// the request.
        CommitLate { delay_millis: u64 },
        /// Store the create without `field` and still answer 201, as a field ACL or a data policy does: the stored
        /// record (and the answer) has the field empty.
        DropField { field: String },
    }
}

/// The requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultTarget {
    /// `POST /oauth_token.do`
    Oauth,
    /// `GET` of a table list or of one record
    TableRead,
    /// `POST` to a table
    TableCreate,
    /// Any Table API request, `PATCH` included
    AnyTable,
    /// A Table API `PATCH` whose body has `work_notes`, as when an ACL refuses the integration user's work notes
    /// only: a `403` status fault answers ServiceNow's `{"error":{"message":"Operation Failed","detail":"ACL
    /// Exception Update Failed due to security constraints"},"status":"failure"}`.
    WorkNotes,
}

/// What kind of request is about to be handled.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Oauth,
    TableRead,
    TableCreate,
    TableUpdate,
    /// A `PATCH` whose body has `work_notes`.
    WorkNotesUpdate,
}

impl RequestKind {
    fn is_create(self) -> bool {
        self == RequestKind::TableCreate
    }
}

impl Target for FaultTarget {
    type Request = RequestKind;

    fn matches(self, kind: RequestKind) -> bool {
        match self {
            FaultTarget::Oauth => kind == RequestKind::Oauth,
            FaultTarget::TableRead => kind == RequestKind::TableRead,
            FaultTarget::TableCreate => kind.is_create(),
            FaultTarget::AnyTable => kind != RequestKind::Oauth,
            FaultTarget::WorkNotes => kind == RequestKind::WorkNotesUpdate,
        }
    }
}

/// What a due fault asks of the handler that goes on to handle the request. Only a create's faults set anything.
#[derive(Default)]
pub(crate) struct Effect {
    /// Store the record, then hold the answer this long ([`Fault::LoseCreateResponse`]).
    pub hold: Option<Duration>,
    /// Wait this long before storing the record ([`Fault::CommitLate`]).
    pub commit_after: Option<Duration>,
    /// Leave this field out of the insert ([`Fault::DropField`]).
    pub drop_field: Option<String>,
}

/// Apply the fault due for this request, if any. `Err` is the answer to send instead of handling the request;
/// `Ok` says what else the handler must do.
pub(crate) async fn apply(sim: &Instance, kind: RequestKind) -> Result<Effect, Response> {
    let millis = Duration::from_millis;
    match sim.base.faults.due(kind).await {
        None => Ok(Effect::default()),
        Some(Due::Status {
            status,
            retry_after_secs,
        }) => Err(status_answer(kind, status, retry_after_secs)),
        Some(Due::Html { status }) => Err(pages::hibernating(
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        )),
        Some(Due::Own(CreateFault::LoseCreateResponse { hold_millis })) => Ok(Effect {
            hold: Some(millis(hold_millis)),
            ..Effect::default()
        }),
        Some(Due::Own(CreateFault::CommitLate { delay_millis })) => Ok(Effect {
            commit_after: Some(millis(delay_millis)),
            ..Effect::default()
        }),
        Some(Due::Own(CreateFault::DropField { field })) => Ok(Effect {
            drop_field: Some(field),
            ..Effect::default()
        }),
    }
}

fn status_answer(kind: RequestKind, status: u16, retry_after_secs: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if kind == RequestKind::WorkNotesUpdate && status == StatusCode::FORBIDDEN {
        // What an instance answers when a write ACL refuses the update.
        return sn_error(
            status,
            "Operation Failed",
            Some("ACL Exception Update Failed due to security constraints"),
        );
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = retry_after_secs.unwrap_or(1);
        let reset = chrono::Utc::now().timestamp() + i64::try_from(retry_after).unwrap_or(0);
        return ratelimit::too_many_requests(
            "Too many requests for this user in the current hour (rate limit rule)",
            1000,
            retry_after,
            reset,
        );
    }
    let message = status.canonical_reason().unwrap_or("Error");
    let mut answer = sn_error(status, message, Some("Injected by servicenow-sim"));
    if let Some(secs) = retry_after_secs {
        answer
            .headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    answer
}

#[cfg(test)]
mod tests {
    use sim_kit::Faults;

    use super::*;

    fn queue(faults: impl IntoIterator<Item = Fault>) -> Faults<Fault> {
        let queue = Faults::default();
        for fault in faults {
            queue.push(fault);
        }
        queue
    }

    #[test]
    fn faults_are_used_up_in_queue_order() {
        let queue = queue([
            Fault::Status {
                target: FaultTarget::Oauth,
                status: 500,
                retry_after_secs: None,
                times: 1,
            },
            Fault::Delay {
                target: FaultTarget::AnyTable,
                millis: 1,
                times: 2,
            },
            Fault::LoseCreateResponse {
                hold_millis: 1,
                times: 1,
            },
        ]);
        assert!(matches!(
            queue.take(RequestKind::TableCreate),
            Some(Fault::Delay { .. })
        ));
        assert!(matches!(
            queue.take(RequestKind::TableRead),
            Some(Fault::Delay { times: 1, .. })
        ));
        assert!(matches!(
            queue.take(RequestKind::TableCreate),
            Some(Fault::LoseCreateResponse { .. })
        ));
        assert_eq!(queue.take(RequestKind::TableRead), None);
        assert!(matches!(
            queue.take(RequestKind::Oauth),
            Some(Fault::Status { status: 500, .. })
        ));
        for kind in [
            RequestKind::Oauth,
            RequestKind::TableRead,
            RequestKind::TableCreate,
        ] {
            assert_eq!(queue.take(kind), None);
        }
    }

    #[test]
    fn create_only_faults_skip_other_requests() {
        let queue = queue([
            Fault::CommitLate {
                delay_millis: 1,
                times: 1,
            },
            Fault::DropField {
                field: "correlation_id".into(),
                times: 1,
            },
            Fault::Html {
                target: FaultTarget::Oauth,
                status: 503,
                times: 1,
            },
        ]);
        for kind in [RequestKind::TableRead, RequestKind::TableUpdate] {
            assert_eq!(queue.take(kind), None);
        }
        assert!(matches!(
            queue.take(RequestKind::Oauth),
            Some(Fault::Html { status: 503, .. })
        ));
        assert!(matches!(
            queue.take(RequestKind::TableCreate),
            Some(Fault::CommitLate { .. })
        ));
        assert!(matches!(
            queue.take(RequestKind::TableCreate),
            Some(Fault::DropField { .. })
        ));
    }

    #[test]
    fn fault_json_is_tagged_camel_case() {
        let fault: Fault =
            serde_json::from_str(r#"{"kind":"loseCreateResponse","holdMillis":50}"#).unwrap();
        assert_eq!(
            fault,
            Fault::LoseCreateResponse {
                hold_millis: 50,
                times: 1
            }
        );
        let fault: Fault =
            serde_json::from_str(r#"{"kind":"commitLate","delayMillis":800,"times":2}"#).unwrap();
        assert_eq!(
            fault,
            Fault::CommitLate {
                delay_millis: 800,
                times: 2
            }
        );
        let fault: Fault =
            serde_json::from_str(r#"{"kind":"dropField","field":"correlation_id"}"#).unwrap();
        assert_eq!(
            fault,
            Fault::DropField {
                field: "correlation_id".into(),
                times: 1
            }
        );
        let fault: Fault = serde_json::from_str(r#"{"kind":"html","target":"oauth"}"#).unwrap();
        assert_eq!(
            fault,
            Fault::Html {
                target: FaultTarget::Oauth,
                status: 200,
                times: 1
            }
        );
        let status =
            r#"{"kind":"status","target":"tableCreate","status":429,"retryAfterSecs":7,"times":2}"#;
        assert_eq!(
            serde_json::from_str::<Fault>(status).unwrap(),
            Fault::Status {
                target: FaultTarget::TableCreate,
                status: 429,
                retry_after_secs: Some(7),
                times: 2
            }
        );
    }
}
