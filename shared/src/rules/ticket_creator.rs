//! `ticket-creator`'s rules (CONTRACT §9): exactly one ticket per request, whatever is retried or redelivered,
//! and even when the function died between creating a ticket and recording it.

use crate::domain::record::{Failure, FailureCode, RequestRecord};
use crate::domain::settings::ServiceNowSettings;
use crate::domain::status::Status;
use crate::domain::ticket::Ticket;
use crate::domain::ticket_content::ticket_fields;
use crate::rules::stream::{self, Retry, StreamItem};
use crate::secrets::{SettingsError, SettingsSource};
use crate::servicenow::{ServiceNowClient, ServiceNowError};
use crate::store::{self, RequestStore, Updated};

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    Ticketed(Ticket),
    /// Not pending any more (ticketed, decided or failed by an earlier delivery or a callback).
    AlreadyDone(Status),
    Failed(Failure),
}

pub struct TicketCreator<S, C> {
    store: S,
    settings: C,
    servicenow: ServiceNowClient,
}

impl<S: RequestStore, C: SettingsSource> TicketCreator<S, C> {
    pub fn new(store: S, settings: C, servicenow: ServiceNowClient) -> Self {
        Self {
            store,
            settings,
            servicenow,
        }
    }

    /// Processes a batch in order; see [`stream::process_batch`] for what is reported as failed.
    pub async fn process_batch(&self, items: Vec<StreamItem>) -> Vec<String> {
        stream::process_batch(items, |request| async move { self.process(&request).await }).await
    }

    /// Brings one request from `pending` to `ticketed` (or `failed`), creating its ticket only if none exists.
    pub async fn process(&self, request: &RequestRecord) -> Result<Processed, Retry> {
        let current = stream::stored(&self.store, &request.id).await?;
        if current.status != Status::Pending {
            return Ok(Processed::AlreadyDone(current.status));
        }
        let settings = match self.settings.settings().await {
            Ok(settings) => settings,
            Err(error @ SettingsError::Unavailable(_)) => {
                return Err(Retry::new(error.to_string()));
            }
            Err(error @ SettingsError::Invalid(_)) => {
                return self
                    .fail(current, FailureCode::SettingsInvalid, error.to_string())
                    .await;
            }
        };
        match self.find_or_create(&current, &settings.servicenow).await {
            Ok(ticket) => {
                let processed = Processed::Ticketed(ticket.clone());
                self.settle(current, processed, |pending| {
                    pending.ticketed(ticket.clone(), crate::domain::time::now())
                })
                .await
            }
            Err(ServiceNowError::Transient {
                detail,
                retry_after,
            }) => Err(Retry {
                detail,
                retry_after,
            }),
            Err(ServiceNowError::Permanent { code, detail, .. }) => {
                self.fail(current, code, detail).await
            }
        }
    }

    async fn find_or_create(
        &self,
        request: &RequestRecord,
        settings: &ServiceNowSettings,
    ) -> Result<Ticket, ServiceNowError> {
        let table = self.servicenow.table(settings, settings.task_type);
        let record = match table.find_by_correlation_id(&request.id).await? {
            Some(record) => {
                tracing::info!("found the ticket an earlier attempt created");
                record
            }
            None => table.create(&ticket_fields(request, settings)).await?,
        };
        record.ticket(settings.task_type, &settings.instance_url)
    }

    async fn fail(
        &self,
        current: RequestRecord,
        code: FailureCode,
        detail: String,
    ) -> Result<Processed, Retry> {
        tracing::error!(code = code.as_str(), %detail, "ticket creation failed for good");
        let failure = Failure { code, detail };
        let processed = Processed::Failed(failure.clone());
        self.settle(current, processed, |pending| {
            pending.failed(failure.clone(), crate::domain::time::now())
        })
        .await
    }

    /// Stores what `change` makes of the request while it is still pending; otherwise whatever moved it first
    /// stands.
    async fn settle<E>(
        &self,
        current: RequestRecord,
        processed: Processed,
        change: impl Fn(&RequestRecord) -> Result<RequestRecord, E>,
    ) -> Result<Processed, Retry> {
        let still_pending = |request: &RequestRecord| {
            (request.status == Status::Pending)
                .then(|| change(request).ok())
                .flatten()
        };
        match store::update(&self.store, current, still_pending).await? {
            Updated::Written(_) => Ok(processed),
            Updated::Unchanged(now) => Ok(Processed::AlreadyDone(now.status)),
        }
    }
}
