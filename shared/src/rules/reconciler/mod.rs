//! `reconciler`'s rules (CONTRACT §13): every few minutes, find what the usual paths stranded and drive it through
//! the same rules as they would, so that nothing waits forever and nothing is done twice.
//!
//! Five sweeps, each stopping when the invocation's time runs short (the rest waits for the next run):
//! - ServiceNow's tickets of the task table updated since the last sweep (minus a margin), paged by update time,
//!   each applied by ticket-callback's rules: a decision whose webhook never arrived is recorded. Progress is
//!   kept in the table after each page, so a sweep that died resumes where it stopped.
//! - Decisions whose push to PM Cloud has been pending for a while, oldest first, pushed by decision-notifier's
//!   rules.
//! - Requests pending for a while, oldest first, driven by ticket-creator's rules (so still at most one ticket)
//!   within ServiceNow's pause: the sweep stops at the first pause.
//! - v3, with `pmCloud` configured: PM Cloud's authorization requests of the last 24 hours, newest first, 200 a
//!   page (one call each, on one kept token) until an item is older or a page is empty, each applied by
//!   [`PmCloudMirror`]: a lost webhook's request is taken in, a decision made in PM Cloud recorded. Stops at
//!   PM Cloud's pause (one read of it).
//! - v3: what the connector still owes a ticket (follow-ups, from the same sparse index, due first): work notes
//!   ServiceNow could not take yet ([`WorkNotes`]), approval records, reminders, escalations and expiries
//!   ([`ApprovalRules`]), within ServiceNow's pause (one read of it).
//!
//! The two backlogs come from the table's sparse index (one query a page), never from a scan.

use crate::domain::backlog::Backlog;
use crate::domain::deadline::Deadline;
use crate::domain::ids::SysId;
use crate::domain::settings::Settings;
use crate::domain::time::{Timestamp, now};
use crate::pmcloud::PmCloudClient;
use crate::rules::approvals::ApprovalRules;
use crate::rules::decision_notifier::DecisionNotifier;
use crate::rules::pace::Pace;
use crate::rules::pmcloud_mirror::PmCloudMirror;
use crate::rules::ticket_callback::{CallbackError, TicketCallback};
use crate::rules::ticket_creator::TicketCreator;
use crate::rules::work_notes::WorkNotes;
use crate::secrets::SettingsSource;
use crate::servicenow::{ServiceNowClient, TaskRecord};
use crate::store::{Backlogs, Remote, RequestStore, SharedState, StoreError};
use std::sync::Arc;

/// How far back the PM Cloud sweep reads PM Cloud's authorization requests (CONTRACT §13 v3: 24 hours).
pub const PM_CLOUD_LOOK_BACK: chrono::Duration = chrono::Duration::hours(24);

/// How the reconciler looks for stranded work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// A request or a push waiting longer than this is driven (CONTRACT §13: 10 minutes).
    pub stranded_after: chrono::Duration,
    /// How far before its watermark the ServiceNow sweep looks again, for updates committed or clocked late.
    pub margin: chrono::Duration,
    /// How far back the first ServiceNow sweep looks.
    pub first_look_back: chrono::Duration,
    /// Requests or tickets read a page.
    pub page: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            stranded_after: chrono::Duration::minutes(10),
            margin: chrono::Duration::minutes(5),
            first_look_back: chrono::Duration::hours(24),
            page: 100,
        }
    }
}

/// What one run did (logged, and the invocation's answer).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Swept {
    /// ServiceNow tickets read and applied.
    pub tickets_read: u32,
    /// Approval records of the connector's tickets read (CONTRACT §15).
    pub approval_records_read: u32,
    /// Decisions recorded from them (their webhook had not arrived).
    pub decisions_recorded: u32,
    /// Pushes tried again.
    pub pushes_tried: u32,
    /// Pending requests driven.
    pub requests_driven: u32,
    /// Pages of PM Cloud's authorization requests read (one call each).
    pub pm_cloud_pages: u32,
    /// PM Cloud's authorization requests of the last 24 hours read from them.
    pub pm_cloud_requests_read: u32,
    /// Requests taken in because their webhook never arrived.
    pub requests_recovered: u32,
    /// Decisions made in PM Cloud recorded.
    pub decisions_mirrored: u32,
    /// Requests whose follow-ups (work notes, approval records, deadlines) were due and were taken up.
    pub follow_ups: u32,
    /// True when time ran short or ServiceNow paused before all was done.
    pub left_for_next_run: bool,
    /// Requests pending for more than an hour, and decisions undelivered for more than an hour, after the run.
    pub pending_over_an_hour: u64,
    pub undelivered_over_an_hour: u64,
    /// What went wrong, for the log (never a secret).
    pub problems: Vec<String>,
}

