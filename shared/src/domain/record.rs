//! A stored request: what was asked, where it stands, and the resource PM Cloud reads (CONTRACT §7).

use crate::domain::duration::Duration;
use crate::domain::ids::{PmcRequestId, RequestId};
use crate::domain::request::{ContentHash, NewRequest, RequestType, Submission};
use crate::domain::status::Status;
use crate::domain::ticket::Ticket;
use crate::domain::time::{Timestamp, rfc3339};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Approved,
    Denied,
    /// v3: nobody decided in time (CONTRACT §15); the connector decided, and PM Cloud hears a denial.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub outcome: Outcome,
    pub duration: Option<Duration>,
    #[serde(with = "rfc3339::option")]
    pub expires_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    #[serde(with = "rfc3339")]
    pub decided_at: Timestamp,
    pub notes: Option<String>,
    /// Where it was made (CONTRACT §7 v3); records stored before v3 were all made in ServiceNow.
    #[serde(default)]
    pub decided_in: DecidedIn,
}

/// Where a decision was made (CONTRACT §7 `decision.decidedIn`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecidedIn {
    /// An approver in ServiceNow, on the ticket or an approval record.
    #[default]
    ServiceNow,
    /// PM Cloud's own portal, found by the PM Cloud sweep or its *Decision Updated* webhook (§13): never pushed
    /// back.
    PmCloud,
    /// The connector itself (expiry, §15).
    Connector,
}

/// How the connector learnt of a request (CONTRACT §5, §13).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    /// PM Cloud's *Ticket Created* webhook (`POST /v1/requests`).
    #[default]
    Webhook,
    /// The PM Cloud sweep found it pending with no webhook seen: a webhook arriving later gets it back with
    /// `200`, whatever that webhook holds.
    PmCloudSweep,
}

/// Why a request became `failed` (CONTRACT §7 `failure.code`), spelt as the contract spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureCode {
    /// The OAuth grant was refused, or the Table API refused a fresh token.
    #[serde(rename = "servicenow_auth_failed")]
    AuthFailed,
    /// ServiceNow refused the record: `400` (bad fields) or `403` (ACL, business rule, data policy).
    #[serde(rename = "servicenow_rejected")]
    Rejected,
    /// `404`: the table does not exist for this user, or an ACL hides it.
    #[serde(rename = "servicenow_not_found")]
    NotFound,
    /// The settings secret is invalid, so no ticket can be opened until an administrator fixes it.
    #[serde(rename = "settings_invalid")]
    SettingsInvalid,
    /// ServiceNow created the ticket without the `correlation_id` that was sent (a field ACL, data policy or
    /// business rule dropped it): no later event could be matched to the request.
    #[serde(rename = "correlation_not_stored")]
    CorrelationNotStored,
}

impl FailureCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthFailed => "servicenow_auth_failed",
            Self::Rejected => "servicenow_rejected",
            Self::NotFound => "servicenow_not_found",
            Self::SettingsInvalid => "settings_invalid",
            Self::CorrelationNotStored => "correlation_not_stored",
        }
    }
}

/// `{"code", "detail"}`: `detail` is written for an administrator and never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub code: FailureCode,
    pub detail: String,
}

/// Where the push of a decision to PM Cloud stands (CONTRACT §7 `pmCloudNotification.state`, §12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationState {
    /// The decision waits to be pushed.
    Pending,
    Delivered,
    /// PM Cloud refused it for a reason that retrying cannot fix.
    Failed,
    /// No `pmCloud` settings when the decision was made: it is not pushed.
    NotConfigured,
}

/// `{"state", "attempts", "at", "detail"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PmCloudNotification {
    pub state: NotificationState,
    /// Calls made to PM Cloud's notification endpoint so far.
    pub attempts: u32,
    /// When the state was entered (UTC); a retry does not move it.
    #[serde(with = "rfc3339")]
    pub at: Timestamp,
    /// Why it failed, or while pending why the last attempt did not get through; never a secret.
    pub detail: Option<String>,
}

