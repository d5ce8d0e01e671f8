//! Bounded work under outages (CONTRACT §13 "Bounded work", issue 20), through the dev stack: while ServiceNow
//! answers `503` to every create and lookup, and then while PM Cloud's token endpoint answers `503`, 20 waiting
//! requests cost a bounded number of calls each (no failure feeds itself through the stream), and once the remote
//! is back every request is ticketed (decision delivered) once, by the first sweep after it has waited.
//!
//! The contract's bound is for a 10-minute outage: at most 25 create-or-lookup calls per request, which is what its
//! terms give in AWS: the change's stream delivery and its retries (1 + `MaximumRetryAttempts` 20), a reconciler
//! sweep (every 5 minutes) or two once the request has waited 10 minutes, and the lookup and create that ticket it.
//! Here the outage lasts [`OUTAGE`] and `make test` runs the stack with a sweep every [`SCHEDULE`] driving what waited
//! [`RECONCILE_AFTER`], and the local stream relay retries after 0.5 s, doubling to at most 10 s: the same terms give
//! [`BOUND`] calls per request. A failure that fed itself would cost tens of calls per request within seconds.
//!
//! Counting is per request, by its id in what each simulator received (sim-kit's `GET /sim/requests`), so the
//! stack's own background traffic (sweeps listing tickets) is not counted against a request. PM Cloud's token grants
//! name no request: they are counted for the whole phase, against the sum of the requests' bounds plus one per sweep
//! (the sweep's own read of PM Cloud). The faults apply to every caller while they last: this file's tests run
//! alone (cargo runs one test binary at a time, and this file holds one test, whose two phases run in turn).

use e2e::{Stack, pm_cloud, simulator, submission, ticket_sys_id};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const REQUESTS: usize = 20;
/// How long each remote stays down.
const OUTAGE: Duration = Duration::from_secs(25);
/// The reconciler's schedule and how long a request waits before a sweep drives it, as `make test` starts the
/// stack (scripts/test.sh: `DEV_SCHEDULE_SECONDS=5 DEV_RECONCILE_AFTER=15`).
const SCHEDULE: Duration = Duration::from_secs(5);
const RECONCILE_AFTER: Duration = Duration::from_secs(15);
/// Stream deliveries of one change during [`OUTAGE`]: the first, then the relay's retries after 0.5, 1.5, 3.5, 7.5,
/// 15.5 s (its backoff, tests/stream-relay `backoff`); the one after 25.5 s meets the remote back, and is the
/// delivering attempt below.
const STREAM_DELIVERIES: u64 = 6;
/// Sweeps that may drive a request during the outage: those after it waited [`RECONCILE_AFTER`].
const SWEEPS: u64 = (OUTAGE.as_secs() - RECONCILE_AFTER.as_secs()) / SCHEDULE.as_secs() + 1;
/// The attempt once the remote is back: a lookup and a create (a token grant and a push).
const LAST_ATTEMPT: u64 = 2;
/// Calls per request during [`OUTAGE`] and the recovery: one per failed attempt, plus the last attempt's.
const BOUND: u64 = STREAM_DELIVERIES + SWEEPS + LAST_ATTEMPT;
/// The first sweep after the remote is back takes every request: within a schedule, plus the time to do 20.
const RECOVERY: Duration = Duration::from_secs(SCHEDULE.as_secs() + 15);

/// Queue a `503` of `target` for (practically) every call until [`Stack::clear_faults`].
async fn down(stack: &Stack, base: &str, target: &str) {
    let fault = json!({"kind": "status", "target": target, "status": 503, "times": 1_000_000});
    assert_eq!(
        stack.post_json(&format!("{base}/sim/faults"), &fault).await,
        204
    );
}

