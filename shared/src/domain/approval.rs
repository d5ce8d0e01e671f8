//! Approvals where approvers are, with deadlines (CONTRACT §15 v3), as kept on the request: which approval records
//! the connector created on the ticket, and when each deadline falls, counted from the ticket's creation with the
//! `approvals` settings of that moment. What is done is recorded once, so each step happens once.

use crate::domain::ids::SysId;
use crate::domain::record::{DecidedIn, Decision, Outcome, RequestRecord};
use crate::domain::settings::Approvals;
use crate::domain::status::Status;
use crate::domain::time::{Timestamp, rfc3339};
use serde::{Deserialize, Serialize};

/// How long after the ticket's creation the reconciler adds the approval records itself, if ticket-creator did not
/// (it normally adds them right after the create, in the same attempt).
pub const ADD_APPROVERS_AFTER: chrono::Duration = chrono::Duration::minutes(1);

/// `{"ticketCreatedAt", "approverGroup", "escalationGroup", "remindAt", "escalateAt", "expireAt", "records",
/// "approversAdded", "reminded", "escalated"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalState {
    /// The ticket's `sys_created_on` (UTC): where the deadlines count from.
    #[serde(with = "rfc3339")]
    pub ticket_created_at: Timestamp,
    pub approver_group: Option<SysId>,
    pub escalation_group: Option<SysId>,
    #[serde(default, with = "rfc3339::option")]
    pub remind_at: Option<Timestamp>,
    #[serde(default, with = "rfc3339::option")]
    pub escalate_at: Option<Timestamp>,
    #[serde(default, with = "rfc3339::option")]
    pub expire_at: Option<Timestamp>,
    /// `expireAfterHours` as configured, in milliseconds (times are kept to the second; the message quotes this).
    #[serde(default)]
    pub expire_after_ms: Option<i64>,
    /// The approval records the connector created, oldest first: one per approver, ever.
    #[serde(default)]
    pub records: Vec<ApprovalRecordRef>,
    /// The approver group's records are all created.
    #[serde(default)]
    pub approvers_added: bool,
    #[serde(default)]
    pub reminded: bool,
    #[serde(default)]
    pub escalated: bool,
    /// Once the request is decided (or expired), the records still `requested` are closed.
    #[serde(default)]
    pub closed: bool,
}

/// One approval record the connector created: `{"approver", "sysId"}` (both `sys_id`s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRecordRef {
    pub approver: SysId,
    pub sys_id: SysId,
}

/// What is due on a ticket, in the order it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// The request is decided: the records still `requested` are closed.
    Close,
    /// The approver group's records are not all created yet.
    AddApprovers,
    Remind,
    Escalate,
    Expire,
}

impl ApprovalState {
    /// The plan for a ticket created at `ticket_created_at` under `approvals`.
    pub fn plan(approvals: &Approvals, ticket_created_at: Timestamp) -> Self {
        let at = |after: Option<chrono::Duration>| {
            after.and_then(|after| ticket_created_at.checked_add_signed(after))
        };
        Self {
            ticket_created_at,
            approver_group: approvals.approver_group.clone(),
            escalation_group: approvals.escalation_group.clone(),
            remind_at: at(approvals.remind_after),
            escalate_at: at(approvals.escalate_after),
            expire_at: at(approvals.expire_after),
            expire_after_ms: approvals.expire_after.map(|after| after.num_milliseconds()),
            records: Vec::new(),
            approvers_added: approvals.approver_group.is_none(),
            reminded: false,
            escalated: false,
            closed: false,
        }
    }

    /// What is due at `now` on a request that is `decided` or not (oldest step first).
    pub fn due(&self, decided: bool, now: Timestamp) -> Vec<Due> {
        if decided {
            return self.close_due().into_iter().collect();
        }
        self.open_steps()
            .filter_map(|(due, at)| (at <= now).then_some(due))
            .collect()
    }

    /// When the next step falls due on a request that is `decided` or not, if one is left.
    pub fn next_due(&self, decided: bool) -> Option<Timestamp> {
        if decided {
            return self.close_due().map(|_| self.ticket_created_at);
        }
        self.open_steps().map(|(_, at)| at).min()
    }

    /// The steps of an undecided request not done yet, in order, each with when it falls due.
    fn open_steps(&self) -> impl Iterator<Item = (Due, Timestamp)> {
        [
            (Due::AddApprovers, self.add_approvers_at()),
            (Due::Remind, self.remind_at.filter(|_| !self.reminded)),
            (Due::Escalate, self.escalate_at.filter(|_| !self.escalated)),
            (Due::Expire, self.expire_at),
        ]
        .into_iter()
        .filter_map(|(due, at)| Some((due, at?)))
    }

    fn close_due(&self) -> Option<Due> {
        (!self.closed && !self.records.is_empty()).then_some(Due::Close)
    }

    fn add_approvers_at(&self) -> Option<Timestamp> {
        (!self.approvers_added).then(|| self.ticket_created_at + ADD_APPROVERS_AFTER)
    }

    /// Whether `approver` has a record the connector created.
    pub fn has_record_for(&self, approver: &SysId) -> bool {
        self.records.iter().any(|r| r.approver == *approver)
    }

    /// How long the request had (`expireAfterHours`), for the expiry's message: "24", "0.1".
    pub fn expire_after_hours(&self) -> Option<String> {
        let hours = self.expire_after_ms? as f64 / 3_600_000.0;
        let text = format!("{hours:.4}");
        Some(text.trim_end_matches('0').trim_end_matches('.').to_owned())
    }
}

impl RequestRecord {
    /// The request as expired at `now` (CONTRACT §15): `expired`, decided by the connector, PM Cloud told a
    /// denial with "No decision in ServiceNow within N hours" (when `pm_cloud_configured`). `None` when it is
    /// decided already, or has no ticket or no expiry.
    pub fn expired(&self, pm_cloud_configured: bool, now: Timestamp) -> Option<Self> {
        let approvals = self.approvals.as_ref()?;
        let hours = approvals.expire_after_hours()?;
        let ticket = self.ticket.clone()?;
        if !self.status.can_move_to(Status::Expired) {
            return None;
        }
        let decision = Decision {
            outcome: Outcome::Expired,
            duration: None,
            expires_at: None,
            decided_by: None,
            decided_at: now,
            notes: Some(format!("No decision in ServiceNow within {hours} hours")),
            decided_in: DecidedIn::Connector,
        };
        self.decided(decision, ticket, pm_cloud_configured, now)
            .ok()
    }

    /// Seconds from the ticket's creation (else the request's) to the decision, for the `DecisionLatencySeconds`
    /// metric (CONTRACT §15); `None` before a decision.
    pub fn decision_latency(&self) -> Option<f64> {
        let decided_at = self.decision.as_ref()?.decided_at;
        let from = self
            .approvals
            .as_ref()
            .map_or(self.created_at, |a| a.ticket_created_at);
        Some((decided_at - from).num_milliseconds().max(0) as f64 / 1000.0)
    }

    /// A copy whose approval state is changed by `change`, if it has one.
    pub fn with_approvals(&self, change: impl FnOnce(&mut ApprovalState)) -> Self {
        let mut next = self.clone();
        if let Some(approvals) = next.approvals.as_mut() {
            change(approvals);
        }
        next
    }
}

#[cfg(test)]
#[path = "approval_tests.rs"]
mod tests;
