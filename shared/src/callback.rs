//! `ticket-callback`'s rules (CONTRACT §10): the webhook is only a signal. Its signature is checked on the raw
//! bytes before anything parses them; then the ticket is read back from ServiceNow and the decision is taken
//! from that record, never from the body. Decisions are final.

use crate::api::{self, ApiRequest, ApiResponse};
use crate::auth::verify_webhook;
use crate::duration::Duration;
use crate::problem::{FieldError, Problem};
use crate::record::{Decision, Outcome, RequestRecord, Ticket};
use crate::secrets::SettingsSource;
use crate::servicenow::{ServiceNowClient, ServiceNowError, TaskRecord};
use crate::settings::{ServiceNowSettings, TaskType};
use crate::status::Status;
use crate::store::{ReplaceOutcome, RequestStore};
use crate::ticketing::ticket_of;
use crate::time::{Timestamp, parse_servicenow_datetime};
use http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

pub const TIMESTAMP_HEADER: &str = "x-webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";

/// A concurrent writer (ticket-creator recording the ticket) can move the request under us; try again this often.
const REPLACE_ATTEMPTS: usize = 3;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    request_id: &'a str,
    status: Status,
}

/// What the ticket record says about the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Decided(Decision),
    Cancelled,
    Undecided,
}

/// Reads the decision from a ticket record (CONTRACT §10), with the duration from `durationField` (§8).
pub fn verdict(
    record: &TaskRecord,
    settings: &ServiceNowSettings,
    now: Timestamp,
) -> Result<Verdict, FieldError> {
    let outcome = match record.text("approval") {
        Some("approved") => Outcome::Approved,
        Some("rejected") => Outcome::Denied,
        _ if record.text("active") == Some("false") => return Ok(Verdict::Cancelled),
        _ => return Ok(Verdict::Undecided),
    };
    let decided_at = match record
        .text("sys_updated_on")
        .and_then(parse_servicenow_datetime)
    {
        Some(at) => at,
        None => {
            tracing::warn!(
                "the ticket has no readable sys_updated_on; using the time the event arrived"
            );
            now
        }
    };
    let duration = match outcome {
        Outcome::Denied => None,
        Outcome::Approved => {
            let text = record.text(&settings.duration_field).unwrap_or_default();
            let parsed = Duration::from_servicenow_text(text)
                .map_err(|e| FieldError::new(settings.duration_field.clone(), e.to_string()))?;
            Some(parsed.unwrap_or(settings.default_duration))
        }
    };
    Ok(Verdict::Decided(Decision {
        outcome,
        duration,
        expires_at: duration.and_then(|d| d.expires_at(decided_at)),
        decided_by: record.text("sys_updated_by").map(str::to_owned),
        decided_at,
        notes: record.text(&settings.notes_field).map(str::to_owned),
    }))
}

pub struct Callback<S, C> {
    store: S,
    settings: C,
    servicenow: ServiceNowClient,
}

