//! A small client for the running dev stack, which `scripts/dev.sh` starts and describes in environment variables
//! (`make test` does both). Without them a test fails with the fix, rather than skipping.

pub mod burst;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The value of `name`, which the dev stack exports.
pub fn stack_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: the end-to-end tests need the dev stack; run them through `make test`")
    })
}

/// A bench client's arguments (the command line after the program's name) as `parse` reads them; when it cannot,
/// its message is printed and the program exits with 2.
pub fn arguments_or_exit<T>(
    parse: impl FnOnce(std::iter::Skip<std::env::Args>) -> Result<T, String>,
) -> T {
    parse(std::env::args().skip(1)).unwrap_or_else(|message| {
        eprintln!("{message}");
        std::process::exit(2)
    })
}

/// `--requests N` (N above 0) if given, else `default`. Errors: `usage`, for anything else.
pub fn requests_argument(
    mut args: impl Iterator<Item = String>,
    default: usize,
    usage: &str,
) -> Result<usize, String> {
    let mut requests = default;
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next().and_then(|v| v.parse().ok())) {
            ("--requests", Some(n)) if n > 0 => requests = n,
            _ => return Err(usage.to_owned()),
        }
    }
    Ok(requests)
}

/// The URL of `route` (a path of `openapi.json`) on the stack's HTTP API, which invokes the function with the event
/// API Gateway would send (`tests/api-gateway`).
pub fn route(route: &str) -> String {
    format!("{}{route}", stack_var("E2E_API_URL"))
}

/// A path on the ServiceNow simulator.
pub fn simulator(path: &str) -> String {
    format!("{}{path}", stack_var("E2E_SIM_URL"))
}

/// A path on the PM Cloud simulator.
pub fn pm_cloud(path: &str) -> String {
    format!("{}{path}", stack_var("E2E_PMC_URL"))
}

/// How long ticketing a request may take through the stream.
pub const TICKETING: Duration = Duration::from_secs(60);

/// The `sys_id` of the ticket recorded on `request`.
pub fn ticket_sys_id(request: &Value) -> String {
    request["ticket"]["sysId"]
        .as_str()
        .expect("a recorded ticket")
        .to_owned()
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
}

pub struct Stack {
    http: reqwest::Client,
    pmc_key: String,
}

impl Default for Stack {
    fn default() -> Self {
        Self::new()
    }
}

