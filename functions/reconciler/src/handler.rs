//! Runs one reconciler pass within the invocation's deadline and answers what it did.

use shared::domain::deadline::Deadline;
use shared::rules::reconciler::{Reconciler, Swept};
use shared::secrets::SettingsSource;
use shared::store::{Backlogs, RequestStore, SharedState};

/// `deadline` is the invocation's, with the schedule's margin.
pub async fn handle<S, C>(reconciler: &Reconciler<S, C>, deadline: Deadline) -> Swept
where
    S: RequestStore + Backlogs + SharedState,
    C: SettingsSource,
{
    tracing::info!(seconds_left = deadline.left().as_secs(), "reconciling");
    let swept = reconciler.run(deadline).await;
    if swept.problems.is_empty() {
        tracing::info!(?swept, "reconciled");
    } else {
        tracing::warn!(?swept, "reconciled, with problems");
    }
    swept
}
