//! `ticket-callback`'s rules (CONTRACT §10): the webhook is only a signal. The ticket is read back from
//! ServiceNow and the decision is taken from that record, never from the event's body. Decisions are final.
//! (The signature is checked on the raw bytes before anything parses them, at the HTTP edge.)

use crate::domain::duration::Duration;
use crate::domain::fields::{Collector, FieldError};
use crate::domain::ids::{RequestId, SysId};
use crate::domain::record::{Decision, Outcome, RequestRecord};
use crate::domain::settings::{ServiceNowSettings, Settings};
use crate::domain::status::Status;
use crate::domain::ticket::{TaskType, Ticket};
use crate::domain::time::{Timestamp, parse_servicenow_datetime};
use crate::servicenow::{ServiceNowClient, ServiceNowError, TaskRecord};
use crate::store::{self, RequestStore, StoreError, Updated};
use serde::Serialize;
use serde_json::{Map, Value};
use tracing::Instrument;

/// The event's body: which ticket changed. Other fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketEvent {
    pub task_type: TaskType,
    pub sys_id: SysId,
}

impl TicketEvent {
    /// `{"table": "incident", "sys_id": "<32 hex>"}`, checked before either goes into a URL.
    /// Errors name `table` and `sys_id` when they are missing or not what they must be.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut c = Collector::default();
        let root = c.root(body);
        let task_type = c.parsed(&root, "table", true, usize::MAX, TaskType::parse);
        let sys_id = c.parsed(&root, "sys_id", true, usize::MAX, SysId::parse);
        c.finish(|| Self {
            task_type: task_type.expect("reported when missing"),
            sys_id: sys_id.expect("reported when missing"),
        })
    }
}

