//! The reconciler's v3 sweeps (CONTRACT §13, §14, §15): ServiceNow's approval records of the connector's tickets,
//! PM Cloud's authorization requests, and the follow-ups the connector owes its tickets (work notes, approval
//! records, deadlines). Each stops when the invocation's time runs short, as the others do.

use super::{KeysetPages, PM_CLOUD_LOOK_BACK, Reconciler, Swept, no_time_left};
use crate::domain::backlog::Backlog;
use crate::domain::deadline::Deadline;
use crate::domain::ids::SysId;
use crate::domain::redact::redact;
use crate::domain::settings::Settings;
use crate::domain::time::{Timestamp, now};
use crate::pmcloud::{AuthorizationRequest, SWEEP_PAGE_SIZE};
use crate::rules::pace::Pace;
use crate::rules::pmcloud_mirror::Mirrored;
use crate::rules::ticket_callback::CallbackError;
use crate::secrets::SettingsSource;
use crate::servicenow::{ApprovalRecord, RecordState};
use crate::store::{Backlogs, Remote, RequestStore, SharedState, StoreError};
use futures_util::{StreamExt, stream};
use serde_json::Value;

/// How many items of a PM Cloud page the sweep applies at once. Most cost one DynamoDB read, so the sweep takes
/// about an eighth of the time; few enough that the seldom item that calls ServiceNow (a decision made in PM Cloud,
/// told on its ticket) stays far inside ServiceNow's rate limits.
const PM_CLOUD_ITEMS_AT_ONCE: usize = 8;