/// The request as stored. Besides the resource's fields: what was submitted, its fingerprint, a lease and the
/// revision that makes every write a compare-and-swap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    pub id: RequestId,
    pub pmc_request_id: PmcRequestId,
    pub request_type: RequestType,
    pub status: Status,
    pub ticket: Option<Ticket>,
    pub decision: Option<Decision>,
    pub failure: Option<Failure>,
    /// Requests stored before decisions were pushed have none.
    #[serde(default)]
    pub pm_cloud_notification: Option<PmCloudNotification>,
    #[serde(with = "rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "rfc3339")]
    pub updated_at: Timestamp,
    pub details: NewRequest,
    pub content_hash: ContentHash,
    /// Until when a function may be talking to ServiceNow or PM Cloud about this request (UTC): another one
    /// leaves the request alone until then.
    #[serde(default, with = "rfc3339::option")]
    pub lease_until: Option<Timestamp>,
    /// How many times a function leased the request to create its ticket (CONTRACT §9); absent on requests
    /// stored before they were counted, which are looked up before a create as if one had been sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_attempts: Option<u32>,
    /// How the connector learnt of it.
    #[serde(default)]
    pub origin: Origin,
    /// What the ticket is to be told, and what it was told (CONTRACT §14), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub work_notes: Vec<crate::domain::work_note::WorkNote>,
    /// Approval records and deadlines (CONTRACT §15), when `approvals` was configured as the ticket was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<crate::domain::approval::ApprovalState>,
    /// How many times the stored request was replaced; a replace succeeds only from the revision it was read at.
    #[serde(default)]
    pub revision: u64,
}

/// The request resource exactly as CONTRACT §7 shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestResource<'a> {
    pub id: &'a RequestId,
    pub pmc_request_id: &'a PmcRequestId,
    pub request_type: RequestType,
    pub status: Status,
    pub ticket: &'a Option<Ticket>,
    pub decision: &'a Option<Decision>,
    pub failure: &'a Option<Failure>,
    pub pm_cloud_notification: &'a Option<PmCloudNotification>,
    #[serde(with = "rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "rfc3339")]
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} request cannot become {to}")]
pub struct InvalidTransition {
    pub from: Status,
    pub to: Status,
}

impl RequestRecord {
    /// A new `pending` request with the id `id` (the store's [`crate::store::RequestStore::request_id_for`] its
    /// `pmcRequestId`).
    pub fn new(submission: Submission, id: RequestId, now: Timestamp) -> Self {
        let Submission {
            request: details,
            content_hash,
        } = submission;
        Self {
            id,
            pmc_request_id: details.pmc_request_id.clone(),
            request_type: details.request_type,
            status: Status::Pending,
            ticket: None,
            decision: None,
            failure: None,
            pm_cloud_notification: None,
            created_at: now,
            updated_at: now,
            details,
            content_hash,
            lease_until: None,
            create_attempts: Some(0),
            origin: Origin::Webhook,
            work_notes: Vec::new(),
            approvals: None,
            revision: 0,
        }
    }

