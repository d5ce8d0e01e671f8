//! `ticket-creator`'s rules (CONTRACT §9, §13): exactly one ticket per request, whatever is retried or
//! redelivered, even when the function died between creating a ticket and recording it, and even when
//! ServiceNow commits a create after the connector stopped waiting for it. The reconciler drives stranded
//! requests through the same rules.
//!
//! One request: a store read; when ServiceNow asked every function to pause (read once per batch), nothing
//! more. Otherwise a conditional write that leases the request for 120 s, a Table API lookup by
//! `correlation_id` (except on the request's first attempt, when no create can have been sent), a create only
//! when it found nothing, and a conditional write of the outcome: on the first attempt, two writes and one
//! ServiceNow call. With `pmCloud`
//! configured, a create is preceded by a read of PM Cloud's pause and one read of PM Cloud's record of the request
//! (CONTRACT §5), bounded by [`crate::rules::pmcloud_mirror::READ_BACK_TIME`] and never holding the ticket back. A create whose
//! outcome is unknown (no answer) keeps the lease, so no one looks up or creates again before ServiceNow has
//! certainly finished with it (it cancels a transaction after 60 s).

use crate::domain::approval::ApprovalState;
use crate::domain::deadline::Deadline;
use crate::domain::ids::RequestId;
use crate::domain::record::{Failure, FailureCode, InvalidTransition, RequestRecord};
use crate::domain::redact::{Detailed, redact};
use crate::domain::settings::{ServiceNowSettings, Settings};
use crate::domain::status::Status;
use crate::domain::ticket::Ticket;
use crate::domain::ticket_content::Confirmation;
use crate::domain::time::{Timestamp, now};
use crate::outbound::failure::Transient;
use crate::pmcloud::{PmCloudClient, ReadBack};
use crate::rules::approvals::ApprovalRules;
use crate::rules::pace::Pace;
use crate::rules::pmcloud_mirror::read_paced;
use crate::rules::stream::{self, Budget, StreamItem};
use crate::secrets::{SettingsError, SettingsSource};
use crate::servicenow::{NewTicket, ServiceNowClient, ServiceNowError, Table, TaskRecord};
use crate::store::{self, Remote, RequestStore, SharedState, Updated};

/// How long a create may be in doubt: longer than ServiceNow lets a transaction run (60 s).
const CREATE_LEASE: chrono::Duration = chrono::Duration::seconds(120);
/// The longest one request may take: a token grant, a lookup and a create, each bounded by the HTTP client's
/// timeout ([`crate::outbound::client::REQUEST_TIMEOUT`]), and PM Cloud's read-back; a batch starts no request
/// with less time left.
const RECORD_TIME: std::time::Duration = std::time::Duration::from_secs(35);
/// How long the settings may stay invalid before pending requests fail (CONTRACT §2).
pub const SETTINGS_GRACE: chrono::Duration = chrono::Duration::hours(1);

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    Ticketed(Ticket),
    /// Not pending any more (ticketed, decided or failed by an earlier delivery or a callback).
    AlreadyDone(Status),
    Failed(Failure),
    /// Left pending for a later pass (a pause ServiceNow asked for, a create still in doubt); the detail says why.
    Deferred(String),
}

pub struct TicketCreator<S, C> {
    store: S,
    settings: C,
    servicenow: ServiceNowClient,
    pm_cloud: PmCloudClient,
    approvals: ApprovalRules<S>,
}

/// How a find-or-create ended when it did not find or create a ticket.
enum NoTicket {
    Error(ServiceNowError),
    /// The create was sent at `sent_at` and got no answer: ServiceNow may still commit it.
    InDoubt {
        detail: String,
        sent_at: Timestamp,
    },
    /// The create answered, but without the `correlation_id` that was sent.
    CorrelationNotStored(String),
}

impl NoTicket {
    /// Without any of the settings' secrets in its detail, before it is logged or stored.
    fn redacted(self, settings: &Settings) -> Self {
        match self {
            Self::Error(error) => Self::Error(error.redacted(settings.secrets())),
            Self::InDoubt { detail, sent_at } => Self::InDoubt {
                detail: redact(&detail, settings.secrets()),
                sent_at,
            },
            Self::CorrelationNotStored(detail) => {
                Self::CorrelationNotStored(redact(&detail, settings.secrets()))
            }
        }
    }
}

