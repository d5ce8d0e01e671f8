//! `decision-notifier`'s rules (CONTRACT §12): each recorded decision (or cancellation) is pushed to PM Cloud's
//! Management API until PM Cloud accepts it or refuses it for good, and once delivered it is never pushed again.
//!
//! One push: a store read (and, once per batch, a read of PM Cloud's pause), a conditional write that leases the
//! request for the call (so that two functions never push it at once), the call (plus a token grant when the kept
//! one must be renewed), and a conditional write of how it ended. After a `429`, no function calls PM Cloud
//! before the time it named (one more write, [`Pace`]). When it ended for good, the ticket is told in a work note
//! recorded in that same write ([`WorkNotes::send_noted`]: one ServiceNow call, and one more write only when
//! ServiceNow answered without taking it). A delivered decision costs two writes.

use crate::domain::deadline::Deadline;
use crate::domain::ids::RequestId;
use crate::domain::record::{NotificationState, RequestRecord};
use crate::domain::redact::Detailed;
use crate::domain::time::{Timestamp, now};
use crate::domain::work_note::Fact;
use crate::outbound::failure::{Failure, Transient};
use crate::pmcloud::{NotificationBody, PmCloudClient, Push};
use crate::rules::pace::Pace;
use crate::rules::stream::{self, Budget, StreamItem};
use crate::rules::work_notes::{Noted, WorkNotes};
use crate::secrets::SettingsSource;
use crate::servicenow::ServiceNowClient;
use crate::store::{self, Remote, RequestStore, SharedState, Updated};

/// How long a push may hold the request: longer than a call can take (two calls and a grant at 10 s each).
const PUSH_LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// The longest one push may take: a token grant and the push (with one re-authentication), each bounded by the
/// HTTP client's timeout; a batch starts no push with less time left.
const RECORD_TIME: std::time::Duration = std::time::Duration::from_secs(20);

/// What became of one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// PM Cloud accepted it.
    Delivered,
    /// PM Cloud refused it for good: the detail says why.
    Failed(String),
    /// `pmCloud` is no longer in the settings: the decision is not pushed.
    NotConfigured,
    /// Nothing to push: not decided, or already delivered, failed or not configured (its state).
    AlreadyDone(Option<NotificationState>),
    /// Another function is pushing it right now; it finishes the job (or the reconciler does).
    InFlight,
    /// Left pending for a later pass (the settings cannot be used now, PM Cloud asked for a pause); the detail says
    /// why.
    Deferred(String),
}

pub struct DecisionNotifier<S, C> {
    store: S,
    settings: C,
    pm_cloud: PmCloudClient,
    notes: WorkNotes<S>,
}

impl<S: RequestStore + SharedState + Clone, C: SettingsSource> DecisionNotifier<S, C> {
    /// `servicenow` writes the work note that tells the ticket how the push ended (CONTRACT §14).
    pub fn new(
        store: S,
        settings: C,
        pm_cloud: PmCloudClient,
        servicenow: ServiceNowClient,
    ) -> Self {
        Self {
            notes: WorkNotes::new(store.clone(), servicenow),
            store,
            settings,
            pm_cloud,
        }
    }

    /// Pushes each decision of a batch in order until `deadline`; see [`stream::process_batch`] for what is reported as failed.
    pub async fn process_batch(&self, items: Vec<StreamItem>, deadline: Deadline) -> Vec<String> {
        let budget = Budget {
            deadline,
            per_record: RECORD_TIME,
        };
        let pace = Pace::new(Remote::PmCloud);
        let pace = &pace;
        stream::process_batch(items, budget, |request| async move {
            self.push_paced(&request.id, pace).await
        })
        .await
    }

    /// [`Self::push_paced`] with a pace of its own.
    pub async fn push(&self, id: &RequestId) -> Result<Pushed, Transient> {
        self.push_paced(id, &Pace::new(Remote::PmCloud)).await
    }

