//! `ticket-creator`'s rules (CONTRACT §9): exactly one ticket per request, whatever is retried or redelivered,
//! and even when the function died between creating a ticket and recording it.

use crate::domain::record::{Failure, FailureCode, RequestRecord};
use crate::domain::settings::ServiceNowSettings;
use crate::domain::status::Status;
use crate::domain::ticket::Ticket;
use crate::domain::ticket_content::ticket_fields;
use crate::secrets::{SettingsError, SettingsSource};
use crate::servicenow::{ServiceNowClient, ServiceNowError};
use crate::store::{ReplaceOutcome, RequestStore, StoreError};
use std::time::Duration;
use tracing::Instrument;

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    Ticketed(Ticket),
    /// Not pending any more (ticketed, decided or failed by an earlier delivery or a callback).
    AlreadyDone(Status),
    Failed(Failure),
}

/// Worth retrying through the stream; `retry_after` when ServiceNow asked for a pause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Retry {
    pub detail: String,
    pub retry_after: Option<Duration>,
}

impl From<StoreError> for Retry {
    fn from(error: StoreError) -> Self {
        Self {
            detail: error.to_string(),
            retry_after: None,
        }
    }
}

/// One stream record: its identifier (for partial batch failures) and the request it carries, if readable.
pub struct StreamItem {
    pub id: String,
    pub request: Result<Option<RequestRecord>, StoreError>,
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

    /// Processes a batch in order and returns the identifiers to report as failed: at most the first record
    /// that needs a retry. The stream redelivers from there, so records after it are left for that
    /// redelivery instead of being done twice.
    pub async fn process_batch(&self, items: Vec<StreamItem>) -> Vec<String> {
        for item in items {
            let request = match item.request {
                Ok(Some(request)) => request,
                Ok(None) => continue,
                Err(error) => {
                    // An unreadable image cannot get better by retrying; keep it out of the way of the others.
                    tracing::error!(item = %item.id, %error, "skipping a stream record that is not a request");
                    continue;
                }
            };
            let span = tracing::info_span!("request", request_id = %request.id, pmc_request_id = %request.pmc_request_id);
            // Boxed: the future nests deep enough (OAuth inside the Table API inside ticketing) to strain layout.
            match Box::pin(self.process(&request)).instrument(span).await {
                Ok(processed) => tracing::info!(?processed, "processed"),
                Err(retry) => {
                    tracing::warn!(error = %retry.detail, "will retry through the stream");
                    if let Some(wait) = retry.retry_after {
                        tracing::warn!(seconds = wait.as_secs(), "ServiceNow asked to slow down");
                    }
                    return vec![item.id];
                }
            }
        }
        Vec::new()
    }

    /// Brings one request from `pending` to `ticketed` (or `failed`), creating its ticket only if none exists.
    pub async fn process(&self, request: &RequestRecord) -> Result<Processed, Retry> {
        // The stream image may be stale: the stored request is the truth. A request the stream announced but the
        // store does not show yet is retried: requests are never deleted while their stream records live (24 h
        // against 180 days of retention), and an emulator may announce a write before it shows it.
        let Some(current) = self.store.get(&request.id).await? else {
            return Err(Retry {
                detail: format!("request {} is not readable yet", request.id),
                retry_after: None,
            });
        };
        if current.status != Status::Pending {
            return Ok(Processed::AlreadyDone(current.status));
        }
        let settings = match self.settings.settings().await {
            Ok(settings) => settings,
            Err(error @ SettingsError::Unavailable(_)) => {
                return Err(Retry {
                    detail: error.to_string(),
                    retry_after: None,
                });
            }
            Err(error @ SettingsError::Invalid(_)) => {
                return self
                    .fail(&current, FailureCode::SettingsInvalid, error.to_string())
                    .await;
            }
        };
        match self.find_or_create(&current, &settings.servicenow).await {
            Ok(ticket) => {
                let next = current
                    .ticketed(ticket.clone(), crate::domain::time::now())
                    .expect("a pending request can be ticketed");
                self.settle(&next, Processed::Ticketed(ticket)).await
            }
            Err(ServiceNowError::Transient {
                detail,
                retry_after,
            }) => Err(Retry {
                detail,
                retry_after,
            }),
            Err(ServiceNowError::Permanent { code, detail, .. }) => {
                self.fail(&current, code, detail).await
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
        current: &RequestRecord,
        code: FailureCode,
        detail: String,
    ) -> Result<Processed, Retry> {
        tracing::error!(code = code.as_str(), %detail, "ticket creation failed for good");
        let failure = Failure { code, detail };
        let next = current
            .failed(failure.clone(), crate::domain::time::now())
            .expect("a pending request can fail");
        self.settle(&next, Processed::Failed(failure)).await
    }

    /// Stores `next` if the request is still pending; otherwise whatever moved it first stands.
    async fn settle(&self, next: &RequestRecord, processed: Processed) -> Result<Processed, Retry> {
        match self.store.replace(next, Status::Pending).await? {
            ReplaceOutcome::Replaced => Ok(processed),
            ReplaceOutcome::StatusChanged(now) => Ok(Processed::AlreadyDone(now.status)),
        }
    }
}
