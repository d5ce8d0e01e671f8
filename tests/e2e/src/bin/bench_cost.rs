//! `bench_cost [--requests N]`: the price of a request (`make bench-cost` starts a dev stack whose schedule stays
//! quiet, with scripts/aws_counter.py between it and moto, and runs this). Drives one request, then N more one after
//! another, as PM Cloud's webhooks arrive one at a time, each to a decision delivered to PM Cloud: submitted,
//! ticketed, approved in ServiceNow, pushed. The first pays what an execution environment or a table pays once (each
//! function's first settings read and token grants, the table's request id key) and is shown apart; the N show what
//! a request costs. Prints, per request, the Lambda invocations by function (the stack's log: one line per
//! invocation by the API gateway and by each stream relay), DynamoDB reads and writes and Secrets Manager calls (the
//! counting proxy, by operation), ServiceNow and PM Cloud calls (the simulators' request logs), and the cost of 1,000
//! requests at AWS's on-demand prices ([`PRICES`]).
//!
//! Progress is watched on the simulators (the ticket, the push), never through the connector's API, so the benchmark
//! itself costs the connector nothing.

use e2e::{Stack, pm_cloud, simulator, stack_var, submission};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: bench_cost [--requests N (50)]";

/// The functions' memory (template.yaml `Globals.Function.MemorySize`), in GB.
const MEMORY_GB: f64 = 0.25;

/// AWS's published on-demand prices, US East (N. Virginia), in US dollars, as listed on aws.amazon.com/lambda,
/// /dynamodb, /secrets-manager and /api-gateway pricing pages (taken 2026-12-07, without the free tiers).
struct Prices {
    /// Lambda, per request.
    lambda_request: f64,
    /// Lambda on arm64 (Graviton), per GB-second (the first 7.5 billion a month).
    lambda_gb_second: f64,
    /// DynamoDB on-demand, per write request unit (1 KB; a larger item takes one per KB).
    write_unit: f64,
    /// DynamoDB on-demand, per read request unit (a strongly consistent read up to 4 KB; counted so for every read).
    read_unit: f64,
    /// Secrets Manager, per API call.
    secrets_call: f64,
    /// API Gateway HTTP API, per request (the first 300 million a month).
    http_api_request: f64,
}

const PRICES: Prices = Prices {
    lambda_request: 0.20 / 1e6,
    lambda_gb_second: 0.000_013_333_4,
    write_unit: 0.625 / 1e6,
    read_unit: 0.125 / 1e6,
    secrets_call: 0.05 / 1e4,
    http_api_request: 1.00 / 1e6,
};

const DYNAMODB_READS: [&str; 5] = [
    "GetItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "TransactGetItems",
];
const DYNAMODB_WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// One invocation in the stack's log: the function and how long it took (milliseconds). The API gateway writes
/// `METHOD /path -> FUNCTION (ROUTE): STATUS (N ms)`, a stream relay `stream-relay: FUNCTION: SHARD: delivered …
/// (N ms)` or `… sent … (N ms), …` (a batch the function failed), one line per invocation. `None` for other lines and
/// for the gateway's `GET`s (reads, which the benchmark does not make).
fn invocation(line: &str) -> Option<(String, bool, f64)> {
    let millis = |text: &str| {
        let (number, _) = text.split_once(" ms)")?;
        number.rsplit('(').next()?.trim().parse::<f64>().ok()
    };
    if let Some(rest) = line.strip_prefix("stream-relay: ") {
        let (function, rest) = rest.split_once(": ")?;
        let (_, what) = rest.split_once(": ")?;
        let invoked = what.starts_with("delivered ") || what.starts_with("sent ");
        return invoked.then(|| Some((function.to_owned(), false, millis(what)?)))?;
    }
    let (request, rest) = line.split_once(" -> ")?;
    if request.starts_with("GET ") {
        return None;
    }
    let (function, _) = rest.split_once(' ')?;
    Some((function.to_owned(), true, millis(rest)?))
}

