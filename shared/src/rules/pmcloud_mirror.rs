//! What PM Cloud knows that no webhook told the connector (CONTRACT §13 v3): a request whose *Ticket Created*
//! webhook was lost, and a decision made in PM Cloud's own portal. Both are applied by the same rules as the
//! webhook paths: a lost request is taken in by [`RequestIntake`] (and so gets exactly one ticket, by
//! ticket-creator through the stream), a decision is recorded by [`RequestRecord::decided`] with `decidedIn:
//! pmcloud` (so never pushed back, and final for every later event), and the ticket is told by a work note that
//! also sets its `approval` to match (§14).
//!
//! Per PM Cloud item: one store read; for a lost request, one conditional create; for a decision, one
//! conditional write, then the work note ([`WorkNotes`]: one ServiceNow call and one write).

use crate::domain::fields::{Collector, FieldError};
use crate::domain::ids::PmcRequestId;
use crate::domain::record::RequestRecord;
use crate::domain::redact::redact;
use crate::domain::request::{ContentHash, NewRequest, RequestType, Submission};
use crate::domain::settings::{PmCloudSettings, Settings};
use crate::domain::status::Status;
use crate::domain::time::now;
use crate::domain::work_note::Fact;
use crate::pmcloud::{AccessState, AuthorizationRequest, PmCloudClient, PmCloudDecision, ReadBack};
use crate::rules::approvals::ApprovalRules;
use crate::rules::pace::Pace;
use crate::rules::request_intake::RequestIntake;
use crate::rules::work_notes::WorkNotes;
use crate::servicenow::{Closing, ServiceNowClient};
use crate::store::{Remote, RequestStore, SharedState, StoreError, Updated};
use serde_json::Value;

/// How long one read of PM Cloud's record of a request may take, its token grant included (CONTRACT §5: the
/// ticket is never held back for it; §13: the event route answers within seconds).
pub const READ_BACK_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// The body of PM Cloud's *Decision Updated* webhook (CONTRACT §13): `{"pmcRequestId": …}`, other fields
/// ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmCloudEvent {
    pub pmc_request_id: PmcRequestId,
}

impl PmCloudEvent {
    /// Errors: `pmcRequestId` missing or not an id (§5's rule).
    pub fn parse(body: &serde_json::Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut c = Collector::default();
        let root = c.root(body);
        let id = c.parsed(&root, "pmcRequestId", true, usize::MAX, PmcRequestId::parse);
        c.finish(|| Self {
            pmc_request_id: id.expect("reported when missing"),
        })
    }
}

/// What one PM Cloud item changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mirrored {
    /// A pending request the connector had never seen, now taken in (`pending`, as if its webhook had arrived).
    Recovered(RequestRecord),
    /// A decision made in PM Cloud, now recorded on a `ticketed` request.
    DecisionRecorded(RequestRecord),
    /// Nothing to do: known and pending, decided by the connector, not a request of this connector, or not
    /// readable.
    Unchanged,
}

pub struct PmCloudMirror<S> {
    store: S,
    intake: RequestIntake<S>,
    notes: WorkNotes<S>,
    approvals: ApprovalRules<S>,
    pm_cloud: PmCloudClient,
}

impl<S: RequestStore + SharedState + Clone> PmCloudMirror<S> {
    /// One store and one client of each kind (clones share their kept tokens).
    pub fn new(store: S, servicenow: ServiceNowClient, pm_cloud: PmCloudClient) -> Self {
        Self {
            intake: RequestIntake::new(store.clone()),
            notes: WorkNotes::new(store.clone(), servicenow.clone()),
            approvals: ApprovalRules::new(store.clone(), servicenow),
            store,
            pm_cloud,
        }
    }

    /// Applies one item of PM Cloud's list (or its answer for one request): `item` as read from `raw`, which is
    /// as PM Cloud sent it. Errors: the store's.
    pub async fn apply(
        &self,
        item: &AuthorizationRequest,
        raw: &Value,
        settings: &Settings,
    ) -> Result<Mirrored, StoreError> {
        let Some(id) = &item.id else {
            return Ok(Mirrored::Unchanged);
        };
        match &item.state {
            AccessState::Pending => self.recover(id, raw).await,
            AccessState::Decided(decision) => match self.store.find_by_pmc_request_id(id).await? {
                Some(current) => self.record(current, decision, settings).await,
                None => Ok(Mirrored::Unchanged),
            },
            AccessState::Unknown => Ok(Mirrored::Unchanged),
        }
    }

    /// `POST /v1/pmcloud/events` (CONTRACT §13): the request PM Cloud says changed, read back from PM Cloud and
    /// applied as the sweep would. `None` for a request the connector does not know (then nothing is read).
    /// PM Cloud's silence (a pause, a failure, no answer within [`READ_BACK_TIME`]) changes nothing: the sweep
    /// finds it later. Errors: the store's.
    pub async fn event(
        &self,
        id: &PmcRequestId,
        settings: &Settings,
        pm_cloud: &PmCloudSettings,
    ) -> Result<Option<RequestRecord>, StoreError> {
        let Some(current) = self.store.find_by_pmc_request_id(id).await? else {
            return Ok(None);
        };
        let raw = match read_paced(&self.store, &self.pm_cloud, pm_cloud, id, settings).await {
            Ok(Some(raw)) => raw,
            Ok(None) => return Ok(Some(current)),
            Err(why) => {
                tracing::warn!(pmc_request_id = %id, %why, "PM Cloud's record could not be read; the sweep will");
                return Ok(Some(current));
            }
        };
        match AuthorizationRequest::of(&raw).state {
            AccessState::Decided(decision) => {
                match self.record(current.clone(), &decision, settings).await? {
                    Mirrored::DecisionRecorded(stored) => Ok(Some(stored)),
                    _ => Ok(Some(current)),
                }
            }
            AccessState::Pending | AccessState::Unknown => Ok(Some(current)),
        }
    }