impl<S, C> Reconciler<S, C>
where
    S: RequestStore + Backlogs + SharedState,
    C: SettingsSource,
{
    /// The approval records of the connector's tickets updated since `since` (CONTRACT §15: a lost approval
    /// event is found within one sweep), in keyset order, each decided one applied by ticket-callback's rules. Runs
    /// before the tickets' sweep, whose watermark it shares: it reads from where that sweep starts.
    pub(super) async fn approvals_sweep(
        &self,
        settings: &Settings,
        since: Timestamp,
        deadline: Deadline,
        swept: &mut Swept,
    ) -> Result<(), String> {
        let sn = &settings.servicenow;
        let fetch = async |after: Option<&(Timestamp, SysId)>| {
            let after = after.map(|(at, sys_id)| (*at, sys_id));
            self.servicenow
                .approvals_updated_since(sn, since, after, self.thresholds.page)
                .await
                .map_err(|e| e.to_string())
        };
        let apply = async |page: &[ApprovalRecord]| {
            for record in page {
                swept.approval_records_read += 1;
                if !matches!(record.state, RecordState::Approved | RecordState::Rejected) {
                    continue;
                }
                match self.callback.apply_approval(record.clone(), settings).await {
                    Ok(recorded) if recorded.changed => swept.decisions_recorded += 1,
                    Ok(_)
                    | Err(CallbackError::NotOurs { .. } | CallbackError::InvalidDuration(_)) => {}
                    Err(error) => return Err(error.to_string()),
                }
            }
            Ok(())
        };
        let cursor = |r: &ApprovalRecord| Some((r.updated_on?, r.sys_id.clone()));
        let pages = KeysetPages {
            deadline,
            size: self.thresholds.page,
            what: "an approval record",
        };
        if !pages.read(fetch, cursor, apply).await? {
            swept.left_for_next_run = true;
        }
        Ok(())
    }

    /// PM Cloud's authorization requests of the last [`PM_CLOUD_LOOK_BACK`], newest first, a page at a time,
    /// each applied by [`PmCloudMirror::apply`] (CONTRACT §13 v3). Items are filtered on this side (PM Cloud's
    /// filter names are not published): the sweep stops at the first item created before the look-back, at an
    /// empty page, at PM Cloud's pause, or when time runs short.
    pub(super) async fn pm_cloud_sweep(
        &self,
        settings: &Settings,
        deadline: Deadline,
        swept: &mut Swept,
    ) -> Result<(), String> {
        let Some(pm_cloud) = &settings.pm_cloud else {
            return Ok(());
        };
        let oldest = now() - PM_CLOUD_LOOK_BACK;
        let pace = Pace::new(Remote::PmCloud);
        for page in 1.. {
            if no_time_left(deadline) || self.paused(&pace).await? {
                swept.left_for_next_run = true;
                return Ok(());
            }
            swept.pm_cloud_pages += 1;
            let items = match self
                .pm_cloud
                .authorization_requests_page(pm_cloud, page)
                .await
            {
                Ok(items) => items,
                Err(failure) => {
                    pace.heed(&*self.store, &failure)
                        .await
                        .map_err(|e| e.to_string())?;
                    return Err(redact(failure.detail(), settings.secrets()));
                }
            };
            let parsed: Vec<(AuthorizationRequest, &Value)> = items
                .iter()
                .map(|raw| (AuthorizationRequest::of(raw), raw))
                .collect();
            let recent = parsed
                .iter()
                .take_while(|(item, _)| item.created.is_none_or(|created| created >= oldest))
                .count();
            // Items are independent (one request each), so a page's are applied a few at a time: the sweep's
            // time is mostly one store read per item.
            let applied: Vec<Option<Result<Mirrored, StoreError>>> =
                stream::iter(&parsed[..recent])
                    .map(|(item, raw)| async move {
                        if no_time_left(deadline) {
                            return None;
                        }
                        Some(self.mirror.apply(item, raw, settings).await)
                    })
                    .buffered(PM_CLOUD_ITEMS_AT_ONCE)
                    .collect()
                    .await;
            for outcome in applied {
                let Some(outcome) = outcome else {
                    swept.left_for_next_run = true;
                    continue;
                };
                swept.pm_cloud_requests_read += 1;
                match outcome.map_err(|e| e.to_string())? {
                    Mirrored::Recovered(_) => swept.requests_recovered += 1,
                    Mirrored::DecisionRecorded(_) => swept.decisions_mirrored += 1,
                    Mirrored::Unchanged => {}
                }
            }
            if recent < items.len() || swept.left_for_next_run {
                return Ok(());
            }
            if items.len() < SWEEP_PAGE_SIZE as usize {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Requests the connector still owes something on their ticket (CONTRACT §14, §15), earliest due first, until
    /// ServiceNow pauses: their unwritten work notes, then their approval records and deadlines.
    pub(super) async fn follow_up_sweep(
        &self,
        settings: &Settings,
        deadline: Deadline,
        swept: &mut Swept,
    ) -> Result<(), StoreError> {
        let waiting = self
            .store
            .waiting(Backlog::FollowUps, now(), self.thresholds.page as usize)
            .await?;
        let pace = Pace::new(Remote::ServiceNow);
        let pm_cloud_configured = settings.pm_cloud.is_some();
        for id in waiting {
            if no_time_left(deadline) || pace.until(&*self.store, now()).await?.is_some() {
                swept.left_for_next_run = true;
                break;
            }
            let Some(request) = self.store.get(&id).await? else {
                continue;
            };
            swept.follow_ups += 1;
            let request = self.notes.write(request, &settings.servicenow).await?;
            let followed =
                self.approvals
                    .follow_up(request, &settings.servicenow, pm_cloud_configured);
            if let Err(error) = followed.await {
                tracing::warn!(request_id = %id, %error, "a follow-up is left for the next sweep");
            }
        }
        Ok(())
    }

    /// Whether `pace`'s remote asked for a pause that still holds (one read, then known).
    async fn paused(&self, pace: &Pace) -> Result<bool, String> {
        let until = pace
            .until(&*self.store, now())
            .await
            .map_err(|e| e.to_string())?;
        Ok(until.is_some())
    }
}