/// The counting proxy's counts by operation (`X-Amz-Target`).
async fn aws_counts(http: &reqwest::Client) -> BTreeMap<String, u64> {
    let url = format!("{}/__counts", stack_var("AWS_ENDPOINT_URL"));
    http.get(url)
        .send()
        .await
        .expect("the counting proxy answers (make bench-cost starts it)")
        .json()
        .await
        .expect("counts")
}

/// Every call a simulator answered since `since`.
async fn calls_since(
    stack: &Stack,
    base: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> Vec<Value> {
    let mut calls = stack.requests_to(base, "").await;
    calls.retain(|call| {
        call["receivedAt"]
            .as_str()
            .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
            .is_some_and(|at| at >= since)
    });
    calls
}

/// Polls `check` every 100 ms until it gives a value, or panics after 60 s.
async fn until<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    check: impl Fn() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One request from the webhook to the decision PM Cloud accepted.
async fn drive(stack: &Stack, i: usize) {
    let (pmc_id, body) = submission(&format!("cost-{i}"));
    let answer = stack.submit(&body).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let id = answer.body["id"].clone();
    let sys_id = until("the ticket", || async {
        let tickets = stack.simulator_tickets().await;
        let ticket = tickets.iter().find(|t| t["correlation_id"] == id)?;
        ticket["sys_id"].as_str().map(str::to_owned)
    })
    .await;
    let decision = json!({"approval": "approved", "duration": "4 hours", "by": "alice.approver"});
    let decided = stack.decide("incident", &sys_id, decision).await;
    assert_eq!(decided.body["webhook"]["status"], 200, "{}", decided.body);
    until("the push", || async {
        let pushes = stack.requests_to(&pm_cloud(""), &pmc_id).await;
        pushes
            .iter()
            .any(|c| c["method"] == "POST" && c["status"] == 200)
            .then_some(())
    })
    .await;
}

/// Calls by kind: `(kind, calls)`, `kind` from `classify` of each call's method and path.
fn by_kind(
    calls: &[Value],
    classify: impl Fn(&str, &str) -> &'static str,
) -> BTreeMap<&'static str, u64> {
    let mut kinds = BTreeMap::new();
    for call in calls {
        let kind = classify(
            call["method"].as_str().unwrap_or_default(),
            call["path"].as_str().unwrap_or_default(),
        );
        *kinds.entry(kind).or_default() += 1;
    }
    kinds
}

fn servicenow_kind(method: &str, path: &str) -> &'static str {
    match (method, path) {
        (_, "/oauth_token.do") => "token grants",
        ("GET", _) => "reads",
        ("POST", _) => "creates",
        _ => "updates",
    }
}

fn pm_cloud_kind(method: &str, path: &str) -> &'static str {
    match (method, path) {
        (_, "/oauth/connect/token") => "token grants",
        ("GET", _) => "reads",
        _ => "pushes",
    }
}

