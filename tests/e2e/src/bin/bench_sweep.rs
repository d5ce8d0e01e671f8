//! `bench_sweep [--requests N]`: the PM Cloud sweep's benchmark against the running dev stack (`make bench-sweep`
//! starts one whose own schedule stays quiet, and runs this). PM Cloud holds N pending requests of the last hour
//! whose webhooks were all lost; the reconciler is invoked twice by hand: the first run takes every one in (the
//! worst case), the second finds them all known (the steady state). Prints, for each run, its time, the PM Cloud
//! calls it made (list pages and token grants, from the simulator's counters) and what it did.

use e2e::{Stack, pm_cloud, stack_var};
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: bench_sweep [--requests N (1000)]";

/// One reconciler run, invoked as the schedule invokes it: its answer and how long it took.
async fn reconcile(http: &reqwest::Client) -> (Value, Duration) {
    let url = format!("{}/reconciler/invocations", stack_var("E2E_INVOKE_URL"));
    let event = include_str!("../../../../events/reconciler/schedule.json");
    let started = Instant::now();
    let answer = http
        .post(url)
        .header("content-type", "application/json")
        .body(event)
        .send()
        .await
        .expect("the reconciler answers");
    let swept: Value = answer
        .json()
        .await
        .expect("the reconciler answers what it did");
    (swept, started.elapsed())
}

#[tokio::main]
async fn main() -> ExitCode {
    let requests = e2e::arguments_or_exit(|args| e2e::requests_argument(args, 1000, USAGE));
    let stack = Stack::new();
    let label = format!("sweep-{}", uuid::Uuid::new_v4().simple());
    let info =
        json!({"user": "ACME\\jdoe", "hostName": "LT-0042", "productDescription": "Wireshark"});
    let held = stack
        .post_pm_cloud(
            "/sim/authorization-requests",
            &json!({"count": requests, "id": label, "requestInfo": info}),
        )
        .await;
    assert_eq!(held, 201, "the PM Cloud simulator holds the requests");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("an HTTP client");
    println!(
        "| run | time | PM Cloud list calls | token grants | requests read | taken in | left for the next run |"
    );
    println!("|---|---|---|---|---|---|---|");
    for run in ["first (all webhooks lost)", "second (all known)"] {
        let before = stack.get_json(&pm_cloud("/sim/stats")).await;
        let (swept, elapsed) = reconcile(&http).await;
        let after = stack.get_json(&pm_cloud("/sim/stats")).await;
        let calls =
            |name: &str| after[name].as_u64().unwrap_or(0) - before[name].as_u64().unwrap_or(0);
        println!(
            "| {run} | {:.1} s | {} | {} | {} | {} | {} |",
            elapsed.as_secs_f64(),
            calls("authorizationRequestListCalls"),
            calls("tokenGrants"),
            swept["pmCloudRequestsRead"],
            swept["requestsRecovered"],
            swept["leftForNextRun"],
        );
        if swept["problems"].as_array().is_some_and(|p| !p.is_empty()) {
            eprintln!("problems: {}", swept["problems"]);
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