    /// Pushes the decision of request `id`, unless it needs no push (any more) or PM Cloud asked for a pause (the
    /// decision then stays pending). A transient failure leaves it pending and is returned as a [`Transient`].
    pub async fn push_paced(&self, id: &RequestId, pace: &Pace) -> Result<Pushed, Transient> {
        let current = stream::stored(&self.store, id).await?;
        if !current.push_pending() {
            let state = current.pm_cloud_notification.map(|n| n.state);
            return Ok(Pushed::AlreadyDone(state));
        }
        if current.is_leased(now()) {
            return Ok(Pushed::InFlight);
        }
        let settings = match self.settings.settings().await {
            Ok(settings) => settings,
            // The reconciler pushes pending decisions again once the settings can be used.
            Err(error) => return Ok(Pushed::Deferred(error.to_string())),
        };
        let Some(pm_cloud) = &settings.pm_cloud else {
            let detail =
                "pmCloud was removed from the settings before the decision could be pushed";
            let ending = Ending {
                state: NotificationState::NotConfigured,
                detail: Some(detail.into()),
                calls: 0,
                fact: None,
            };
            return self
                .end(current, ending)
                .await
                .map(|_| Pushed::NotConfigured);
        };
        let Some(body) = NotificationBody::of(&current) else {
            let detail = "the request carries no decision and ticket to push";
            let ending = Ending {
                state: NotificationState::Failed,
                detail: Some(detail.into()),
                calls: 0,
                fact: None,
            };
            return self
                .end(current, ending)
                .await
                .map(|_| Pushed::Failed(detail.into()));
        };
        if let Some(until) = pace.until(&self.store, now()).await? {
            return Ok(Pushed::Deferred(format!(
                "PM Cloud asked the connector to pause until {until}"
            )));
        }
        let Some(leased) = self.lease(current).await? else {
            return Ok(Pushed::InFlight);
        };
        let push = self
            .pm_cloud
            .notify(pm_cloud, &leased.id, leased.details.request_type, &body)
            .await;
        let push = Push {
            result: push.result.map_err(|e| e.redacted(settings.secrets())),
            ..push
        };
        if let Err(failure) = &push.result {
            pace.heed(&self.store, failure).await?;
        }
        let (pushed, noted) = self.deliver(leased, push).await?;
        if let Some(noted) = noted {
            // The ticket is told; a note ServiceNow cannot take now waits for the reconciler.
            if let Err(error) = self.notes.send_noted(noted, &settings.servicenow).await {
                tracing::warn!(%error, "the work note's outcome could not be recorded");
            }
        }
        Ok(pushed)
    }

    /// Leases the request for one push; `None` when another function leased or finished it first.
    async fn lease(&self, current: RequestRecord) -> Result<Option<RequestRecord>, Transient> {
        let lease = |request: &RequestRecord| {
            let now = now();
            (request.push_pending() && !request.is_leased(now))
                .then(|| request.leased(now + PUSH_LEASE))
        };
        Ok(match store::update(&self.store, current, lease).await? {
            Updated::Written(leased) => Some(leased),
            Updated::Unchanged(_) => None,
        })
    }

    /// Records how `push` ended, with the work note that tells the ticket when it ended for good: the outcome, and
    /// what [`Self::end`] noted.
    async fn deliver(
        &self,
        leased: RequestRecord,
        push: Push,
    ) -> Result<(Pushed, Option<Noted>), Transient> {
        // Every attempt counts, a token grant that failed before any push included (as one call): the count is
        // what keeps this write from matching the stream's filter again (CONTRACT §13 "Bounded work").
        let calls = push.calls.max(1);
        match push.result {
            Ok(()) => {
                tracing::info!(calls, "decision delivered to PM Cloud");
                metrics::counter!("DecisionsDelivered").increment(1);
                let fact = Fact::Delivered { at: now() };
                let ending = Ending {
                    state: NotificationState::Delivered,
                    detail: None,
                    calls,
                    fact: Some(fact),
                };
                Ok((Pushed::Delivered, self.end(leased, ending).await?))
            }
            Err(Failure::Permanent { detail, .. }) => {
                tracing::error!(%detail, "PM Cloud refused the decision for good");
                let fact = Fact::Refused {
                    detail: detail.clone(),
                };
                let ending = Ending {
                    state: NotificationState::Failed,
                    detail: Some(detail.clone()),
                    calls,
                    fact: Some(fact),
                };
                Ok((Pushed::Failed(detail), self.end(leased, ending).await?))
            }
            Err(Failure::Transient(transient)) => {
                let ending = Ending {
                    state: NotificationState::Pending,
                    detail: Some(transient.detail.clone()),
                    calls,
                    fact: None,
                };
                self.end(leased, ending).await?;
                Err(transient)
            }
        }
    }

    /// Records how a push ended (one conditional write), unless something else settled it meanwhile: the request
    /// as stored, with the fact and the time it was noted, when it noted one for the ticket.
    async fn end(
        &self,
        current: RequestRecord,
        ending: Ending,
    ) -> Result<Option<Noted>, Transient> {
        let at: Timestamp = now();
        let Ending {
            state,
            detail,
            calls,
            fact,
        } = ending;
        let ended = |request: &RequestRecord| {
            let ended = request
                .push_pending()
                .then(|| request.push_ended(state, detail.clone(), calls, at))?;
            Some(match &fact {
                Some(fact) => ended.with_note(fact, at).unwrap_or(ended),
                None => ended,
            })
        };
        Ok(
            match (store::update(&self.store, current, ended).await?, fact) {
                (Updated::Written(request), Some(fact)) => Some(Noted { request, fact, at }),
                _ => None,
            },
        )
    }
}

/// How a push ended: the state it leaves (still `Pending` after a transient failure), why, after how many more
/// calls to PM Cloud, and the fact the ticket is told.
struct Ending {
    state: NotificationState,
    detail: Option<String>,
    calls: u32,
    fact: Option<Fact>,
}

#[cfg(test)]
#[path = "decision_notifier_tests.rs"]
mod tests;