fn listed(kinds: &BTreeMap<&'static str, u64>, n: f64) -> String {
    kinds
        .iter()
        .map(|(kind, calls)| format!("{kind} {:.2}", *calls as f64 / n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where the counters stood when a measured stretch began.
struct Mark {
    log_start: u64,
    aws: BTreeMap<String, u64>,
    since: chrono::DateTime<chrono::Utc>,
}

/// What a measured stretch cost, in all (not yet per request).
struct Counts {
    /// Per function: invocations and their total milliseconds.
    invocations: BTreeMap<String, (u64, f64)>,
    http_api_requests: u64,
    /// Per AWS operation (`X-Amz-Target`): calls.
    aws: BTreeMap<String, u64>,
    servicenow: BTreeMap<&'static str, u64>,
    pm_cloud: BTreeMap<&'static str, u64>,
}

impl Counts {
    fn invocations(&self) -> u64 {
        self.invocations.values().map(|(count, _)| count).sum()
    }

    fn gb_seconds(&self) -> f64 {
        self.invocations
            .values()
            .map(|(_, ms)| ms / 1000.0 * MEMORY_GB)
            .sum()
    }

    /// The DynamoDB calls among `operations`, and each operation's per request ("PutItem 6.00").
    fn dynamodb(&self, operations: &[&str], n: f64) -> (u64, String) {
        let counted: Vec<(&str, u64)> = operations
            .iter()
            .map(|op| {
                let calls = self.aws.get(&format!("DynamoDB_20120810.{op}"));
                (*op, calls.copied().unwrap_or(0))
            })
            .filter(|(_, calls)| *calls > 0)
            .collect();
        let detail = counted
            .iter()
            .map(|(op, calls)| format!("{op} {:.2}", *calls as f64 / n))
            .collect::<Vec<_>>()
            .join(", ");
        (counted.iter().map(|(_, calls)| calls).sum(), detail)
    }

    fn secrets(&self) -> u64 {
        self.aws
            .iter()
            .filter(|(op, _)| op.starts_with("secretsmanager."))
            .map(|(_, calls)| calls)
            .sum()
    }
}

async fn mark(http: &reqwest::Client) -> Mark {
    Mark {
        log_start: std::fs::metadata(stack_var("BENCH_STACK_LOG")).map_or(0, |m| m.len()),
        aws: aws_counts(http).await,
        since: chrono::Utc::now(),
    }
}

/// What happened since `mark`.
async fn counts_since(stack: &Stack, http: &reqwest::Client, mark: &Mark) -> Counts {
    let log = std::fs::read(stack_var("BENCH_STACK_LOG")).expect("the stack's log");
    let log =
        String::from_utf8_lossy(&log[usize::try_from(mark.log_start).unwrap_or(0)..]).into_owned();
    let mut invocations: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    let mut http_api_requests = 0;
    for (function, through_gateway, millis) in log.lines().filter_map(invocation) {
        let entry = invocations.entry(function).or_default();
        entry.0 += 1;
        entry.1 += millis;
        http_api_requests += u64::from(through_gateway);
    }
    let aws = aws_counts(http)
        .await
        .into_iter()
        .map(|(op, after)| {
            let before = mark.aws.get(&op).copied().unwrap_or(0);
            (op, after - before)
        })
        .collect();
    Counts {
        invocations,
        http_api_requests,
        aws,
        servicenow: by_kind(
            &calls_since(stack, &simulator(""), mark.since).await,
            servicenow_kind,
        ),
        pm_cloud: by_kind(
            &calls_since(stack, &pm_cloud(""), mark.since).await,
            pm_cloud_kind,
        ),
    }
}

/// Drives `requests` requests from `first` on, then waits for what follows a delivery (the work note that tells
/// the ticket, the stream records of the last writes): what they cost.
async fn measure(stack: &Stack, http: &reqwest::Client, first: usize, requests: usize) -> Counts {
    let mark = mark(http).await;
    for i in first..first + requests {
        drive(stack, i).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    counts_since(stack, http, &mark).await
}

/// One row of the per-request table: the first request's figure, then the measured ones per request.
fn row(what: &str, first: f64, per: f64, detail: &str, goal: Option<f64>) -> String {
    let verdict = |goal: f64| if per <= goal { "met" } else { "**above**" };
    let goal = goal.map_or("—".to_owned(), |g| format!("≤ {g} ({})", verdict(g)));
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    };
    format!("| {what} | {first:.0} | {per:.2}{detail} | {goal} |")
}

#[tokio::main]
async fn main() -> ExitCode {
    let requests = e2e::arguments_or_exit(|args| e2e::requests_argument(args, 50, USAGE));
    let stack = Stack::new();
    let http = reqwest::Client::new();
    // The first request pays what an execution environment and a table pay once: each function's first settings
    // read and token grants, the table's request id key. It is shown apart.
    let first = measure(&stack, &http, 0, 1).await;
    let started = Instant::now();
    let counts = measure(&stack, &http, 1, requests).await;
    let elapsed = started.elapsed();

    let n = requests as f64;
    let per = |count: u64| count as f64 / n;
    let by_function = counts
        .invocations
        .iter()
        .map(|(f, (count, ms))| {
            format!("{f} {:.2} ({:.0} ms each)", per(*count), ms / *count as f64)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let ((reads, read_ops), (writes, write_ops)) = (
        counts.dynamodb(&DYNAMODB_READS, n),
        counts.dynamodb(&DYNAMODB_WRITES, n),
    );
    let (first_reads, first_writes) = (
        first.dynamodb(&DYNAMODB_READS, 1.0).0,
        first.dynamodb(&DYNAMODB_WRITES, 1.0).0,
    );
    let calls = |kinds: &BTreeMap<&str, u64>| kinds.values().sum::<u64>();

    println!(
        "After a first request, {requests} requests one after another, each to a decision PM Cloud accepted, in \
         {:.0} s.\n",
        elapsed.as_secs_f64()
    );
    println!("| per approved request | first request | measured, per request | goal (issue 20) |");
    println!("|---|---|---|---|");
    let rows = [
        row(
            "Lambda invocations",
            first.invocations() as f64,
            per(counts.invocations()),
            &by_function,
            Some(4.0),
        ),
        row(
            "DynamoDB writes",
            first_writes as f64,
            per(writes),
            &write_ops,
            Some(6.0),
        ),
        row(
            "DynamoDB reads",
            first_reads as f64,
            per(reads),
            &read_ops,
            None,
        ),
        row(
            "Secrets Manager calls",
            first.secrets() as f64,
            per(counts.secrets()),
            "",
            None,
        ),
        row(
            "ServiceNow calls",
            calls(&first.servicenow) as f64,
            per(calls(&counts.servicenow)),
            &listed(&counts.servicenow, n),
            Some(3.0),
        ),
        row(
            "PM Cloud calls",
            calls(&first.pm_cloud) as f64,
            per(calls(&counts.pm_cloud)),
            &listed(&counts.pm_cloud, n),
            Some(2.0),
        ),
        row(
            "HTTP API requests",
            first.http_api_requests as f64,
            per(counts.http_api_requests),
            "",
            None,
        ),
    ];
    for line in rows {
        println!("{line}");
    }
    let thousand = 1000.0 / n;
    let lines = [
        (
            "Lambda requests",
            counts.invocations() as f64 * thousand,
            PRICES.lambda_request,
        ),
        (
            "Lambda GB-seconds (256 MB, arm64)",
            counts.gb_seconds() * thousand,
            PRICES.lambda_gb_second,
        ),
        (
            "DynamoDB write request units",
            writes as f64 * thousand,
            PRICES.write_unit,
        ),
        (
            "DynamoDB read request units",
            reads as f64 * thousand,
            PRICES.read_unit,
        ),
        (
            "Secrets Manager API calls",
            counts.secrets() as f64 * thousand,
            PRICES.secrets_call,
        ),
        (
            "API Gateway HTTP API requests",
            counts.http_api_requests as f64 * thousand,
            PRICES.http_api_request,
        ),
    ];
    println!("\n| 1,000 requests | units | price (us-east-1, on demand) | cost (USD) |");
    println!("|---|---|---|---|");
    let mut total = 0.0;
    for (what, units, price) in lines {
        total += units * price;
        println!(
            "| {what} | {units:.1} | {price:.10} | {:.6} |",
            units * price
        );
    }
    println!("| **total** | | | **{total:.6}** |");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::invocation;

    #[test]
    fn the_stacks_log_lines_name_one_invocation_each() {
        let gateway = "POST /test/v1/requests -> request-intake (ANY /v1/requests): 202 (69 ms)";
        assert_eq!(
            invocation(gateway),
            Some(("request-intake".into(), true, 69.0))
        );
        let read = "GET /test/v1/requests -> request-intake (ANY /v1/requests): 200 (9 ms)";
        assert_eq!(invocation(read), None);
        let delivered = "stream-relay: ticket-creator: shardId-1-a: delivered 2 record(s) (130 ms)";
        assert_eq!(
            invocation(delivered),
            Some(("ticket-creator".into(), false, 130.0))
        );
        let failed = "stream-relay: decision-notifier: shardId-1-a: sent 5 record(s) (40 ms), 1 failure(s) \
                      reported (the function reported 11 as failed); retry 1/20 in 500ms";
        assert_eq!(
            invocation(failed),
            Some(("decision-notifier".into(), false, 40.0))
        );
        let other = "stream-relay: relaying arn:aws:dynamodb:us-east-1:1:table/t/stream/x to http://h/invocations";
        assert_eq!(invocation(other), None);
        assert_eq!(
            invocation("servicenow-sim: business rule for incident 1: 200"),
            None
        );
    }
}
