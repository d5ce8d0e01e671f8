//! `ticket-callback`'s rules (CONTRACT §10): the webhook is only a signal. The ticket is read back from
//! ServiceNow and the decision is taken from that record, never from the event's body. Decisions are final.
//! (The signature is checked on the raw bytes before anything parses them, at the HTTP edge.)

use crate::domain::fields::{Collector, FieldError};
use crate::domain::ids::{RequestId, SysId};
use crate::domain::record::RequestRecord;
use crate::domain::settings::{ServiceNowSettings, Settings};
use crate::domain::status::Status;
use crate::domain::ticket::{TaskType, Ticket};
use crate::domain::ticket_state::{Approval, TicketState, Verdict, verdict};
use crate::domain::work_note::Fact;
use crate::rules::approvals::ApprovalRules;
use crate::rules::work_notes::WorkNotes;
use crate::servicenow::{
    APPROVAL_TABLE, ApprovalRecord, Closing, RecordState, ServiceNowClient, ServiceNowError,
    TaskRecord,
};
use crate::store::{self, RequestStore, StoreError, Updated};
use serde::Serialize;
use serde_json::{Map, Value};
use tracing::Instrument;

/// The event's body: which ticket, or which approval record of a ticket (CONTRACT §15 v3), changed. Other fields
/// are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketEvent {
    Ticket {
        task_type: TaskType,
        sys_id: SysId,
    },
    /// A `sysapproval_approver` record.
    Approval {
        sys_id: SysId,
    },
}