impl<S: RequestStore, C: SettingsSource> Callback<S, C> {
    pub fn new(store: S, settings: C, servicenow: ServiceNowClient) -> Self {
        Self {
            store,
            settings,
            servicenow,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// `POST /v1/servicenow/events`.
    pub async fn handle(&self, request: &ApiRequest) -> ApiResponse {
        match self.try_handle(request).await {
            Ok((request_id, status)) => api::json_response(
                StatusCode::OK,
                &Answer {
                    request_id: &request_id,
                    status,
                },
            ),
            Err(problem) => problem.into(),
        }
    }

    async fn try_handle(&self, request: &ApiRequest) -> Result<(String, Status), Problem> {
        if request.body().len() > api::MAX_BODY_BYTES {
            return Err(Problem::payload_too_large(api::MAX_BODY_BYTES));
        }
        let settings = api::load_settings(&self.settings).await?;
        verify_webhook(
            api::header(request, TIMESTAMP_HEADER),
            api::header(request, SIGNATURE_HEADER),
            request.body(),
            &settings.webhook_secrets,
            chrono::Utc::now().timestamp(),
        )
        .map_err(|reason| {
            tracing::warn!(%reason, "webhook refused");
            Problem::unauthorized()
        })?;
        let (object, _) = api::json_object_body(request)?;
        let (task_type, sys_id) = ticket_reference(&object)?;
        let sn = &settings.servicenow;
        let table = task_type.table();

        let fields = [
            "sys_id",
            "number",
            "correlation_id",
            "approval",
            "active",
            "sys_updated_by",
            "sys_updated_on",
            &sn.duration_field,
            &sn.notes_field,
        ];
        let record = self
            .servicenow
            .get(sn, table, &sys_id, &fields)
            .await
            .map_err(servicenow_problem)?
            .ok_or_else(|| {
                Problem::not_found(format!(
                    "ServiceNow has no {table} record {sys_id} for this user"
                ))
            })?;
        let ticket = ticket_of(&record, table, sn).map_err(servicenow_problem)?;
        let current = self.request_of(&record, &ticket, sn).await?;
        let span =
            tracing::info_span!("request", request_id = %current.id, ticket = %ticket.number);
        async {
            let verdict = verdict(&record, sn, crate::time::now()).map_err(|error| {
                tracing::warn!(field = %error.field, message = %error.message, "approval with an invalid duration not applied");
                Problem::validation(vec![error])
            })?;
            self.apply(current, verdict, ticket).await
        }
        .instrument(span)
        .await
    }

    /// The request the ticket belongs to: by its `correlation_id`, and only if the ticket is that request's.
    async fn request_of(
        &self,
        record: &TaskRecord,
        ticket: &Ticket,
        sn: &ServiceNowSettings,
    ) -> Result<RequestRecord, Problem> {
        let not_ours = || {
            Problem::not_found(format!(
                "ticket {} belongs to no request of this connector",
                ticket.number
            ))
        };
        let correlation_id = record.correlation_id().ok_or_else(not_ours)?;
        let request = self
            .store
            .get(correlation_id)
            .await
            .map_err(api::store_problem)?
            .ok_or_else(not_ours)?;
        let expected_table = request
            .ticket
            .as_ref()
            .map_or(sn.task_type.table(), |t| t.table.as_str());
        let same_ticket = request
            .ticket
            .as_ref()
            .is_none_or(|t| t.sys_id == ticket.sys_id);
        if expected_table != ticket.table || !same_ticket {
            return Err(not_ours());
        }
        Ok(request)
    }

    /// Moves the request to the verdict, unless it is already final (then nothing changes).
    async fn apply(
        &self,
        mut current: RequestRecord,
        verdict: Verdict,
        ticket: Ticket,
    ) -> Result<(String, Status), Problem> {
        for _ in 0..REPLACE_ATTEMPTS {
            if current.status.is_final() {
                return Ok((current.id, current.status));
            }
            let now = crate::time::now();
            let next = match &verdict {
                Verdict::Undecided => return Ok((current.id, current.status)),
                Verdict::Cancelled => current.cancelled(ticket.clone(), now),
                Verdict::Decided(decision) => {
                    current.decided(decision.clone(), ticket.clone(), now)
                }
            }
            .expect("a request that is not final can be decided or cancelled");
            match self
                .store
                .replace(&next, current.status)
                .await
                .map_err(api::store_problem)?
            {
                ReplaceOutcome::Replaced => {
                    tracing::info!(status = %next.status, "decision recorded");
                    return Ok((next.id, next.status));
                }
                ReplaceOutcome::StatusChanged(now) => current = *now,
            }
        }
        Err(Problem::unavailable(
            "the request kept changing while the decision was recorded; retry",
        ))
    }
}

/// The body's `table` and `sys_id`, checked before they go into a URL. Other fields are ignored.
fn ticket_reference(
    object: &serde_json::Map<String, Value>,
) -> Result<(TaskType, String), Problem> {
    let mut errors = Vec::new();
    let task_type = match object.get("table") {
        Some(Value::String(table)) => TaskType::from_table(table).or_else(|| {
            errors.push(FieldError::new(
                "table",
                "must be incident, change_request, sc_task or sc_req_item",
            ));
            None
        }),
        None | Some(Value::Null) => {
            errors.push(FieldError::new("table", "is required"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new("table", "must be a string"));
            None
        }
    };
    let sys_id = match object.get("sys_id") {
        Some(Value::String(id)) if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(id.clone())
        }
        None | Some(Value::Null) => {
            errors.push(FieldError::new("sys_id", "is required"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new("sys_id", "must be 32 hexadecimal digits"));
            None
        }
    };
    match (task_type, sys_id) {
        (Some(task_type), Some(sys_id)) => Ok((task_type, sys_id)),
        _ => Err(Problem::validation(errors)),
    }
}

/// ServiceNow failing us is never the caller's fault: 503 when retrying may help, 502 when it cannot.
fn servicenow_problem(error: ServiceNowError) -> Problem {
    tracing::error!(error = %error, "reading the ticket back failed");
    match error {
        ServiceNowError::Transient { .. } => {
            Problem::unavailable(format!("ServiceNow is unavailable: {}", error.detail()))
        }
        ServiceNowError::Permanent { .. } => Problem::bad_gateway(format!(
            "ServiceNow refused the connector: {}",
            error.detail()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::servicenow_settings_with as settings;
    use chrono::TimeZone;
    use serde_json::json;

    fn record(fields: Value) -> TaskRecord {
        let mut base = json!({"sys_updated_by": "alice.approver", "sys_updated_on": "2026-11-28 12:04:05", "active": "true"});
        base.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        TaskRecord(base.as_object().unwrap().clone())
    }

    fn decided(fields: Value, extra: Value) -> Decision {
        match verdict(&record(fields), &settings(extra), chrono::Utc::now()).unwrap() {
            Verdict::Decided(decision) => decision,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_approval_carries_duration_expiry_approver_time_and_notes() {
        let decision = decided(
            json!({"approval": "approved", "u_pm_duration": "4 hours", "close_notes": "Approved for the capture"}),
            json!({}),
        );
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 28, 12, 4, 5)
            .unwrap();
        assert_eq!(decision.outcome, Outcome::Approved);
        assert_eq!(decision.duration, Some(Duration::Hours(4)));
        assert_eq!(decision.decided_at, at);
        assert_eq!(
            decision.expires_at,
            Some(
                chrono::Utc
                    .with_ymd_and_hms(2026, 11, 28, 16, 4, 5)
                    .unwrap()
            )
        );
        assert_eq!(decision.decided_by.as_deref(), Some("alice.approver"));
        assert_eq!(decision.notes.as_deref(), Some("Approved for the capture"));
    }

    #[test]
    fn an_empty_duration_means_the_configured_default() {
        assert_eq!(
            decided(json!({"approval": "approved"}), json!({})).duration,
            Some(Duration::Once)
        );
        let decision = decided(
            json!({"approval": "approved", "u_pm_duration": ""}),
            json!({"defaultDuration": "P2D"}),
        );
        assert_eq!(decision.duration, Some(Duration::Days(2)));
        assert!(decision.expires_at.is_some());
        let once = decided(json!({"approval": "approved"}), json!({}));
        assert_eq!(once.expires_at, None);
    }

    #[test]
    fn configured_fields_are_read() {
        let decision = decided(
            json!({"approval": "approved", "u_len": "P3M", "work_notes": "ok"}),
            json!({"durationField": "u_len", "notesField": "work_notes"}),
        );
        assert_eq!(decision.duration, Some(Duration::Months(3)));
        assert_eq!(decision.notes.as_deref(), Some("ok"));
    }

    #[test]
    fn a_rejection_is_a_denial_without_duration() {
        let decision = decided(
            json!({"approval": "rejected", "u_pm_duration": "4 hours", "close_notes": "No"}),
            json!({}),
        );
        assert_eq!(
            (decision.outcome, decision.duration, decision.expires_at),
            (Outcome::Denied, None, None)
        );
        assert_eq!(decision.notes.as_deref(), Some("No"));
    }

    #[test]
    fn an_invalid_duration_on_an_approval_is_refused_naming_the_field() {
        let error = verdict(
            &record(json!({"approval": "approved", "u_pm_duration": "25 hours"})),
            &settings(json!({})),
            chrono::Utc::now(),
        )
        .unwrap_err();
        assert_eq!(error.field, "u_pm_duration");
    }

    #[test]
    fn closed_without_a_decision_is_cancelled_and_anything_else_is_no_change() {
        let s = settings(json!({}));
        let now = chrono::Utc::now();
        assert_eq!(
            verdict(
                &record(json!({"approval": "requested", "active": "false"})),
                &s,
                now
            ),
            Ok(Verdict::Cancelled)
        );
        assert_eq!(
            verdict(
                &record(json!({"approval": "cancelled", "active": "false"})),
                &s,
                now
            ),
            Ok(Verdict::Cancelled)
        );
        assert_eq!(
            verdict(&record(json!({"approval": "requested"})), &s, now),
            Ok(Verdict::Undecided)
        );
        assert_eq!(
            verdict(&record(json!({"approval": "not requested"})), &s, now),
            Ok(Verdict::Undecided)
        );
        // A decision on a closed ticket is still the decision.
        assert!(matches!(
            verdict(
                &record(json!({"approval": "rejected", "active": "false"})),
                &s,
                now
            ),
            Ok(Verdict::Decided(_))
        ));
    }

    #[test]
    fn an_unreadable_update_time_falls_back_to_now() {
        let now = chrono::Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        let s = settings(json!({}));
        match verdict(
            &record(json!({"approval": "rejected", "sys_updated_on": "yesterday"})),
            &s,
            now,
        )
        .unwrap()
        {
            Verdict::Decided(d) => assert_eq!(d.decided_at, now),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_ticket_reference_is_checked_before_use() {
        let ok =
            json!({"table": "incident", "sys_id": "0123456789abcdef0123456789abcdef", "extra": 1});
        assert!(ticket_reference(ok.as_object().unwrap()).is_ok());
        for (bad, field) in [
            (
                json!({"sys_id": "0123456789abcdef0123456789abcdef"}),
                "table",
            ),
            (
                json!({"table": "sys_user", "sys_id": "0123456789abcdef0123456789abcdef"}),
                "table",
            ),
            (json!({"table": "incident", "sys_id": "../../x"}), "sys_id"),
            (json!({"table": "incident"}), "sys_id"),
        ] {
            let problem = ticket_reference(bad.as_object().unwrap()).unwrap_err();
            assert_eq!(problem.status, 422);
            assert_eq!(problem.errors[0].field, field);
        }
    }
}