impl<S: RequestStore + SharedState + Clone, C: SettingsSource> TicketCreator<S, C> {
    pub fn new(
        store: S,
        settings: C,
        servicenow: ServiceNowClient,
        pm_cloud: PmCloudClient,
    ) -> Self {
        Self {
            approvals: ApprovalRules::new(store.clone(), servicenow.clone()),
            store,
            settings,
            servicenow,
            pm_cloud,
        }
    }

    /// Processes a batch in order until `deadline`; see [`stream::process_batch`] for what is reported as failed.
    pub async fn process_batch(&self, items: Vec<StreamItem>, deadline: Deadline) -> Vec<String> {
        let pace = Pace::new(Remote::ServiceNow);
        let pace = &pace;
        let budget = Budget {
            deadline,
            per_record: RECORD_TIME,
        };
        stream::process_batch(items, budget, |request| async move {
            self.process_paced(&request.id, pace).await
        })
        .await
    }

    /// [`Self::process_paced`] with a pace of its own.
    pub async fn process(&self, id: &RequestId) -> Result<Processed, Transient> {
        self.process_paced(id, &Pace::new(Remote::ServiceNow)).await
    }

    /// Brings one request from `pending` to `ticketed` (or `failed`), creating its ticket only if none exists.
    pub async fn process_paced(&self, id: &RequestId, pace: &Pace) -> Result<Processed, Transient> {
        let current = stream::stored(&self.store, id).await?;
        if current.status != Status::Pending {
            return Ok(Processed::AlreadyDone(current.status));
        }
        if let Some(until) = pace.until(&self.store, now()).await? {
            return Ok(Processed::Deferred(format!(
                "ServiceNow asked the connector to pause until {until}"
            )));
        }
        if current.is_leased(now()) {
            return Ok(Processed::Deferred(
                "an earlier create's outcome is not known yet; the request is looked up once its lease ends".into(),
            ));
        }
        let settings = match self.settings.settings().await {
            Ok(settings) => settings,
            Err(error @ SettingsError::Unavailable(_)) => {
                return Err(Transient::new(error.to_string()));
            }
            Err(error @ SettingsError::Invalid(_)) => {
                return self.while_settings_invalid(current, error).await;
            }
        };
        let lease = |pending: &RequestRecord| {
            let now = now();
            (pending.status == Status::Pending && !pending.is_leased(now))
                .then(|| pending.leased_to_create(now + CREATE_LEASE))
        };
        let leased = match store::update(&self.store, current, lease).await? {
            Updated::Written(leased) => leased,
            Updated::Unchanged(now) if now.status != Status::Pending => {
                return Ok(Processed::AlreadyDone(now.status));
            }
            Updated::Unchanged(_) => {
                return Ok(Processed::Deferred(
                    "another function is creating the ticket".into(),
                ));
            }
        };
        let sn = &settings.servicenow;
        match self
            .find_or_create(&leased, &settings)
            .await
            .map_err(|no_ticket| no_ticket.redacted(&settings))
        {
            Ok(record) => {
                let ticket = record.ticket(sn.task_type, &sn.instance_url)?;
                let created_at = record.created_on().unwrap_or_else(now);
                let plan = sn
                    .approvals
                    .as_ref()
                    .map(|a| ApprovalState::plan(a, created_at));
                let processed = Processed::Ticketed(ticket.clone());
                let (processed, ticketed) = self
                    .settle(leased, processed, |pending| {
                        let mut ticketed = pending.ticketed(ticket.clone(), now())?;
                        ticketed.approvals.clone_from(&plan);
                        Ok::<_, InvalidTransition>(ticketed)
                    })
                    .await?;
                if let Some(ticketed) = ticketed {
                    self.add_approvers(ticketed, sn).await;
                }
                Ok(processed)
            }
            Err(NoTicket::CorrelationNotStored(detail)) => {
                self.fail(leased, FailureCode::CorrelationNotStored, detail)
                    .await
            }
            Err(NoTicket::Error(error)) => self.after_error(leased, error, pace).await,
            Err(NoTicket::InDoubt { detail, sent_at }) => {
                self.in_doubt(leased, detail, sent_at).await
            }
        }
    }

