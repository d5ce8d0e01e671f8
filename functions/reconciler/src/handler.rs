//! Runs one reconciler pass within the invocation's deadline and answers what it did.

use shared::rules::reconciler::{Reconciler, Swept};
use shared::runtime::time_left;
use shared::secrets::SettingsSource;
use shared::store::{Backlogs, RequestStore, SharedState};
use std::time::{Instant, SystemTime};

/// `deadline` is the invocation's, as Lambda gives it (`SystemTime`).
pub async fn handle<S, C>(reconciler: &Reconciler<S, C>, deadline: SystemTime) -> Swept
where
    S: RequestStore + Backlogs + SharedState,
    C: SettingsSource,
{
    let left = time_left(deadline);
    tracing::info!(seconds_left = left.as_secs(), "reconciling");
    let swept = reconciler.run(Instant::now() + left).await;
    if swept.problems.is_empty() {
        tracing::info!(?swept, "reconciled");
    } else {
        tracing::warn!(?swept, "reconciled, with problems");
    }
    swept
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