    pub fn resource(&self) -> RequestResource<'_> {
        RequestResource {
            id: &self.id,
            pmc_request_id: &self.pmc_request_id,
            request_type: self.request_type,
            status: self.status,
            ticket: &self.ticket,
            decision: &self.decision,
            failure: &self.failure,
            pm_cloud_notification: &self.pm_cloud_notification,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// A copy moved to `next`, or the reason it may not move.
    fn moved_to(&self, next: Status, now: Timestamp) -> Result<Self, InvalidTransition> {
        if !self.status.can_move_to(next) {
            return Err(InvalidTransition {
                from: self.status,
                to: next,
            });
        }
        Ok(Self {
            status: next,
            updated_at: now,
            ..self.clone()
        })
    }

    /// The ticket exists; a create lease ends.
    pub fn ticketed(&self, ticket: Ticket, now: Timestamp) -> Result<Self, InvalidTransition> {
        let mut next = self.moved_to(Status::Ticketed, now)?;
        next.ticket = Some(ticket);
        next.lease_until = None;
        Ok(next)
    }

    /// Retrying cannot help; a create lease ends.
    pub fn failed(&self, failure: Failure, now: Timestamp) -> Result<Self, InvalidTransition> {
        let mut next = self.moved_to(Status::Failed, now)?;
        next.failure = Some(failure);
        next.lease_until = None;
        Ok(next)
    }

    /// Records an approval or denial; the ticket is recorded too, for a decision that beat `ticket-creator`.
    /// The decision then waits to be pushed to PM Cloud, or is `not_configured` when `pm_cloud_configured` is
    /// false (CONTRACT §12).
    pub fn decided(
        &self,
        decision: Decision,
        ticket: Ticket,
        pm_cloud_configured: bool,
        now: Timestamp,
    ) -> Result<Self, InvalidTransition> {
        let status = match decision.outcome {
            Outcome::Approved => Status::Approved,
            Outcome::Denied => Status::Denied,
            Outcome::Expired => Status::Expired,
        };
        let mut next = self.concluded(status, ticket, pm_cloud_configured, now)?;
        // PM Cloud made it: nothing to push back (CONTRACT §13).
        if decision.decided_in == DecidedIn::PmCloud {
            next.pm_cloud_notification = None;
        }
        next.decision = Some(decision);
        Ok(next)
    }

    /// The ticket was closed without a decision; PM Cloud hears of it as a denial (CONTRACT §12).
    pub fn cancelled(
        &self,
        ticket: Ticket,
        pm_cloud_configured: bool,
        now: Timestamp,
    ) -> Result<Self, InvalidTransition> {
        self.concluded(Status::Cancelled, ticket, pm_cloud_configured, now)
    }

    fn concluded(
        &self,
        status: Status,
        ticket: Ticket,
        pm_cloud_configured: bool,
        now: Timestamp,
    ) -> Result<Self, InvalidTransition> {
        let mut next = self.moved_to(status, now)?;
        next.ticket.get_or_insert(ticket);
        next.lease_until = None;
        next.pm_cloud_notification = Some(PmCloudNotification {
            state: if pm_cloud_configured {
                NotificationState::Pending
            } else {
                NotificationState::NotConfigured
            },
            attempts: 0,
            at: now,
            detail: None,
        });
        Ok(next)
    }

    /// A copy without a lease.
    pub fn unleased(&self) -> Self {
        Self {
            lease_until: None,
            ..self.clone()
        }
    }

    /// True while another function may be talking to ServiceNow or PM Cloud about this request.
    pub fn is_leased(&self, now: Timestamp) -> bool {
        self.lease_until.is_some_and(|until| now < until)
    }

    /// A copy leased until `until`.
    pub fn leased(&self, until: Timestamp) -> Self {
        Self {
            lease_until: Some(until),
            ..self.clone()
        }
    }

    /// A copy leased until `until` for one more attempt to create its ticket.
    pub fn leased_to_create(&self, until: Timestamp) -> Self {
        Self {
            create_attempts: self
                .create_attempts
                .map(|attempts| attempts.saturating_add(1)),
            ..self.leased(until)
        }
    }

    /// True when the attempt that leased the request is its first: no create can have been sent for it before,
    /// so no ticket can carry its id yet.
    pub fn first_create_attempt(&self) -> bool {
        self.create_attempts == Some(1)
    }

    /// The decision waits to be pushed to PM Cloud.
    pub fn push_pending(&self) -> bool {
        self.pm_cloud_notification
            .as_ref()
            .is_some_and(|n| n.state == NotificationState::Pending)
    }

    /// A copy whose push ended in `state` with `detail` (still `Pending` after a transient failure), after
    /// `calls` more calls to PM Cloud; the lease ends, and `at` moves only when the state changes.
    pub fn push_ended(
        &self,
        state: NotificationState,
        detail: Option<String>,
        calls: u32,
        now: Timestamp,
    ) -> Self {
        let mut next = self.clone();
        next.lease_until = None;
        next.updated_at = now;
        if let Some(notification) = next.pm_cloud_notification.as_mut() {
            notification.attempts += calls;
            notification.detail = detail;
            if notification.state != state {
                notification.state = state;
                notification.at = now;
            }
        }
        next
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
pub(crate) mod tests;
