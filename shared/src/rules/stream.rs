//! What the two stream-triggered functions share (ticket-creator, decision-notifier): a batch of stream records
//! handled in order, with a partial batch failure naming at most the first record that needs a retry.

use crate::domain::ids::RequestId;
use crate::domain::record::RequestRecord;
use crate::store::{RequestStore, StoreError};
use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;
use tracing::Instrument;

/// One stream record: its identifier (its sequence number, for partial batch failures) and the request it
/// carries, if readable (`Ok(None)` for an item that is not a request).
pub struct StreamItem {
    pub id: String,
    pub request: Result<Option<RequestRecord>, StoreError>,
}

/// Worth retrying; `retry_after` when the remote asked for a pause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Retry {
    pub detail: String,
    pub retry_after: Option<Duration>,
}

impl Retry {
    pub fn new(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            retry_after: None,
        }
    }
}

impl From<StoreError> for Retry {
    fn from(error: StoreError) -> Self {
        Self::new(error.to_string())
    }
}

/// Handles `items` in order with `process` and returns the identifiers to report as failed: at most the first
/// record that needs a retry. The stream redelivers from there, so the records after it are left for that
/// redelivery instead of being done twice. An unreadable image is logged and skipped: retrying cannot mend it.
pub async fn process_batch<F, Fut, T>(items: Vec<StreamItem>, process: F) -> Vec<String>
where
    F: Fn(RequestRecord) -> Fut,
    Fut: Future<Output = Result<T, Retry>>,
    T: Debug,
{
    for item in items {
        let request = match item.request {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(error) => {
                tracing::error!(item = %item.id, %error, "skipping a stream record that is not a request");
                continue;
            }
        };
        let span = tracing::info_span!("request", request_id = %request.id, pmc_request_id = %request.pmc_request_id);
        // Boxed: the future nests deep enough (OAuth inside a client inside the rules) to strain layout.
        match Box::pin(process(request)).instrument(span).await {
            Ok(processed) => tracing::info!(?processed, "processed"),
            Err(retry) => {
                tracing::warn!(error = %retry.detail, "will retry through the stream");
                if let Some(wait) = retry.retry_after {
                    tracing::warn!(seconds = wait.as_secs(), "the remote asked to slow down");
                }
                return vec![item.id];
            }
        }
    }
    Vec::new()
}

/// The request as stored now: a stream image may be stale. One the stream announced but the store does not
/// show yet is retried: requests are never deleted while their stream records live (24 h against 180 days of
/// retention), and an emulator may announce a write before it shows it.
pub async fn stored<S: RequestStore>(store: &S, id: &RequestId) -> Result<RequestRecord, Retry> {
    store
        .get(id)
        .await?
        .ok_or_else(|| Retry::new(format!("request {id} is not readable yet")))
}
