//! How an attempt ends (CONTRACT §9): ticketed (recorded once), failed for good, left for a retry, held while a
//! create is in doubt, or waiting out invalid settings. Each ending is one conditional write, or none.

use super::{CREATE_LEASE, Processed, SETTINGS_GRACE, TicketCreator};
use crate::domain::record::{Failure, FailureCode, RequestRecord};
use crate::domain::status::Status;
use crate::domain::time::{Timestamp, now};
use crate::outbound::failure::Transient;
use crate::rules::pace::Pace;
use crate::secrets::{SettingsError, SettingsSource};
use crate::servicenow::ServiceNowError;
use crate::store::{self, RequestStore, SharedState, Updated};

impl<S: RequestStore + SharedState + Clone, C: SettingsSource> TicketCreator<S, C> {
    /// A create that got no answer: the lease is made to run [`CREATE_LEASE`] from when the create was sent (not
    /// from when the attempt began, which the lookup and the read-back came after), so that no one looks up or
    /// creates again before ServiceNow has certainly finished with it (CONTRACT §9). At most one conditional write.
    pub(super) async fn in_doubt(
        &self,
        leased: RequestRecord,
        detail: String,
        sent_at: Timestamp,
    ) -> Result<Processed, Transient> {
        let until = sent_at + CREATE_LEASE;
        let our_lease = leased.lease_until;
        let extend = |request: &RequestRecord| {
            (request.status == Status::Pending
                && request.lease_until == our_lease
                && our_lease.is_some_and(|lease| lease < until))
            .then(|| request.leased(until))
        };
        store::update(&self.store, leased, extend).await?;
        Ok(Processed::Deferred(format!(
            "{detail}; the request is looked up once the create cannot be in progress any more ({until})"
        )))
    }

    /// Invalid settings fail a request only once they have stayed invalid for [`SETTINGS_GRACE`] (CONTRACT §2):
    /// until then an operator may be mid-edit, and the request waits, pending, for the reconciler's next pass.
    pub(super) async fn while_settings_invalid(
        &self,
        current: RequestRecord,
        error: SettingsError,
    ) -> Result<Processed, Transient> {
        let now = now();
        let since = self.store.settings_invalid_since(now).await?;
        if now - since >= SETTINGS_GRACE {
            return self
                .fail(current, FailureCode::SettingsInvalid, error.to_string())
                .await;
        }
        Ok(Processed::Deferred(format!(
            "{error} (since {since}); pending requests fail with settings_invalid once it has stayed invalid for 1 \
             hour"
        )))
    }

    /// What a ServiceNow error that got an answer leaves: a permanent one fails the request; a `429` pauses every
    /// function; anything else is retried at once.
    pub(super) async fn after_error(
        &self,
        leased: RequestRecord,
        error: ServiceNowError,
        pace: &Pace,
    ) -> Result<Processed, Transient> {
        let (detail, retry_after) = match error {
            ServiceNowError::Permanent { code, detail, .. } => {
                return self.fail(leased, code, detail).await;
            }
            ServiceNowError::Transient(Transient {
                detail,
                retry_after,
                ..
            }) => (detail, retry_after),
        };
        // ServiceNow answered, so it has finished with the request: the next attempt need not wait.
        let our_lease = leased.lease_until;
        let release = |request: &RequestRecord| {
            (request.status == Status::Pending && request.lease_until == our_lease)
                .then(|| request.unleased())
        };
        store::update(&self.store, leased, release).await?;
        let Some(wait) = retry_after else {
            return Err(Transient::new(detail));
        };
        let until = pace.pause(&self.store, wait).await?;
        metrics::counter!("ServiceNowPauses").increment(1);
        tracing::warn!(%until, "ServiceNow asked to slow down: every function pauses ticket creation");
        Ok(Processed::Deferred(format!(
            "{detail}; paused until {until}"
        )))
    }

    pub(super) async fn fail(
        &self,
        current: RequestRecord,
        code: FailureCode,
        detail: String,
    ) -> Result<Processed, Transient> {
        tracing::error!(code = code.as_str(), %detail, "ticket creation failed for good");
        let failure = Failure { code, detail };
        let processed = Processed::Failed(failure.clone());
        let settled = self.settle(current, processed, |pending| {
            pending.failed(failure.clone(), now())
        });
        Ok(settled.await?.0)
    }

    /// Stores what `change` makes of the request while it is still pending (one conditional write): `processed`
    /// and the request as stored; otherwise whatever moved it first stands (`AlreadyDone`, nothing stored).
    pub(super) async fn settle<E>(
        &self,
        current: RequestRecord,
        processed: Processed,
        change: impl Fn(&RequestRecord) -> Result<RequestRecord, E>,
    ) -> Result<(Processed, Option<RequestRecord>), Transient> {
        let still_pending = |request: &RequestRecord| {
            (request.status == Status::Pending)
                .then(|| change(request).ok())
                .flatten()
        };
        match store::update(&self.store, current, still_pending).await? {
            Updated::Written(stored) => Ok((processed, Some(stored))),
            Updated::Unchanged(now) => Ok((Processed::AlreadyDone(now.status), None)),
        }
    }
}