pub struct Reconciler<S, C> {
    store: Arc<S>,
    settings: Arc<C>,
    servicenow: ServiceNowClient,
    creator: TicketCreator<Arc<S>, Arc<C>>,
    callback: TicketCallback<Arc<S>>,
    notifier: DecisionNotifier<Arc<S>, Arc<C>>,
    mirror: PmCloudMirror<Arc<S>>,
    notes: WorkNotes<Arc<S>>,
    approvals: ApprovalRules<Arc<S>>,
    pm_cloud: PmCloudClient,
    thresholds: Thresholds,
}

impl<S, C> Reconciler<S, C>
where
    S: RequestStore + Backlogs + SharedState,
    C: SettingsSource,
{
    /// The three functions' rules over one store, one settings cache and one client each (clients share their
    /// kept tokens).
    pub fn new(
        store: S,
        settings: C,
        servicenow: ServiceNowClient,
        pm_cloud: PmCloudClient,
        thresholds: Thresholds,
    ) -> Self {
        let (store, settings) = (Arc::new(store), Arc::new(settings));
        Self {
            creator: TicketCreator::new(
                store.clone(),
                settings.clone(),
                servicenow.clone(),
                pm_cloud.clone(),
            ),
            callback: TicketCallback::new(store.clone(), servicenow.clone()),
            notifier: DecisionNotifier::new(
                store.clone(),
                settings.clone(),
                pm_cloud.clone(),
                servicenow.clone(),
            ),
            mirror: PmCloudMirror::new(store.clone(), servicenow.clone(), pm_cloud.clone()),
            notes: WorkNotes::new(store.clone(), servicenow.clone()),
            approvals: ApprovalRules::new(store.clone(), servicenow.clone()),
            pm_cloud,
            store,
            settings,
            servicenow,
            thresholds,
        }
    }

    /// One run, stopping in time for `deadline`.
    pub async fn run(&self, deadline: Deadline) -> Swept {
        let mut swept = Swept::default();
        match self.settings.settings().await {
            Ok(settings) => {
                if let Err(error) = self.store.settings_valid().await {
                    swept.problems.push(error.to_string());
                }
                if let Err(problem) = self.servicenow_sweep(&settings, deadline, &mut swept).await {
                    swept.problems.push(problem);
                }
                if let Err(problem) = self.pm_cloud_sweep(&settings, deadline, &mut swept).await {
                    swept.problems.push(problem);
                }
                if let Err(error) = self.follow_up_sweep(&settings, deadline, &mut swept).await {
                    swept.problems.push(error.to_string());
                }
            }
            Err(error) => swept.problems.push(error.to_string()),
        }
        if let Err(error) = self.push_sweep(deadline, &mut swept).await {
            swept.problems.push(error.to_string());
        }
        if let Err(error) = self.ticket_sweep(deadline, &mut swept).await {
            swept.problems.push(error.to_string());
        }
        if let Err(error) = self.count_backlogs(&mut swept).await {
            swept.problems.push(error.to_string());
        }
        // The run finished (whatever it met): the template alarms when this is missing for 15 minutes.
        metrics::counter!("ReconcilerHeartbeat").increment(1);
        swept
    }

    /// The tickets updated since the watermark (minus the margin), a page at a time in keyset order
    /// (`sys_updated_on`, then `sys_id`), until a page is short. The watermark is the last `sys_updated_on` read,
    /// in ServiceNow's own clock (CONTRACT §13 v3), and moves after each page, never back; the first sweep looks
    /// back [`Thresholds::first_look_back`] from now.
    async fn servicenow_sweep(
        &self,
        settings: &Settings,
        deadline: Deadline,
        swept: &mut Swept,
    ) -> Result<(), String> {
        let sn = &settings.servicenow;
        let watermark = self.store.watermark().await.map_err(|e| e.to_string())?;
        let since = match watermark {
            Some(watermark) => watermark - self.thresholds.margin,
            None => now() - self.thresholds.first_look_back,
        };
        if sn.approvals.is_some() {
            self.approvals_sweep(settings, since, deadline, swept)
                .await?;
        }
        let table = self.servicenow.table(sn, sn.task_type);
        let fetch = async |after: Option<&(Timestamp, SysId)>| {
            let after = after.map(|(at, sys_id)| (*at, sys_id));
            table
                .updated_since(since, after, self.thresholds.page)
                .await
                .map_err(|e| e.to_string())
        };
        let apply = async |page: &[TaskRecord]| {
            for record in page {
                swept.tickets_read += 1;
                match self
                    .callback
                    .apply_ticket(record.clone(), sn.task_type, settings)
                    .await
                {
                    Ok(recorded) if recorded.changed => swept.decisions_recorded += 1,
                    Ok(_) => {}
                    // Tickets the connector did not open, or an approval with a bad duration (answered 422 to
                    // ServiceNow too): nothing to record.
                    Err(CallbackError::NotOurs { .. } | CallbackError::InvalidDuration(_)) => {}
                    Err(error) => return Err(error.to_string()),
                }
            }
            if let Some(at) = page.last().and_then(TaskRecord::updated_on)
                && watermark.is_none_or(|w| w < at)
            {
                self.store
                    .set_watermark(at)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        };
        let cursor = |r: &TaskRecord| Some((r.updated_on()?, r.sys_id()?));
        let pages = KeysetPages {
            deadline,
            size: self.thresholds.page,
            what: "a ticket",
        };
        if !pages.read(fetch, cursor, apply).await? {
            swept.left_for_next_run = true;
        }
        Ok(())
    }

    /// Decisions whose push has been pending too long, oldest first, until PM Cloud pauses (one read of its pause).
    async fn push_sweep(&self, deadline: Deadline, swept: &mut Swept) -> Result<(), StoreError> {
        let before = now() - self.thresholds.stranded_after;
        let waiting = self
            .store
            .waiting(Backlog::Pushes, before, self.thresholds.page as usize)
            .await?;
        let pace = Pace::new(Remote::PmCloud);
        for id in waiting {
            if no_time_left(deadline) || pace.holds(now()) {
                swept.left_for_next_run = true;
                break;
            }
            swept.pushes_tried += 1;
            if let Err(retry) = self.notifier.push_paced(&id, &pace).await {
                tracing::warn!(request_id = %id, error = %retry.detail, "push failed again");
            }
        }
        Ok(())
    }

    /// Requests pending too long, oldest first, until ServiceNow pauses.
    async fn ticket_sweep(&self, deadline: Deadline, swept: &mut Swept) -> Result<(), StoreError> {
        let before = now() - self.thresholds.stranded_after;
        let pace = Pace::new(Remote::ServiceNow);
        let waiting = self
            .store
            .waiting(Backlog::Tickets, before, self.thresholds.page as usize)
            .await?;
        for id in waiting {
            if no_time_left(deadline) || pace.holds(now()) {
                swept.left_for_next_run = true;
                break;
            }
            swept.requests_driven += 1;
            if let Err(retry) = self.creator.process_paced(&id, &pace).await {
                tracing::warn!(request_id = %id, error = %retry.detail, "ticket creation failed again");
            }
        }
        Ok(())
    }

    /// The two "more than an hour" figures operators are alarmed on (CONTRACT §13).
    async fn count_backlogs(&self, swept: &mut Swept) -> Result<(), StoreError> {
        let hour_ago: Timestamp = now() - chrono::Duration::hours(1);
        swept.pending_over_an_hour = self.store.count_waiting(Backlog::Tickets, hour_ago).await?;
        swept.undelivered_over_an_hour =
            self.store.count_waiting(Backlog::Pushes, hour_ago).await?;
        metrics::gauge!("RequestsPendingOverOneHour").set(swept.pending_over_an_hour as f64);
        metrics::gauge!("DecisionsUndeliveredOverOneHour")
            .set(swept.undelivered_over_an_hour as f64);
        Ok(())
    }
}

/// The margin is reached: what is left of the run's time is kept to write what was done and answer.
/// Records updated since a time, read a page at a time in keyset order (`sys_updated_on`, then `sys_id`: CONTRACT
/// §13 v3), so that a record updated during the sweep is never skipped.
struct KeysetPages {
    deadline: Deadline,
    /// Records a page.
    size: u32,
    /// What a record is, for the error about one that cannot be paged past ("a ticket").
    what: &'static str,
}

impl KeysetPages {
    /// Reads pages with `fetch` (given the last page's last record's place, `None` at first) and hands each to
    /// `apply`, until a page is short: `true`; `false` when the invocation's time ran short first. Errors: the
    /// first of `fetch`'s or `apply`'s, and a full page whose last record has no place (`cursor` gives `None`).
    async fn read<R>(
        &self,
        mut fetch: impl AsyncFnMut(Option<&(Timestamp, SysId)>) -> Result<Vec<R>, String>,
        cursor: impl Fn(&R) -> Option<(Timestamp, SysId)>,
        mut apply: impl AsyncFnMut(&[R]) -> Result<(), String>,
    ) -> Result<bool, String> {
        let mut after = None;
        loop {
            if no_time_left(self.deadline) {
                return Ok(false);
            }
            let page = fetch(after.as_ref()).await?;
            apply(&page).await?;
            if page.len() < self.size as usize {
                return Ok(true);
            }
            let last = page.last().and_then(&cursor).ok_or_else(|| {
                format!(
                    "ServiceNow answered {} without sys_updated_on or sys_id",
                    self.what
                )
            })?;
            after = Some(last);
        }
    }
}

fn no_time_left(deadline: Deadline) -> bool {
    deadline.left().is_zero()
}

mod v3_sweeps;

#[cfg(test)]
pub(crate) mod tests;