fn received_at(call: &Value) -> chrono::DateTime<chrono::Utc> {
    call["receivedAt"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("an RFC 3339 time")
}

/// The calls `base` received that mention `text`, from `since` on.
async fn calls(
    stack: &Stack,
    base: &str,
    text: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> Vec<Value> {
    let mut calls = stack.requests_to(base, text).await;
    calls.retain(|call| received_at(call) >= since);
    calls
}

/// Waits until `done` holds for every request, or panics after `within`; how long it took.
async fn all(
    stack: &Stack,
    ids: &[String],
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Duration {
    let started = Instant::now();
    for id in ids {
        let left = within.saturating_sub(started.elapsed());
        stack.wait_for(id, left, &done).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn outages_cost_bounded_calls_per_request_and_end_with_one_ticket_and_one_delivery_each() {
    let stack = Stack::new();
    let (servicenow, pmc) = (simulator(""), pm_cloud(""));

    // ServiceNow down: every lookup (a table read) and every create answers 503.
    let since = chrono::Utc::now();
    down(&stack, &servicenow, "tableRead").await;
    down(&stack, &servicenow, "tableCreate").await;
    let started = Instant::now();
    let submitted = futures::future::join_all((0..REQUESTS).map(|i| {
        let stack = &stack;
        async move {
            let (pmc_id, body) = submission(&format!("outage-{i}"));
            let answer = stack.submit(&body).await;
            assert_eq!(answer.status, 202, "{}", answer.body);
            let id = answer.body["id"]
                .as_str()
                .expect("the request's id")
                .to_owned();
            (pmc_id, id)
        }
    }))
    .await;
    let (pmc_ids, ids): (Vec<String>, Vec<String>) = submitted.into_iter().unzip();
    tokio::time::sleep(OUTAGE.saturating_sub(started.elapsed())).await;
    for pmc_id in &pmc_ids {
        assert_eq!(
            stack.find(pmc_id).await.body["status"],
            "pending",
            "nothing ticketed while down"
        );
    }
    stack.clear_faults(&servicenow).await;
    let ticketing = all(&stack, &pmc_ids, RECOVERY, |r| r["status"] == "ticketed").await;

    let tickets = stack.simulator_tickets().await;
    let mut servicenow_calls = Vec::new();
    for id in &ids {
        let of_request = tickets
            .iter()
            .filter(|t| t["correlation_id"] == id.as_str())
            .count();
        assert_eq!(of_request, 1, "request {id} has exactly one ticket");
        let lookups_and_creates = calls(&stack, &servicenow, id, since)
            .await
            .into_iter()
            .filter(|c| matches!(c["method"].as_str(), Some("GET" | "POST")))
            .count() as u64;
        servicenow_calls.push(lookups_and_creates);
    }
    println!(
        "ServiceNow down {} s: lookup-or-create calls per request {servicenow_calls:?} (bound {BOUND}), all ticketed {:.1} s after it was back",
        OUTAGE.as_secs(),
        ticketing.as_secs_f64()
    );
    for (id, n) in ids.iter().zip(&servicenow_calls) {
        assert!(
            *n >= 2 && *n <= BOUND,
            "request {id}: {n} ServiceNow calls, bound {BOUND}"
        );
    }

    // PM Cloud's token endpoint down: every request approved, tokens expired, so that each push needs a grant.
    let since = chrono::Utc::now();
    down(&stack, &pmc, "token").await;
    assert_eq!(
        stack
            .post_json(&pm_cloud("/sim/tokens/expire"), &json!({}))
            .await,
        204
    );
    let started = Instant::now();
    for pmc_id in &pmc_ids {
        let request = stack.find(pmc_id).await.body;
        let decided = stack
            .decide(
                "incident",
                &ticket_sys_id(&request),
                json!({"approval": "approved", "duration": "4 hours"}),
            )
            .await;
        assert_eq!(decided.body["webhook"]["status"], 200, "{}", decided.body);
    }
    tokio::time::sleep(OUTAGE.saturating_sub(started.elapsed())).await;
    let delivered = |r: &Value| r["pmCloudNotification"]["state"] == "delivered";
    for pmc_id in &pmc_ids {
        assert!(
            !delivered(&stack.find(pmc_id).await.body),
            "nothing delivered while down"
        );
    }
    stack.clear_faults(&pmc).await;
    let delivering = all(&stack, &pmc_ids, RECOVERY, delivered).await;

    let notifications = stack.pm_cloud_notifications().await;
    let mut push_calls = Vec::new();
    for pmc_id in &pmc_ids {
        let accepted = notifications
            .iter()
            .filter(|n| n["body"]["itsmRequestId"] == pmc_id.as_str())
            .count();
        assert_eq!(accepted, 1, "request {pmc_id}: its decision delivered once");
        push_calls.push(calls(&stack, &pmc, pmc_id, since).await.len() as u64);
    }
    let phase_sweeps = (started.elapsed().as_secs() / SCHEDULE.as_secs()) + 1;
    let grants = calls(&stack, &pmc, "/oauth/connect/token", since)
        .await
        .len() as u64;
    let all_calls = grants + push_calls.iter().sum::<u64>();
    let allowed = REQUESTS as u64 * BOUND + phase_sweeps;
    println!(
        "PM Cloud's token endpoint down {} s: calls naming each request {push_calls:?}, token grants {grants}, in all \
         {all_calls} (bound {allowed}: {BOUND} a request and one a sweep), all delivered {:.1} s after it was back",
        OUTAGE.as_secs(),
        delivering.as_secs_f64()
    );
    for (pmc_id, n) in pmc_ids.iter().zip(&push_calls) {
        assert!(
            *n >= 1 && *n <= BOUND,
            "request {pmc_id}: {n} PM Cloud calls, bound {BOUND}"
        );
    }
    assert!(
        all_calls <= allowed,
        "{all_calls} PM Cloud calls with the token grants, bound {allowed}"
    );
    assert!(grants >= 1, "the pushes needed a grant");
}