    /// A pending item: taken in unless the connector knows it.
    async fn recover(&self, id: &PmcRequestId, raw: &Value) -> Result<Mirrored, StoreError> {
        if self.store.find_by_pmc_request_id(id).await?.is_some() {
            return Ok(Mirrored::Unchanged);
        }
        Ok(match self.intake.recover(recovered(id, raw)).await? {
            Some(record) => {
                tracing::info!(request_id = %record.id, pmc_request_id = %id,
                    "request recovered from PM Cloud: its webhook never arrived");
                metrics::counter!("RequestsRecoveredFromPmCloud").increment(1);
                Mirrored::Recovered(record)
            }
            None => Mirrored::Unchanged,
        })
    }

    /// A decision made in PM Cloud, on a request that still waits for one in ServiceNow.
    async fn record(
        &self,
        current: RequestRecord,
        decided: &PmCloudDecision,
        settings: &Settings,
    ) -> Result<Mirrored, StoreError> {
        let Some(ticket) = current.ticket.clone() else {
            return Ok(Mirrored::Unchanged);
        };
        let decision = decided.decision(current.request_type, now());
        let fact = Some(Fact::DecidedInPmCloud(decision.clone()));
        let decide = |request: &RequestRecord| {
            (request.status == Status::Ticketed).then(|| {
                request
                    .decided(decision.clone(), ticket.clone(), true, now())
                    .expect("a ticketed request can be decided")
            })
        };
        let sn = &settings.servicenow;
        match self.notes.store_noting(current, decide, fact, sn).await? {
            Updated::Written(stored) => {
                tracing::info!(request_id = %stored.id, status = %stored.status, "decision made in PM Cloud recorded");
                metrics::counter!("DecisionsMirroredFromPmCloud").increment(1);
                // The approval records still open are not needed any more; the reconciler closes what fails here.
                let closing = self.approvals.close(
                    stored.clone(),
                    &settings.servicenow,
                    Closing::NotRequired,
                );
                let stored = match closing.await {
                    Ok(stored) => stored,
                    Err(error) => {
                        tracing::warn!(%error, "approval records left open for the reconciler to close");
                        stored
                    }
                };
                Ok(Mirrored::DecisionRecorded(stored))
            }
            Updated::Unchanged(_) => Ok(Mirrored::Unchanged),
        }
    }
}

/// The request a PM Cloud item stands for, as §5 maps PM Cloud's record onto a request: an application request
/// (PM Cloud's list does not say which items are admin sessions) with PM Cloud's values, fingerprinted by its own
/// JSON form.
fn recovered(id: &PmcRequestId, raw: &Value) -> Submission {
    let bare = NewRequest {
        pmc_request_id: id.clone(),
        request_type: RequestType::Application,
        user: None,
        computer: None,
        application: None,
        reason: None,
        requested_duration: None,
        policy: None,
        details: Vec::new(),
    };
    let request = ReadBack::of(raw).confirm(&bare);
    let json = serde_json::to_value(&request).expect("a request always serialises");
    let content_hash = ContentHash::of(json.as_object().expect("a request is a JSON object"));
    Submission {
        request,
        content_hash,
    }
}

/// PM Cloud's record of request `id`: one read of PM Cloud's pause and one call (plus a token grant when due),
/// bounded by [`READ_BACK_TIME`]; a `429` pauses PM Cloud for every function. `Ok(None)` when PM Cloud has no such
/// request. Errors: why it could not be read, for an administrator (no secret).
pub(crate) async fn read_paced(
    store: &impl SharedState,
    client: &PmCloudClient,
    pm_cloud: &PmCloudSettings,
    id: &PmcRequestId,
    settings: &Settings,
) -> Result<Option<Value>, String> {
    let pace = Pace::new(Remote::PmCloud);
    match pace.until(store, now()).await {
        Ok(Some(until)) => {
            return Err(format!(
                "PM Cloud asked the connector to pause until {until}"
            ));
        }
        Ok(None) => {}
        Err(error) => return Err(format!("PM Cloud's pause could not be read: {error}")),
    }
    match tokio::time::timeout(READ_BACK_TIME, client.authorization_request(pm_cloud, id)).await {
        Ok(Ok(record)) => Ok(record),
        Ok(Err(failure)) => {
            // A pause that cannot be recorded holds nothing back.
            if let Err(error) = pace.heed(store, &failure).await {
                tracing::warn!(%error, "PM Cloud's pause could not be recorded");
            }
            Err(redact(failure.detail(), settings.secrets()))
        }
        Err(_) => Err(format!(
            "no answer within {} seconds",
            READ_BACK_TIME.as_secs()
        )),
    }
}

#[cfg(test)]
#[path = "pmcloud_mirror_tests.rs"]
mod tests;