impl TicketEvent {
    /// `{"table": "incident" | … | "sysapproval_approver", "sys_id": "<32 hex>"}`, checked before either goes into a
    /// URL. Errors name `table` and `sys_id` when they are missing or not what they must be.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut c = Collector::default();
        let root = c.root(body);
        let task_type = c.parsed(&root, "table", true, usize::MAX, |table| {
            match table {
                APPROVAL_TABLE => Ok(None),
                task => TaskType::parse(task).map(Some).map_err(|_| {
                    "must be incident, change_request, sc_task, sc_req_item or sysapproval_approver"
                }),
            }
        });
        let sys_id = c.parsed(&root, "sys_id", true, usize::MAX, SysId::parse);
        c.finish(|| {
            let sys_id = sys_id.expect("reported when missing");
            match task_type.expect("reported when missing") {
                Some(task_type) => Self::Ticket { task_type, sys_id },
                None => Self::Approval { sys_id },
            }
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
    #[error("ServiceNow has no {table} record {sys_id} for this user")]
    NoSuchTicket { table: &'static str, sys_id: SysId },
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

pub struct TicketCallback<S> {
    store: S,
    servicenow: ServiceNowClient,
    notes: WorkNotes<S>,
    approvals: ApprovalRules<S>,
}

impl<S: RequestStore + Clone> TicketCallback<S> {
    pub fn new(store: S, servicenow: ServiceNowClient) -> Self {
        Self {
            notes: WorkNotes::new(store.clone(), servicenow.clone()),
            approvals: ApprovalRules::new(store.clone(), servicenow.clone()),
            store,
            servicenow,
        }
    }

    /// Reads the ticket (or the approval record, then its ticket) back and records what it says on its request:
    /// one Table API read (two for an approval record), then [`Self::apply_ticket`] (or [`Self::apply_approval`]).
    pub async fn apply_event(
        &self,
        event: TicketEvent,
        settings: &Settings,
    ) -> Result<Recorded, CallbackError> {
        let sn = &settings.servicenow;
        let (task_type, sys_id) = match event {
            TicketEvent::Ticket { task_type, sys_id } => (task_type, sys_id),
            TicketEvent::Approval { sys_id } => {
                let record = self.servicenow.approval_record(sn, &sys_id).await?.ok_or(
                    CallbackError::NoSuchTicket {
                        table: APPROVAL_TABLE,
                        sys_id,
                    },
                )?;
                return self.apply_approval(record, settings).await;
            }
        };
        let record = self.ticket(sn, task_type, sys_id).await?;
        self.apply_ticket(record, task_type, settings).await
    }

    /// The ticket `sys_id` of `task_type` as read back.
    async fn ticket(
        &self,
        sn: &ServiceNowSettings,
        task_type: TaskType,
        sys_id: SysId,
    ) -> Result<TaskRecord, CallbackError> {
        let table = task_type.table();
        self.servicenow
            .table(sn, task_type)
            .get_state(&sys_id)
            .await?
            .ok_or(CallbackError::NoSuchTicket { table, sys_id })
    }

    /// Records what an approval record (read back) says on its ticket's request (CONTRACT §15): an `approved` or
    /// `rejected` record decides as the ticket's own approval would, by that approver (`decidedBy` its
    /// `user_name`, `decidedAt` the record's `sys_updated_on`), with the duration from the ticket's field; any other
    /// record leaves the ticket to say what it says. One more Table API read (the ticket).
    pub async fn apply_approval(
        &self,
        approval: ApprovalRecord,
        settings: &Settings,
    ) -> Result<Recorded, CallbackError> {
        let sn = &settings.servicenow;
        let not_ours = || CallbackError::NotOurs {
            number: format!("approval {}", approval.sys_id),
        };
        let task = approval.task.clone().ok_or_else(not_ours)?;
        let task_type = approval.task_type.unwrap_or(sn.task_type);
        let record = self.ticket(sn, task_type, task).await?;
        let decided_by_record = match approval.state {
            RecordState::Approved => Some(Approval::Approved),
            RecordState::Rejected => Some(Approval::Rejected),
            RecordState::Requested | RecordState::Closed => None,
        };
        let Some(verdict) = decided_by_record else {
            return self.apply_ticket(record, task_type, settings).await;
        };
        let mut state = record.state(task_type, sn)?;
        state.approval = verdict;
        state.updated_by = approval.approver_name.clone();
        state.updated_on = approval.updated_on.or(state.updated_on);
        self.apply_state(state, settings).await
    }

    /// Records what a ticket of `task_type` (read by [`crate::servicenow::Table::get_state`]) says on its request:
    /// one store read and, when something changes, one conditional write.
    pub async fn apply_ticket(
        &self,
        record: TaskRecord,
        task_type: TaskType,
        settings: &Settings,
    ) -> Result<Recorded, CallbackError> {
        let state = record.state(task_type, &settings.servicenow)?;
        self.apply_state(state, settings).await
    }

    /// Records what `state` (a ticket, or a ticket as an approval record decides it) says on its request: one
    /// store read and, when something changes, one conditional write; then the approval records still open are
    /// closed (CONTRACT §15).
    async fn apply_state(
        &self,
        state: TicketState,
        all: &Settings,
    ) -> Result<Recorded, CallbackError> {
        let pm_cloud_configured = all.pm_cloud.is_some();
        let settings = &all.servicenow;
        let current = self.request_of(&state, settings).await?;
        let ticket = state.ticket.clone();
        let span =
            tracing::info_span!("request", request_id = %current.id, ticket = %ticket.number);
        async {
            // Decisions are final (CONTRACT §10): whatever the ticket says now, even a duration that could not be
            // applied, changes nothing.
            if current.status.is_final() {
                return Ok(Recorded {
                    request_id: current.id,
                    status: current.status,
                    changed: false,
                });
            }
            match verdict(
                &state,
                &current.details,
                settings,
                crate::domain::time::now(),
            ) {
                Ok(verdict) => {
                    let (recorded, stored) = self
                        .apply(current, verdict, ticket, pm_cloud_configured)
                        .await?;
                    if recorded.changed {
                        self.close_approvals(stored, settings).await;
                    }
                    Ok(recorded)
                }
                Err(error) => Err(self.not_applied(current, error, settings).await),
            }
        }
        .instrument(span)
        .await
    }

    /// An approval whose duration is invalid is not applied; the ticket is told why and what to write instead
    /// (CONTRACT §10, §14: a work note, once per problem, never holding the answer back beyond its bound).
    async fn not_applied(
        &self,
        current: RequestRecord,
        error: FieldError,
        settings: &ServiceNowSettings,
    ) -> CallbackError {
        tracing::warn!(field = %error.field, message = %error.message, "approval with an invalid duration not applied");
        let fact = Fact::ApprovalNotApplied {
            problem: format!("{}: {}", error.field, error.message),
        };
        if let Err(store) = self.notes.note(current, &fact, settings).await {
            tracing::warn!(error = %store, "the work note could not be recorded");
        }
        CallbackError::InvalidDuration(error)
    }

    /// The request the ticket belongs to: by its `correlation_id`, and only if the ticket is that request's.
    async fn request_of(
        &self,
        state: &TicketState,
        settings: &ServiceNowSettings,
    ) -> Result<RequestRecord, CallbackError> {
        let ticket = &state.ticket;
        let not_ours = || CallbackError::NotOurs {
            number: ticket.number.clone(),
        };
        let correlation_id = state.correlation.clone().ok_or_else(not_ours)?;
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
        // While the request has no recorded ticket, only one the connector's own user created can be its own.
        let adoptable =
            request.ticket.is_some() || state.created_by_connector(settings.connector_user());
        if expected_table != ticket.table || !same_ticket || !adoptable {
            return Err(not_ours());
        }
        Ok(request)
    }

    /// Once decided, the approval records still `requested` become `not_required` (CONTRACT §15); what cannot be
    /// closed now is closed by the reconciler's follow-ups.
    async fn close_approvals(&self, stored: RequestRecord, settings: &ServiceNowSettings) {
        if let Err(error) = self
            .approvals
            .close(stored, settings, Closing::NotRequired)
            .await
        {
            tracing::warn!(%error, "approval records left open for the reconciler to close");
        }
    }

    /// Moves the request to the verdict, unless it is already final (then nothing changes). A decision then
    /// waits to be pushed to PM Cloud when `pm_cloud_configured`. Answers the outcome and the request as stored.
    async fn apply(
        &self,
        current: RequestRecord,
        verdict: Verdict,
        ticket: Ticket,
        pm_cloud_configured: bool,
    ) -> Result<(Recorded, RequestRecord), CallbackError> {
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
                if let Some(seconds) = stored.decision_latency() {
                    metrics::histogram!("DecisionLatencySeconds").record(seconds);
                }
                (stored, true)
            }
            Updated::Unchanged(stored) => (stored, false),
        };
        let recorded = Recorded {
            request_id: stored.id.clone(),
            status: stored.status,
            changed,
        };
        Ok((recorded, stored))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