impl Stack {
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("an HTTP client"),
            pmc_key: stack_var("E2E_PMC_KEY"),
        }
    }

    async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer { status, body }
    }

    /// PM Cloud submits a request.
    pub async fn submit(&self, body: &Value) -> Answer {
        self.submit_raw(&body.to_string()).await
    }

    /// Submits `body` as PM Cloud's webhook sends it: the text as it is, whether or not it is valid JSON.
    pub async fn submit_raw(&self, body: &str) -> Answer {
        let response = self
            .http
            .post(route("/v1/requests"))
            .bearer_auth(&self.pmc_key)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request-intake answers");
        Self::answer(response).await
    }

    /// POSTs `body` to `path` on the PM Cloud simulator (its control routes); its status.
    pub async fn post_pm_cloud(&self, path: &str, body: &Value) -> u16 {
        self.post_json(&pm_cloud(path), body).await
    }

    /// Submits a request and waits until ticket-creator (fed by the stream relay) has ticketed it:
    /// `(pmcRequestId, the request)`.
    pub async fn ticketed(&self, label: &str) -> (String, Value) {
        let (pmc_request_id, body) = submission(label);
        let created = self.submit(&body).await;
        assert_eq!(created.status, 202, "{}", created.body);
        assert_eq!(created.body["status"], "pending");
        let request = self
            .wait_for(&pmc_request_id, TICKETING, |r| r["status"] != "pending")
            .await;
        assert_eq!(request["status"], "ticketed", "{request}");
        (pmc_request_id, request)
    }

    /// PM Cloud reads a request by its own id.
    pub async fn find(&self, pmc_request_id: &str) -> Answer {
        let response = self
            .http
            .get(route("/v1/requests"))
            .query(&[("pmcRequestId", pmc_request_id)])
            .bearer_auth(&self.pmc_key)
            .send()
            .await
            .expect("request-intake answers");
        Self::answer(response).await
    }

    /// Reads the request until `done` holds for it, or panics after `within`.
    pub async fn wait_for(
        &self,
        pmc_request_id: &str,
        within: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let answer = self.find(pmc_request_id).await;
            if answer.status == 200 && done(&answer.body) {
                return answer.body;
            }
            assert!(
                Instant::now() < deadline,
                "request {pmc_request_id} never got there; last answer: {}",
                answer.body
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// An approver acts on a ticket in the simulator, which then sends the signed webhook.
    pub async fn decide(&self, table: &str, sys_id: &str, decision: Value) -> Answer {
        let response = self
            .http
            .post(simulator(&format!("/sim/tickets/{table}/{sys_id}/decide")))
            .json(&decision)
            .send()
            .await
            .expect("the simulator answers");
        Self::answer(response).await
    }

    /// A JSON `GET` of `url` (a simulator's control API).
    pub async fn get_json(&self, url: &str) -> Value {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .expect("the simulator answers");
        Self::answer(response).await.body
    }

    /// A JSON `PUT` of `body` to `url` (a simulator's control API); its status.
    pub async fn put_json(&self, url: &str, body: &Value) -> u16 {
        let response = self
            .http
            .put(url)
            .json(body)
            .send()
            .await
            .expect("the simulator answers");
        response.status().as_u16()
    }

    /// POSTs `body` to `url` (a simulator's control API, e.g. a fault to `/sim/faults`); its status.
    pub async fn post_json(&self, url: &str, body: &Value) -> u16 {
        let response = self
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .expect("the simulator answers");
        response.status().as_u16()
    }

    /// Empties the fault queue of the simulator at `base` (`DELETE /sim/faults`), ending an outage.
    pub async fn clear_faults(&self, base: &str) {
        let response = self
            .http
            .delete(format!("{base}/sim/faults"))
            .send()
            .await
            .expect("the simulator answers");
        assert_eq!(response.status().as_u16(), 204);
    }

    /// The requests the simulator at `base` answered whose path, query or body contains `text`, oldest first:
    /// `[{"method", "path", "query"?, "status", "receivedAt"}]` (sim-kit's `GET /sim/requests`).
    pub async fn requests_to(&self, base: &str, text: &str) -> Vec<Value> {
        let response = self
            .http
            .get(format!("{base}/sim/requests"))
            .query(&[("containing", text)])
            .send()
            .await
            .expect("the simulator answers");
        match Self::answer(response).await.body {
            Value::Array(requests) => requests,
            other => panic!("the simulator listed no requests: {other}"),
        }
    }

    /// What PM Cloud's Management API received, oldest first: `[{"body", "correlationId", "path", "receivedAt"}]`.
    pub async fn pm_cloud_notifications(&self) -> Vec<Value> {
        match self.get_json(&pm_cloud("/sim/notifications")).await {
            Value::Array(received) => received,
            other => panic!("the PM Cloud simulator listed no notifications: {other}"),
        }
    }

    pub async fn simulator_tickets(&self) -> Vec<Value> {
        let response = self
            .http
            .get(simulator("/sim/tickets"))
            .send()
            .await
            .expect("the simulator answers");
        match Self::answer(response).await.body {
            Value::Array(tickets) => tickets,
            other => panic!("the simulator listed no tickets: {other}"),
        }
    }

    /// PM Cloud's *Decision Updated* webhook for `pmc_request_id`, with PM Cloud's key.
    pub async fn pm_cloud_event(&self, pmc_request_id: &str) -> Answer {
        let body = json!({"pmcRequestId": pmc_request_id, "eventType": "JIT Application Access Decision Updated"});
        let response = self
            .http
            .post(route("/v1/pmcloud/events"))
            .bearer_auth(&self.pmc_key)
            .json(&body)
            .send()
            .await
            .expect("request-intake answers");
        Self::answer(response).await
    }

    /// The work notes on a ticket of the ServiceNow simulator, oldest first: `[{"value", "sys_created_by", …}]`.
    pub async fn work_notes(&self, table: &str, sys_id: &str) -> Vec<Value> {
        let path = format!("/sim/tickets/{table}/{sys_id}/work_notes");
        match self.get_json(&simulator(&path)).await {
            Value::Array(notes) => notes,
            other => panic!("the simulator listed no work notes: {other}"),
        }
    }

    /// Posts a webhook event to ticket-callback with the given headers (for forged and stale events).
    pub async fn post_event(&self, body: &str, headers: &[(&str, String)]) -> Answer {
        let mut request = self
            .http
            .post(route("/v1/servicenow/events"))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        Self::answer(request.send().await.expect("ticket-callback answers")).await
    }
}

/// Headers signing `body` with `secret` at `timestamp`, as ServiceNow's business rule computes them.
pub fn signature_headers(secret: &str, timestamp: i64, body: &str) -> Vec<(&'static str, String)> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    vec![
        ("x-webhook-timestamp", timestamp.to_string()),
        ("x-webhook-signature", signature),
    ]
}

/// A valid submission under a fresh `pmcRequestId`.
pub fn submission(label: &str) -> (String, Value) {
    let pmc_request_id = format!("e2e-{label}-{}", uuid::Uuid::new_v4().simple());
    let body = json!({
        "pmcRequestId": pmc_request_id,
        "requestType": "application",
        "user": {"name": "ACME\\jdoe", "email": "jdoe@acme.example", "displayName": "Jane Doe"},
        "computer": {"hostName": "LT-0042", "os": "Windows 11 Enterprise"},
        "application": {"name": "Wireshark", "path": "C:\\Tools\\Wireshark\\Wireshark.exe"},
        "reason": {"choice": "Troubleshooting", "text": "Need to capture traffic"},
        "requestedDuration": {"type": "hours", "value": 4}
    });
    (pmc_request_id, body)
}