    /// The ticket that carries the request's id, or a new one; the create must store the id it was sent. The
    /// lookup is skipped on the request's first attempt, whose lease was the first ever written for it: no create
    /// was sent before it, so no ticket of ours can carry the id (the id is derived with the table's secret key,
    /// so nobody else can know it either).
    async fn find_or_create(
        &self,
        request: &RequestRecord,
        settings: &Settings,
    ) -> Result<TaskRecord, NoTicket> {
        let sn = &settings.servicenow;
        let table = self.servicenow.table(sn, sn.task_type);
        if !request.first_create_attempt()
            && let Some(found) = find_ours(&table, request).await?
        {
            tracing::info!("found the ticket an earlier attempt created");
            return Ok(found);
        }
        let (shown, confirmation) = self.read_back(request, settings).await;
        let sent_at = now();
        let created = table
            .create(&NewTicket::of(&shown, &confirmation, sn))
            .await
            .map_err(|error| match error {
                ServiceNowError::Transient(Transient {
                    unanswered: true,
                    detail,
                    ..
                }) => NoTicket::InDoubt { detail, sent_at },
                error => NoTicket::Error(error),
            })?;
        metrics::counter!("TicketsCreated").increment(1);
        if created.correlation_id().as_ref() != Some(&request.id) {
            return Err(NoTicket::CorrelationNotStored(format!(
                "ServiceNow created ticket {} without the correlation_id that was sent (a field ACL, data \
                 policy or business rule dropped it), so no decision on it could be matched to this request",
                created.number().unwrap_or("(no number)")
            )));
        }
        Ok(created)
    }

    /// The request as its ticket shows it: with PM Cloud's values where PM Cloud's record of it has them
    /// (CONTRACT §5), and whether PM Cloud confirmed them. One read of PM Cloud's pause and one call (plus a token
    /// grant when due), bounded by [`crate::rules::pmcloud_mirror::READ_BACK_TIME`]; a `429` pauses PM Cloud for every function. Whatever
    /// happens, the ticket is made: from the webhook's values, saying why PM Cloud did not confirm them.
    async fn read_back(
        &self,
        request: &RequestRecord,
        settings: &Settings,
    ) -> (RequestRecord, Confirmation) {
        let Some(pm_cloud) = &settings.pm_cloud else {
            return (request.clone(), Confirmation::NotAsked);
        };
        let not_confirmed = |why: String| {
            tracing::warn!(%why, "PM Cloud did not confirm the webhook's values");
            (request.clone(), Confirmation::NotConfirmed(why))
        };
        let read = read_paced(
            &self.store,
            &self.pm_cloud,
            pm_cloud,
            &request.pmc_request_id,
            settings,
        );
        match read.await {
            Ok(Some(record)) => {
                let read = ReadBack::of(&record);
                let mut shown = request.clone();
                shown.details = read.confirm(&request.details);
                (shown, Confirmation::Confirmed(read.confirmed()))
            }
            Ok(None) => {
                not_confirmed("PM Cloud answered 404: it holds no request with this id".into())
            }
            Err(why) => not_confirmed(why),
        }
    }

    /// Right after the ticket: its approval records (CONTRACT §15), on `ticketed` as stored. A failure is logged
    /// and left to the reconciler's follow-ups, which add them a minute after the ticket's creation; the ticket is
    /// made either way.
    async fn add_approvers(&self, ticketed: RequestRecord, settings: &ServiceNowSettings) {
        let Some(group) = settings
            .approvals
            .as_ref()
            .and_then(|a| a.approver_group.as_ref())
        else {
            return;
        };
        if let Err(error) = self
            .approvals
            .add_approvers(ticketed, settings, Some(group), false)
            .await
        {
            tracing::warn!(%error, "approval records left to the reconciler");
        }
    }
}

/// The ticket an earlier attempt created for `request`, if any (one Table API lookup by `correlation_id`).
async fn find_ours(
    table: &Table<'_>,
    request: &RequestRecord,
) -> Result<Option<TaskRecord>, NoTicket> {
    // A lookup changes nothing, so one that got no answer leaves nothing in doubt.
    table
        .find_by_correlation_id(&request.id)
        .await
        .map_err(|error| match error {
            ServiceNowError::Transient(transient) => ServiceNowError::Transient(Transient {
                unanswered: false,
                ..transient
            }),
            permanent => permanent,
        })
        .map_err(NoTicket::Error)
}

impl From<ServiceNowError> for Transient {
    fn from(error: ServiceNowError) -> Self {
        Self::new(error.to_string())
    }
}

mod outcomes;

#[cfg(test)]
mod tests;
