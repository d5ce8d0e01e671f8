//! Where requests live: a narrow port ([`RequestStore`]) with a DynamoDB adapter for AWS and an in-memory one
//! with the same guarantees for tests.

mod dynamo;
#[cfg(any(test, feature = "in-memory"))]
mod memory;

pub use dynamo::{
    BACKLOG_INDEX, DEFAULT_LEGACY_WINDOW_HOURS, DynamoStore, REQUEST_ID_KEY_MISSING_METRIC,
    record_from_stream_image, stream_image_of,
};
#[cfg(any(test, feature = "in-memory"))]
pub use memory::{FaultyStore, MemoryStore};

use crate::domain::backlog::Backlog;
use crate::domain::ids::{PmcRequestId, RequestId};
use crate::domain::record::RequestRecord;
use crate::domain::time::Timestamp;
use std::future::Future;

/// Concurrent writers can move a request under a writer; it re-reads and tries again this often.
const UPDATE_ATTEMPTS: usize = 3;

/// What [`update`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Updated {
    /// `change` had something to do, and it is stored: the request as it is now.
    Written(RequestRecord),
    /// `change` found nothing to do with the request as it is now.
    Unchanged(RequestRecord),
}

/// Applies `change` to `current` and stores the result; when another writer got there first, applies it again to
/// what is stored now. `change` answers `None` when there is nothing (or nothing more) to do. At most
/// [`UPDATE_ATTEMPTS`] conditional writes. Errors: the store's, or [`StoreError::Unavailable`] when the request
/// kept changing under it.
pub async fn update<S: RequestStore>(
    store: &S,
    mut current: RequestRecord,
    change: impl Fn(&RequestRecord) -> Option<RequestRecord>,
) -> Result<Updated, StoreError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let Some(next) = change(&current) else {
            return Ok(Updated::Unchanged(current));
        };
        match store.replace(&next).await? {
            ReplaceOutcome::Replaced(stored) => return Ok(Updated::Written(*stored)),
            ReplaceOutcome::Changed(stored) => current = *stored,
        }
    }
    Err(StoreError::Unavailable(format!(
        "request {} kept changing while it was written; try again",
        current.id
    )))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// A request with this `pmcRequestId` already exists: this one.
    Existing(Box<RequestRecord>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplaceOutcome {
    /// Stored: the request as it is now, its revision one higher.
    Replaced(Box<RequestRecord>),
    /// Another writer replaced it first (its revision moved on): what it holds now.
    Changed(Box<RequestRecord>),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the request store is unavailable: {0}")]
    Unavailable(String),
    #[error("a stored request cannot be read: {0}")]
    Corrupt(String),
    #[error("request {0} does not exist")]
    Missing(RequestId),
}

pub trait RequestStore: Send + Sync {
    /// The id of the request PM Cloud submits as `pmc_request_id`: the same every time, in every function, and
    /// not foreseeable without the store's secret key ([`crate::domain::ids::RequestIdKey`]).
    fn request_id_for(
        &self,
        pmc_request_id: &PmcRequestId,
    ) -> impl Future<Output = Result<RequestId, StoreError>> + Send;

    /// Stores a new request unless one with its `pmcRequestId` exists; exactly one of concurrent creates wins.
    /// `record.id` must be [`RequestStore::request_id_for`] its `pmcRequestId`.
    fn create(
        &self,
        record: &RequestRecord,
    ) -> impl Future<Output = Result<CreateOutcome, StoreError>> + Send;

    fn get(
        &self,
        id: &RequestId,
    ) -> impl Future<Output = Result<Option<RequestRecord>, StoreError>> + Send;

    fn find_by_pmc_request_id(
        &self,
        pmc_request_id: &PmcRequestId,
    ) -> impl Future<Output = Result<Option<RequestRecord>, StoreError>> + Send;

    /// Replaces the stored request with `next` only while the stored revision is still `next.revision` (the one
    /// `next` was derived from), so that concurrent writers cannot move a request backwards, twice, or past each
    /// other. One conditional write. Errors: [`StoreError::Missing`] when there is no such request.
    fn replace(
        &self,
        next: &RequestRecord,
    ) -> impl Future<Output = Result<ReplaceOutcome, StoreError>> + Send;
}

/// Where the reconciler finds what the usual path stranded, without scanning: the requests waiting in a
/// [`Backlog`], oldest first (CONTRACT §13).
pub trait Backlogs: Send + Sync {
    /// Up to `limit` requests waiting in `backlog` since before `before`, oldest first. One query (a page).
    fn waiting(
        &self,
        backlog: Backlog,
        before: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RequestId>, StoreError>> + Send;

    /// How many requests wait in `backlog` since before `before`. One query per 1 MB of index.
    fn count_waiting(
        &self,
        backlog: Backlog,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// What the functions share besides requests: ServiceNow's pause, which every function honours before creating
/// a ticket, and the reconciler's progress through ServiceNow's tickets (CONTRACT §13).
/// A remote whose `429` pauses every function, through the table (CONTRACT §12, §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Remote {
    ServiceNow,
    PmCloud,
}

pub trait SharedState: Send + Sync {
    /// Until when `remote` asked the connector not to call it (UTC), if it did (ServiceNow: no ticket creation;
    /// PM Cloud: no call at all, token grants included). One read.
    fn paused_until(
        &self,
        remote: Remote,
    ) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    /// Records a pause of `remote` until `until`, unless a later one is recorded already. One conditional write.
    fn pause(
        &self,
        remote: Remote,
        until: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The time up to which the reconciler has applied ServiceNow's ticket updates, if it ever ran. One read.
    fn watermark(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    /// Records the reconciler's progress. One write.
    fn set_watermark(&self, at: Timestamp) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Notes that the settings were found invalid at `now`, unless that was noted before, and answers since when
    /// they are known to be (CONTRACT §2: requests fail only after 1 hour of it). One conditional update.
    fn settings_invalid_since(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<Timestamp, StoreError>> + Send;

    /// Forgets that note: the settings are valid. One delete.
    fn settings_valid(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// One store shared by several users (for example two functions' rules over one table in a test).
impl<S: RequestStore> RequestStore for std::sync::Arc<S> {
    fn request_id_for(
        &self,
        pmc_request_id: &PmcRequestId,
    ) -> impl Future<Output = Result<RequestId, StoreError>> + Send {
        S::request_id_for(self, pmc_request_id)
    }

    fn create(
        &self,
        record: &RequestRecord,
    ) -> impl Future<Output = Result<CreateOutcome, StoreError>> + Send {
        S::create(self, record)
    }

    fn get(
        &self,
        id: &RequestId,
    ) -> impl Future<Output = Result<Option<RequestRecord>, StoreError>> + Send {
        S::get(self, id)
    }

    fn find_by_pmc_request_id(
        &self,
        pmc_request_id: &PmcRequestId,
    ) -> impl Future<Output = Result<Option<RequestRecord>, StoreError>> + Send {
        S::find_by_pmc_request_id(self, pmc_request_id)
    }

    fn replace(
        &self,
        next: &RequestRecord,
    ) -> impl Future<Output = Result<ReplaceOutcome, StoreError>> + Send {
        S::replace(self, next)
    }
}

impl<S: Backlogs> Backlogs for std::sync::Arc<S> {
    fn waiting(
        &self,
        backlog: Backlog,
        before: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RequestId>, StoreError>> + Send {
        S::waiting(self, backlog, before, limit)
    }

    fn count_waiting(
        &self,
        backlog: Backlog,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        S::count_waiting(self, backlog, before)
    }
}

impl<S: SharedState> SharedState for std::sync::Arc<S> {
    fn paused_until(
        &self,
        remote: Remote,
    ) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send {
        S::paused_until(self, remote)
    }

    fn pause(
        &self,
        remote: Remote,
        until: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        S::pause(self, remote, until)
    }

    fn watermark(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send {
        S::watermark(self)
    }

    fn set_watermark(&self, at: Timestamp) -> impl Future<Output = Result<(), StoreError>> + Send {
        S::set_watermark(self, at)
    }

    fn settings_invalid_since(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<Timestamp, StoreError>> + Send {
        S::settings_invalid_since(self, now)
    }

    fn settings_valid(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        S::settings_valid(self)
    }
}
