//! A burst against the dev stack: N requests at once, while the ServiceNow simulator admits only R creates per
//! window, as an instance's rate limit rule would. What it shows: every request ticketed once, none lost, and about
//! one `429` per pause (the pause is shared), within about ⌈N/R⌉ windows plus a sweep.

use crate::{Stack, simulator};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What a burst asked for.
#[derive(Debug, Clone, Copy)]
pub struct Burst {
    pub requests: usize,
    /// Creates the simulator admits per window.
    pub limit: u32,
    pub window: Duration,
    /// How long to wait for the last ticket before giving up.
    pub within: Duration,
}

/// What it did.
#[derive(Debug, Clone)]
pub struct BurstReport {
    pub burst: Burst,
    /// Tickets created for the burst's requests (by correlation id).
    pub tickets: usize,
    /// Requests with more than one ticket.
    pub duplicates: usize,
    /// Requests not ticketed when it stopped waiting.
    pub lost: usize,
    /// `429`s the simulator's rule answered.
    pub rate_limited: u64,
    /// From the first submission to the last ticket.
    pub elapsed: Duration,
}

impl BurstReport {
    /// ⌈N/R⌉: the windows the instance needs at the least.
    pub fn ideal_windows(&self) -> u64 {
        (self.burst.requests as u64).div_ceil(u64::from(self.burst.limit.max(1)))
    }

    /// The report as the README records it.
    pub fn table(&self) -> String {
        let window = self.burst.window.as_secs();
        format!(
            "| requests | limit | tickets created | duplicates | lost | 429s received | time to the last ticket | ideal (⌈N/R⌉ windows) |\n\
             |---|---|---|---|---|---|---|---|\n\
             | {} | {} per {window} s | {} | {} | {} | {} | {:.0} s | {} windows = {} s |",
            self.burst.requests,
            self.burst.limit,
            self.tickets,
            self.duplicates,
            self.lost,
            self.rate_limited,
            self.elapsed.as_secs_f64(),
            self.ideal_windows(),
            self.ideal_windows() * window,
        )
    }
}

fn submission(label: &str, i: usize) -> Value {
    json!({
        "pmcRequestId": format!("{label}-{i:05}"),
        "requestType": "application",
        "user": {"name": "ACME\\\\burst"},
        "computer": {"hostName": format!("LT-{i:05}")},
        "application": {"name": "Burst", "path": "C:\\\\Burst.exe"},
        "reason": {"text": "burst benchmark"}
    })
}

/// Runs `burst`: sets the simulator's rate limit, submits every request (16 at a time), waits until every one is
/// ticketed or `within` ran out, counts, and lifts the limit again once its last window has passed.
pub async fn run(stack: &Stack, burst: Burst) -> BurstReport {
    let label = format!("burst-{}", uuid::Uuid::new_v4().simple());
    let stats = || async { stack.get_json(&simulator("/sim/stats")).await };
    let at_start = stats().await;
    let before = at_start["rateLimited"].as_u64().unwrap_or(0);
    let creates_before = at_start["creates"].as_u64().unwrap_or(0);
    let rule = json!({"limit": burst.limit, "windowSecs": burst.window.as_secs(), "target": "tableCreate"});
    assert_eq!(
        stack.put_json(&simulator("/sim/rate-limit"), &rule).await,
        204
    );

    let started = Instant::now();
    let ids: Vec<usize> = (0..burst.requests).collect();
    for chunk in ids.chunks(16) {
        let submissions = chunk.iter().map(|i| {
            let body = submission(&label, *i);
            async move { stack.submit(&body).await.status }
        });
        for status in futures::future::join_all(submissions).await {
            assert_eq!(status, 202, "every submission is accepted");
        }
    }

    // Progress from the simulator's counters; the tickets themselves are counted once, at the end.
    let created = |stats: &Value| stats["creates"].as_u64().unwrap_or(0) - creates_before;
    while created(&stats().await) < burst.requests as u64 && started.elapsed() < burst.within {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let elapsed = started.elapsed();
    let counted = count(stack, &label).await;
    let rate_limited = stats().await["rateLimited"].as_u64().unwrap_or(0) - before;

    // The pause ServiceNow last asked for ends with this window; lift the rule after it, for whoever comes next.
    tokio::time::sleep(burst.window).await;
    assert_eq!(
        stack
            .put_json(&simulator("/sim/rate-limit"), &Value::Null)
            .await,
        204
    );
    BurstReport {
        burst,
        tickets: counted.values().sum(),
        duplicates: counted.values().filter(|n| **n > 1).count(),
        lost: burst.requests - counted.len(),
        rate_limited,
        elapsed,
    }
}

/// Tickets per request of the burst, from the simulator (a request appears once it has a ticket).
async fn count(stack: &Stack, label: &str) -> HashMap<String, usize> {
    let mut tickets: HashMap<String, usize> = HashMap::new();
    for ticket in stack.simulator_tickets().await {
        let description = ticket["description"].as_str().unwrap_or_default();
        if let Some(pmc) = description
            .lines()
            .find_map(|line| line.strip_prefix("PM Cloud request id: "))
            .filter(|pmc| pmc.starts_with(label))
        {
            *tickets.entry(pmc.to_owned()).or_default() += 1;
        }
    }
    tickets
}
