//! Where requests live: a narrow port ([`RequestStore`]) with a DynamoDB adapter for AWS and an in-memory one
//! with the same guarantees for tests.

mod dynamo;
#[cfg(any(test, feature = "in-memory"))]
mod memory;

pub use dynamo::{DynamoStore, record_from_stream_image, stream_image_of};
#[cfg(any(test, feature = "in-memory"))]
pub use memory::MemoryStore;

use crate::domain::ids::{PmcRequestId, RequestId};
use crate::domain::record::RequestRecord;
use crate::domain::status::Status;
use std::future::Future;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// A request with this `pmcRequestId` already exists: this one.
    Existing(Box<RequestRecord>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplaceOutcome {
    Replaced,
    /// The stored request had moved on from the expected status: this is what it holds now.
    StatusChanged(Box<RequestRecord>),
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
    /// Stores a new request unless one with its `pmcRequestId` exists; exactly one of concurrent creates wins.
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

    /// Replaces the stored request with `next` only while it still has status `expected`,
    /// so that concurrent writers cannot move a request backwards or twice.
    fn replace(
        &self,
        next: &RequestRecord,
        expected: Status,
    ) -> impl Future<Output = Result<ReplaceOutcome, StoreError>> + Send;
}

/// One store shared by several users (for example two functions' rules over one table in a test).
impl<S: RequestStore> RequestStore for std::sync::Arc<S> {
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
        expected: Status,
    ) -> impl Future<Output = Result<ReplaceOutcome, StoreError>> + Send {
        S::replace(self, next, expected)
    }
}
