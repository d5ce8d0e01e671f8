//! What the two stream-triggered functions share (ticket-creator, decision-notifier): a batch of stream records
//! handled in order, with a partial batch failure naming at most the first record that needs a retry.

use crate::domain::deadline::Deadline;
use crate::domain::ids::RequestId;
use crate::domain::record::RequestRecord;
use crate::outbound::failure::Transient;
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

/// A store that failed is worth retrying through the stream.
impl From<StoreError> for Transient {
    fn from(error: StoreError) -> Self {
        Self::new(error.to_string())
    }
}

/// The time a batch has: until `deadline` (the invocation's, less its margin), taking a record only while
/// `per_record` (the longest a record may take: its remote calls' timeouts) is left before it.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub deadline: Deadline,
    pub per_record: Duration,
}

/// Handles `items` in order with `process` and returns the identifiers to report as failed: at most the first
/// record that needs a retry. The stream redelivers from there, so the records after it are left for that
/// redelivery instead of being done twice. An unreadable image is logged and skipped: retrying cannot mend it.
/// A record is not started when less than `budget.per_record` is left, and one still running at the deadline is
/// stopped (its remote calls dropped) and retried: the rules keep both safe (a create in doubt keeps its lease).
pub async fn process_batch<F, Fut, T>(
    items: Vec<StreamItem>,
    budget: Budget,
    process: F,
) -> Vec<String>
where
    F: Fn(RequestRecord) -> Fut,
    Fut: Future<Output = Result<T, Transient>>,
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
        let left = budget.deadline.left();
        if left < budget.per_record {
            tracing::warn!(
                seconds_left = left.as_secs_f64(),
                "not enough time left for another request; the stream redelivers the rest"
            );
            return vec![item.id];
        }
        let span = tracing::info_span!("request", request_id = %request.id, pmc_request_id = %request.pmc_request_id);
        // Boxed: the future nests deep enough (OAuth inside a client inside the rules) to strain layout.
        let processing = Box::pin(process(request)).instrument(span);
        match tokio::time::timeout(left, processing).await {
            Ok(Ok(processed)) => tracing::info!(?processed, "processed"),
            Ok(Err(retry)) => {
                tracing::warn!(error = %retry.detail, "will retry through the stream");
                if let Some(wait) = retry.retry_after {
                    tracing::warn!(seconds = wait.as_secs(), "the remote asked to slow down");
                }
                return vec![item.id];
            }
            Err(_) => {
                tracing::warn!("the invocation's time ran out; the stream redelivers this request");
                return vec![item.id];
            }
        }
    }
    Vec::new()
}

/// The request as stored now: a stream image may be stale. One the stream announced but the store does not
/// show yet is retried: requests are never deleted while their stream records live (24 h against 180 days of
/// retention), and an emulator may announce a write before it shows it.
pub async fn stored<S: RequestStore>(
    store: &S,
    id: &RequestId,
) -> Result<RequestRecord, Transient> {
    store
        .get(id)
        .await?
        .ok_or_else(|| Transient::new(format!("request {id} is not readable yet")))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::request::Submission;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    /// What the invocation loop keeps back from a stream invocation's end.
    const ANSWER_MARGIN: Duration = crate::runtime::serve::Trigger::Stream.margin();

    /// A deadline `after` the margin.
    fn deadline(after: Duration) -> Deadline {
        Deadline {
            ends: Instant::now() + ANSWER_MARGIN + after,
            kept: ANSWER_MARGIN,
        }
    }

    fn items(count: usize) -> Vec<StreamItem> {
        (1..=count)
            .map(|i| {
                let body = test_support::sample_body(&format!("pmc-{i}"));
                let submission = Submission::parse(body.as_object().unwrap(), false).unwrap();
                StreamItem {
                    id: i.to_string(),
                    request: Ok(Some(RequestRecord::new(
                        submission,
                        RequestId::random(),
                        crate::domain::time::now(),
                    ))),
                }
            })
            .collect()
    }

    /// A batch of `records` as the table's stream delivers them (identifiers "1", "2", …).
    pub(crate) fn batch_of(records: &[&RequestRecord]) -> Vec<StreamItem> {
        records
            .iter()
            .enumerate()
            .map(|(i, record)| StreamItem {
                id: (i + 1).to_string(),
                request: Ok(Some((*record).clone())),
            })
            .collect()
    }

    #[tokio::test]
    async fn no_record_is_started_without_the_time_it_may_need() {
        let started = AtomicUsize::new(0);
        let budget = Budget {
            deadline: deadline(Duration::from_millis(500)),
            per_record: Duration::from_secs(1),
        };
        let failed = process_batch(items(3), budget, |_| async {
            started.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Transient>(())
        })
        .await;
        assert_eq!(failed, ["1"], "the stream redelivers from the first");
        assert_eq!(started.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_record_still_running_at_the_deadline_is_stopped_and_retried() {
        let budget = Budget {
            deadline: deadline(Duration::from_millis(300)),
            per_record: Duration::ZERO,
        };
        let before = Instant::now();
        let failed = process_batch(items(2), budget, |_| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, Transient>(())
        })
        .await;
        assert_eq!(failed, ["1"]);
        assert!(Instant::now() < budget.deadline.ends, "answered in time");
        assert!(before.elapsed() < Duration::from_secs(2));
    }
}
