//! Approvals where approvers are, with deadlines (CONTRACT §15 v3): approval records for the approver group on each
//! new ticket, the records still open closed once the request is decided, and the reminder, escalation and
//! expiry, each once, by the reconciler within one sweep of its time.
//!
//! Adding records for a group: one read of the ticket's records and one of the group's active members, then one
//! create per member without a record (looked up first, so that a retry never asks anyone twice), and one
//! conditional write of what was created (with the escalation's work note). A reminder or an expiry is one write
//! with its note, then the note's call ([`WorkNotes::store_noting`]). Closing: one read of the ticket's records
//! and one `PATCH` per record still `requested`, then one write.

use crate::domain::approval::{ApprovalRecordRef, Due};
use crate::domain::ids::SysId;
use crate::domain::record::RequestRecord;
use crate::domain::settings::ServiceNowSettings;
use crate::domain::time::now;
use crate::domain::work_note::Fact;
use crate::rules::work_notes::WorkNotes;
use crate::servicenow::{Closing, RecordState, ServiceNowClient, ServiceNowError};
use crate::store::{self, RequestStore, StoreError, Updated};

pub struct ApprovalRules<S> {
    store: S,
    servicenow: ServiceNowClient,
    notes: WorkNotes<S>,
}

/// Why a step was left for the next sweep.
#[derive(Debug, thiserror::Error)]
pub enum FollowUpError {
    #[error(transparent)]
    ServiceNow(#[from] ServiceNowError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S: RequestStore + Clone> ApprovalRules<S> {
    pub fn new(store: S, servicenow: ServiceNowClient) -> Self {
        Self {
            notes: WorkNotes::new(store.clone(), servicenow.clone()),
            store,
            servicenow,
        }
    }

    /// Does what is due on `request` now (CONTRACT §15), in order; a step ServiceNow refuses is left for the next
    /// sweep, and the steps after it too. Answers the request as stored. `pm_cloud_configured`: an expiry is pushed.
    pub async fn follow_up(
        &self,
        mut request: RequestRecord,
        settings: &ServiceNowSettings,
        pm_cloud_configured: bool,
    ) -> Result<RequestRecord, FollowUpError> {
        let Some(approvals) = request.approvals.clone() else {
            return Ok(request);
        };
        for due in approvals.due(request.status.is_final(), now()) {
            request = match due {
                Due::AddApprovers => {
                    let group = approvals.approver_group.clone();
                    self.add_approvers(request, settings, group.as_ref(), false)
                        .await?
                }
                Due::Remind => self.remind(request, settings).await?,
                Due::Escalate => {
                    let group = approvals.escalation_group.clone();
                    self.add_approvers(request, settings, group.as_ref(), true)
                        .await?
                }
                Due::Expire => self.expire(request, settings, pm_cloud_configured).await?,
                Due::Close => self.close(request, settings, Closing::NotRequired).await?,
            };
        }
        Ok(request)
    }

    /// One approval record per active member of `group` without one on the ticket (CONTRACT §15), and the
    /// step marked done (`escalation`: the escalation; else the approver group's records).
    pub async fn add_approvers(
        &self,
        request: RequestRecord,
        settings: &ServiceNowSettings,
        group: Option<&SysId>,
        escalation: bool,
    ) -> Result<RequestRecord, FollowUpError> {
        let Some(ticket) = request.ticket.clone() else {
            return Ok(request);
        };
        let mut created = Vec::new();
        let (mut group_name, mut asked_names) = (None, Vec::new());
        if let Some(group) = group {
            let existing = self
                .servicenow
                .approval_records(settings, &ticket.sys_id)
                .await?;
            for member in self.servicenow.active_members(settings, group).await? {
                group_name = group_name.or(member.group_name);
                let approver = member.user;
                let asked = existing
                    .iter()
                    .any(|r| r.approver.as_ref() == Some(&approver));
                if asked
                    || created
                        .iter()
                        .any(|r: &ApprovalRecordRef| r.approver == approver)
                {
                    continue;
                }
                let sys_id = self
                    .servicenow
                    .create_approval(settings, &ticket, &approver)
                    .await?;
                metrics::counter!("ApprovalRecordsCreated").increment(1);
                asked_names.push(member.user_name.unwrap_or_else(|| approver.to_string()));
                created.push(ApprovalRecordRef { approver, sys_id });
            }
        }
        let added = created.len();
        let fact = escalation.then_some(Fact::Escalated {
            group: group_name,
            asked: asked_names,
        });
        let record = |current: &RequestRecord| {
            let mut next = current.with_approvals(|a| {
                for record in &created {
                    if !a.has_record_for(&record.approver) {
                        a.records.push(record.clone());
                    }
                }
                if escalation {
                    a.escalated = true;
                } else {
                    a.approvers_added = true;
                }
            });
            next.updated_at = now();
            Some(next)
        };
        let stored = self
            .notes
            .store_noting(request, record, fact, settings)
            .await?;
        let stored = stored_after(stored);
        tracing::info!(request_id = %stored.id, added, escalation, "approval records added");
        Ok(stored)
    }

    /// The reminder: a work note naming who has not answered yet.
    async fn remind(
        &self,
        request: RequestRecord,
        settings: &ServiceNowSettings,
    ) -> Result<RequestRecord, FollowUpError> {
        let Some(ticket) = request.ticket.clone() else {
            return Ok(request);
        };
        let records = self
            .servicenow
            .approval_records(settings, &ticket.sys_id)
            .await?;
        let waiting_on = records
            .iter()
            .filter(|r| r.state == RecordState::Requested)
            .filter_map(|r| r.approver_name.clone())
            .collect();
        let marked = |current: &RequestRecord| Some(current.with_approvals(|a| a.reminded = true));
        let fact = Some(Fact::Reminder { waiting_on });
        let stored = self
            .notes
            .store_noting(request, marked, fact, settings)
            .await?;
        metrics::counter!("RemindersSent").increment(1);
        Ok(stored_after(stored))
    }

    /// The expiry: `expired`, PM Cloud told a denial (through the stream, as any decision), a work note, and the
    /// records still open cancelled.
    async fn expire(
        &self,
        request: RequestRecord,
        settings: &ServiceNowSettings,
        pm_cloud_configured: bool,
    ) -> Result<RequestRecord, FollowUpError> {
        let at = now();
        let expire = |current: &RequestRecord| current.expired(pm_cloud_configured, at);
        let hours = request
            .approvals
            .as_ref()
            .and_then(|a| a.expire_after_hours())
            .unwrap_or_default();
        let fact = Some(Fact::Expired { hours });
        let noted = match self
            .notes
            .store_noting(request, expire, fact, settings)
            .await?
        {
            Updated::Written(noted) => noted,
            // Decided meanwhile: the next step closes its records.
            Updated::Unchanged(current) => return Ok(current),
        };
        tracing::info!(request_id = %noted.id, "request expired: no decision in time");
        metrics::counter!("RequestsExpired").increment(1);
        self.close(noted, settings, Closing::Cancelled).await
    }

    /// The records on the ticket still `requested` become `closing` (CONTRACT §15: `not_required` once another
    /// answer decided, `cancelled` at expiry); then the step is marked done.
    pub async fn close(
        &self,
        request: RequestRecord,
        settings: &ServiceNowSettings,
        closing: Closing,
    ) -> Result<RequestRecord, FollowUpError> {
        let Some(ticket) = request.ticket.clone() else {
            return Ok(request);
        };
        if request
            .approvals
            .as_ref()
            .is_none_or(|a| a.closed || a.records.is_empty())
        {
            return Ok(request);
        }
        for record in self
            .servicenow
            .approval_records(settings, &ticket.sys_id)
            .await?
        {
            if record.state == RecordState::Requested {
                self.servicenow
                    .close_approval(settings, &record.sys_id, closing)
                    .await?;
            }
        }
        let marked = |current: &RequestRecord| Some(current.with_approvals(|a| a.closed = true));
        Ok(stored_after(
            store::update(&self.store, request, marked).await?,
        ))
    }
}

fn stored_after(updated: Updated) -> RequestRecord {
    match updated {
        Updated::Written(stored) | Updated::Unchanged(stored) => stored,
    }
}

#[cfg(test)]
#[path = "approvals_tests.rs"]
mod tests;