/// The callback's answer: `{"requestId", "status"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub request_id: RequestId,
    pub status: Status,
    /// Whether this ticket changed the request (not part of the answer).
    #[serde(skip)]
    pub changed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// ServiceNow answered 404 for the ticket (absent, or hidden from the integration user by an ACL).
    #[error("ServiceNow has no {task_type} record {sys_id} for this user")]
    NoSuchTicket { task_type: TaskType, sys_id: SysId },
    /// The ticket names no request of this connector, or is not that request's ticket.
    #[error("ticket {number} belongs to no request of this connector")]
    NotOurs { number: String },
    /// An approval whose duration field cannot be read; it is not applied.
    #[error("{}: {}", .0.field, .0.message)]
    InvalidDuration(FieldError),
    /// The ticket could not be read back.
    #[error("reading the ticket back failed: {0}")]
    ServiceNow(#[from] ServiceNowError),
    #[error(transparent)]
    Store(#[from] StoreError),
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

pub struct TicketCallback<S> {
    store: S,
    servicenow: ServiceNowClient,
}

/// The ticket fields a decision is read from: these, and the configured duration and notes fields.
const DECISION_FIELDS: [&str; 7] = [
    "sys_id",
    "number",
    "correlation_id",
    "approval",
    "active",
    "sys_updated_by",
    "sys_updated_on",
];

/// Every field [`TicketCallback::apply_ticket`] reads, for `sysparm_fields`.
pub fn decision_fields(settings: &ServiceNowSettings) -> Vec<&str> {
    DECISION_FIELDS
        .iter()
        .copied()
        .chain([
            settings.duration_field.as_str(),
            settings.notes_field.as_str(),
        ])
        .collect()
}

impl<S: RequestStore> TicketCallback<S> {
    pub fn new(store: S, servicenow: ServiceNowClient) -> Self {
        Self { store, servicenow }
    }

    /// Reads the ticket back and records what it says on its request: one Table API read, then
    /// [`Self::apply_ticket`].
    pub async fn apply_event(
        &self,
        event: TicketEvent,
        settings: &Settings,
    ) -> Result<Recorded, CallbackError> {
        let TicketEvent { task_type, sys_id } = event;
        let sn = &settings.servicenow;
        let record = self
            .servicenow
            .table(sn, task_type)
            .get(&sys_id, &decision_fields(sn))
            .await?
            .ok_or(CallbackError::NoSuchTicket { task_type, sys_id })?;
        self.apply_ticket(record, task_type, settings).await
    }

    /// Records what a ticket of `task_type` (read with [`decision_fields`]) says on its request: one store read
    /// and, when something changes, one conditional write.
    pub async fn apply_ticket(
        &self,
        record: TaskRecord,
        task_type: TaskType,
        settings: &Settings,
    ) -> Result<Recorded, CallbackError> {
        let pm_cloud_configured = settings.pm_cloud.is_some();
        let settings = &settings.servicenow;
        let ticket = record.ticket(task_type, &settings.instance_url)?;
        let current = self.request_of(&record, &ticket, settings).await?;
        let span =
            tracing::info_span!("request", request_id = %current.id, ticket = %ticket.number);
        async {
            let verdict = verdict(&record, settings, crate::domain::time::now()).map_err(|error| {
                tracing::warn!(field = %error.field, message = %error.message, "approval with an invalid duration not applied");
                CallbackError::InvalidDuration(error)
            })?;
            self.apply(current, verdict, ticket, pm_cloud_configured)
                .await
        }
        .instrument(span)
        .await
    }

    /// The request the ticket belongs to: by its `correlation_id`, and only if the ticket is that request's.
    async fn request_of(
        &self,
        record: &TaskRecord,
        ticket: &Ticket,
        settings: &ServiceNowSettings,
    ) -> Result<RequestRecord, CallbackError> {
        let not_ours = || CallbackError::NotOurs {
            number: ticket.number.clone(),
        };
        let correlation_id = record.correlation_id().ok_or_else(not_ours)?;
        let request = self
            .store
            .get(&correlation_id)
            .await?
            .ok_or_else(not_ours)?;
        let expected_table = request
            .ticket
            .as_ref()
            .map_or(settings.task_type, |t| t.table);
        let same_ticket = request
            .ticket
            .as_ref()
            .is_none_or(|t| t.sys_id == ticket.sys_id);
        if expected_table != ticket.table || !same_ticket {
            return Err(not_ours());
        }
        Ok(request)
    }

    /// Moves the request to the verdict, unless it is already final (then nothing changes). A decision then
    /// waits to be pushed to PM Cloud when `pm_cloud_configured`.
    async fn apply(
        &self,
        current: RequestRecord,
        verdict: Verdict,
        ticket: Ticket,
        pm_cloud_configured: bool,
    ) -> Result<Recorded, CallbackError> {
        let decide = |current: &RequestRecord| {
            let now = crate::domain::time::now();
            let next = match &verdict {
                _ if current.status.is_final() => return None,
                Verdict::Undecided => return None,
                Verdict::Cancelled => current.cancelled(ticket.clone(), pm_cloud_configured, now),
                Verdict::Decided(decision) => {
                    current.decided(decision.clone(), ticket.clone(), pm_cloud_configured, now)
                }
            };
            Some(next.expect("a request that is not final can be decided or cancelled"))
        };
        let (stored, changed) = match store::update(&self.store, current, decide).await? {
            Updated::Written(stored) => {
                tracing::info!(status = %stored.status, "decision recorded");
                metrics::counter!("DecisionsRecorded").increment(1);
                (stored, true)
            }
            Updated::Unchanged(stored) => (stored, false),
        };
        Ok(Recorded {
            request_id: stored.id,
            status: stored.status,
            changed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::tests::servicenow_settings_with as settings;
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
        assert!(TicketEvent::parse(ok.as_object().unwrap()).is_ok());
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
            let errors = TicketEvent::parse(bad.as_object().unwrap()).unwrap_err();
            assert_eq!(errors[0].field, field);
        }
    }
}
