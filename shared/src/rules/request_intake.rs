//! `request-intake`'s rules (CONTRACT §5, §6): accept a submission exactly once, and read requests back.

use crate::domain::ids::{PmcRequestId, RequestId};
use crate::domain::record::{Origin, RequestRecord};
use crate::domain::request::Submission;
use crate::store::{CreateOutcome, RequestStore, StoreError};

/// What became of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// A new request, stored `pending` (the stream takes it to ticket-creator).
    Created(RequestRecord),
    /// The same content under the same `pmcRequestId` again: the stored request.
    Retried(RequestRecord),
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The `pmcRequestId` was used for a request with other content.
    #[error(
        "pmcRequestId {pmc_request_id} was already used for request {existing} with different content"
    )]
    Conflict {
        pmc_request_id: PmcRequestId,
        existing: RequestId,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct RequestIntake<S> {
    store: S,
}

impl<S: RequestStore> RequestIntake<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// Stores a new request once; a retry of the same content gets the stored one back.
    /// Errors: [`IntakeError::Conflict`] for a reused `pmcRequestId`, [`IntakeError::Store`] when the store fails.
    /// A request the PM Cloud sweep took in is given back with `200` whatever the webhook holds (CONTRACT §5).
    pub async fn submit(&self, submission: Submission) -> Result<Submitted, IntakeError> {
        let record = self.new_record(submission).await?;
        match self.store.create(&record).await? {
            CreateOutcome::Created => {
                tracing::info!(request_id = %record.id, pmc_request_id = %record.pmc_request_id, "request accepted");
                Ok(Submitted::Created(record))
            }
            CreateOutcome::Existing(existing)
                if existing.content_hash == record.content_hash
                    || existing.origin == Origin::PmCloudSweep =>
            {
                Ok(Submitted::Retried(*existing))
            }
            CreateOutcome::Existing(existing) => Err(IntakeError::Conflict {
                pmc_request_id: existing.pmc_request_id,
                existing: existing.id,
            }),
        }
    }

    /// The request `submission` would store, under the id its `pmcRequestId` always gets. One store call.
    async fn new_record(&self, submission: Submission) -> Result<RequestRecord, StoreError> {
        let id = self
            .store
            .request_id_for(&submission.request.pmc_request_id)
            .await?;
        Ok(RequestRecord::new(
            submission,
            id,
            crate::domain::time::now(),
        ))
    }

    /// Takes in a request the PM Cloud sweep found (CONTRACT §13): stored `pending` like a webhook's, marked so
    /// that its webhook, if it ever arrives, gets it back with `200` whatever it holds (§5). `None` when the
    /// connector holds the request already. Errors: the store's.
    pub async fn recover(
        &self,
        submission: Submission,
    ) -> Result<Option<RequestRecord>, StoreError> {
        let mut record = self.new_record(submission).await?;
        record.origin = Origin::PmCloudSweep;
        Ok(match self.store.create(&record).await? {
            CreateOutcome::Created => Some(record),
            CreateOutcome::Existing(_) => None,
        })
    }

    /// The request with the connector's id `id`, if any.
    pub async fn get(&self, id: &RequestId) -> Result<Option<RequestRecord>, StoreError> {
        self.store.get(id).await
    }

    /// The request PM Cloud submitted as `pmc_request_id`, if any.
    pub async fn find(
        &self,
        pmc_request_id: &PmcRequestId,
    ) -> Result<Option<RequestRecord>, StoreError> {
        self.store.find_by_pmc_request_id(pmc_request_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use serde_json::{Value, json};
    use test_support::sample_body;

    fn submission(body: &Value) -> Submission {
        Submission::parse(body.as_object().unwrap(), false).unwrap()
    }

    #[tokio::test]
    async fn a_submission_is_stored_once_and_its_retry_gets_it_back() {
        let intake = RequestIntake::new(MemoryStore::new());
        let body = sample_body("pmc-1");
        let Submitted::Created(created) = intake.submit(submission(&body)).await.unwrap() else {
            panic!("the first submission creates the request");
        };
        assert_eq!(
            intake.submit(submission(&body)).await.unwrap(),
            Submitted::Retried(created.clone())
        );
        assert_eq!(
            intake.get(&created.id).await.unwrap(),
            Some(created.clone())
        );
        assert_eq!(
            intake.find(&created.pmc_request_id).await.unwrap(),
            Some(created)
        );
    }

    #[tokio::test]
    async fn other_content_under_a_used_pmc_request_id_is_a_conflict_naming_the_request() {
        let intake = RequestIntake::new(MemoryStore::new());
        let mut body = sample_body("pmc-2");
        let Submitted::Created(created) = intake.submit(submission(&body)).await.unwrap() else {
            panic!("the first submission creates the request");
        };
        body["reason"]["text"] = json!("another reason");
        match intake.submit(submission(&body)).await {
            Err(IntakeError::Conflict {
                pmc_request_id,
                existing,
            }) => {
                assert_eq!(pmc_request_id, created.pmc_request_id);
                assert_eq!(existing, created.id);
            }
            other => panic!("{other:?}"),
        }
    }
}
