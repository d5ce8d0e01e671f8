//! Invokes the function with a shard's records the way the event source mapping does: partial batch
//! responses, bisection on function errors, exponential backoff, and a failures file standing in
//! for the on-failure SQS queue once retries run out.

use crate::event::{LambdaRecord, lambda_event};
use dev_tool::error_chain;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::fs::{OpenOptions, create_dir_all};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// ticket-creator's own timeout is 60 s and `scripts/dev.sh` builds it before the relay starts, so an invocation
/// that takes longer than this was lost (for example to `cargo lambda watch` reloading the function) and is retried.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(90);

/// What one invocation answered, read the way the event source mapping reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The `itemIdentifier`s (sequence numbers) the function reported as failed; never empty.
    ItemFailures(Vec<String>),
    /// The whole batch failed: function error, bad answer, or no answer.
    Error(String),
}

/// What to do with a batch after an attempt: nothing, or retry these parts of it, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Done,
    Retry {
        parts: Vec<Range<usize>>,
        reason: String,
    },
}

/// Follows Lambda's documented success and failure conditions for `ReportBatchItemFailures`.
pub fn read_response(status: u16, body: &str) -> Outcome {
    if !(200..300).contains(&status) {
        return Outcome::Error(format!("HTTP {status}: {}", shorten(body)));
    }
    if body.trim().is_empty() {
        return Outcome::Success;
    }
    let answer: Value = match serde_json::from_str(body) {
        Ok(answer) => answer,
        Err(_) => return Outcome::Error(format!("answer is not JSON: {}", shorten(body))),
    };
    if let Some(error_type) = answer.get("errorType") {
        let message = answer.get("errorMessage").unwrap_or(&Value::Null);
        return Outcome::Error(format!("function error {error_type}: {message}"));
    }
    let failures = match answer.get("batchItemFailures") {
        None | Some(Value::Null) => return Outcome::Success,
        Some(Value::Array(failures)) => failures,
        Some(other) => return Outcome::Error(format!("batchItemFailures is not a list: {other}")),
    };
    let mut identifiers = Vec::with_capacity(failures.len());
    for failure in failures {
        match failure.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => identifiers.push(id.to_owned()),
            _ => return Outcome::Error(format!("invalid batch item failure: {failure}")),
        }
    }
    if identifiers.is_empty() {
        Outcome::Success
    } else {
        Outcome::ItemFailures(identifiers)
    }
}

/// `sequence_numbers` are the batch's, in stream order. Reported failures restart the batch at the
/// earliest failed record (records before it succeeded); a whole-batch failure is bisected.
#[expect(
    clippy::single_range_in_vec_init,
    reason = "a list of parts to retry, which may be a single one"
)]
pub fn next_step(sequence_numbers: &[&str], outcome: &Outcome) -> Next {
    let len = sequence_numbers.len();
    let bisect = |reason: String| Next::Retry {
        parts: if len > 1 {
            vec![0..len / 2, len / 2..len]
        } else {
            vec![0..len]
        },
        reason,
    };
    match outcome {
        Outcome::Success => Next::Done,
        Outcome::Error(reason) => bisect(reason.clone()),
        Outcome::ItemFailures(failed) => {
            let position = |id: &String| sequence_numbers.iter().position(|seq| seq == id);
            // Lambda fails the whole batch when any identifier is not one of its records.
            match failed.iter().map(position).collect::<Option<Vec<_>>>() {
                Some(positions) => {
                    let start = positions.into_iter().min().unwrap_or_default();
                    Next::Retry {
                        parts: vec![start..len],
                        reason: format!(
                            "the function reported {} as failed",
                            sequence_numbers[start]
                        ),
                    }
                }
                None => bisect(format!(
                    "batchItemFailures names a record not in the batch: {failed:?}"
                )),
            }
        }
    }
}

/// Wait before the `retry`-th retry (1-based): 500 ms, doubling, at most 10 s.
pub fn backoff(retry: u32) -> Duration {
    let doublings = retry.saturating_sub(1).min(16);
    FIRST_BACKOFF
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
}

pub struct Deliverer {
    http: reqwest::Client,
    invoke_url: String,
    /// The function's name, from `…/functions/NAME/invocations`, in every line about an invocation: one line per
    /// invocation (`make bench-cost` counts them).
    function: String,
    max_retries: u32,
    failures_file: PathBuf,
    stream_arn: String,
}

/// Part of a shard's records still to deliver, with the retries already spent on it.
struct Chunk {
    records: Vec<LambdaRecord>,
    retries: u32,
}

impl Deliverer {
    pub fn new(
        invoke_url: String,
        max_retries: u32,
        failures_file: PathBuf,
        stream_arn: String,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(INVOKE_TIMEOUT).build()?;
        let function = invoke_url
            .trim_end_matches("/invocations")
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Ok(Self {
            http,
            invoke_url,
            function,
            max_retries,
            failures_file,
            stream_arn,
        })
    }

    /// Returns once every record was delivered or given up on, so the shard's order is kept.
    pub async fn deliver(&self, shard_id: &str, records: Vec<LambdaRecord>) {
        let mut queue = VecDeque::from([Chunk {
            records,
            retries: 0,
        }]);
        while let Some(chunk) = queue.pop_front() {
            if chunk.retries > 0 {
                tokio::time::sleep(backoff(chunk.retries)).await;
            }
            let invoked = std::time::Instant::now();
            let outcome = self.invoke(&chunk.records).await;
            let took = invoked.elapsed().as_millis();
            let sequence_numbers: Vec<&str> = chunk
                .records
                .iter()
                .map(|r| r.sequence_number.as_str())
                .collect();
            let sent = chunk.records.len();
            let (parts, reason) = match next_step(&sequence_numbers, &outcome) {
                Next::Done => {
                    eprintln!(
                        "stream-relay: {}: {shard_id}: delivered {sent} record(s) ({took} ms)",
                        self.function
                    );
                    continue;
                }
                Next::Retry { parts, reason } => (parts, reason),
            };
            let failed = match &outcome {
                Outcome::ItemFailures(ids) => format!("{} failure(s) reported", ids.len()),
                _ => "whole batch failed".to_owned(),
            };
            let retries = chunk.retries + 1;
            if retries > self.max_retries {
                let start = parts.first().map_or(0, |part| part.start);
                self.give_up(shard_id, &chunk.records[start..], &reason, retries);
                continue;
            }
            eprintln!(
                "stream-relay: {}: {shard_id}: sent {sent} record(s) ({took} ms), {failed} ({reason}); retry {retries}/{} in {:?}",
                self.function,
                self.max_retries,
                backoff(retries)
            );
            for part in parts.into_iter().rev() {
                queue.push_front(Chunk {
                    records: chunk.records[part].to_vec(),
                    retries,
                });
            }
        }
    }

    async fn invoke(&self, records: &[LambdaRecord]) -> Outcome {
        let sent = self
            .http
            .post(&self.invoke_url)
            .json(&lambda_event(records))
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => return Outcome::Error(format!("invoke failed: {}", error_chain(&err))),
        };
        let status = response.status().as_u16();
        match response.text().await {
            Ok(body) => read_response(status, &body),
            Err(err) => Outcome::Error(format!("reading the answer failed: {}", error_chain(&err))),
        }
    }

    /// The local stand-in for the on-failure destination: one JSON line, shaped like Lambda's
    /// invocation record for stream sources, per batch given up on.
    fn give_up(&self, shard_id: &str, records: &[LambdaRecord], reason: &str, invocations: u32) {
        let first = records.first().map(|r| r.sequence_number.as_str());
        let last = records.last().map(|r| r.sequence_number.as_str());
        let line = json!({
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invocations,
            },
            "reason": reason,
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first,
                "endSequenceNumber": last,
                "batchSize": records.len(),
                "streamArn": self.stream_arn,
            },
        })
        .to_string();
        eprintln!(
            "stream-relay: warning: {}: {shard_id}: giving up on {} record(s) {}..{} after {} retries: {reason}",
            self.function,
            records.len(),
            first.unwrap_or_default(),
            last.unwrap_or_default(),
            self.max_retries,
        );
        if let Err(err) = append_line(&self.failures_file, &line) {
            // Keep the record visible even when the file cannot take it.
            eprintln!(
                "stream-relay: warning: cannot write {}: {err}; the failed batch was: {line}",
                self.failures_file.display()
            );
        }
    }
}

fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all(parent)?;
    }
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(file, "{line}")
}

fn shorten(body: &str) -> String {
    const LIMIT: usize = 300;
    match body.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BATCH: [&str; 5] = ["101", "102", "103", "104", "105"];

    fn failures(ids: &[&str]) -> Outcome {
        Outcome::ItemFailures(ids.iter().map(|id| id.to_string()).collect())
    }

    fn parts(next: Next) -> Vec<Range<usize>> {
        match next {
            Next::Retry { parts, .. } => parts,
            Next::Done => Vec::new(),
        }
    }

    #[test]
    fn success_answers() {
        for body in [
            "",
            "null",
            "{}",
            r#"{"batchItemFailures": []}"#,
            r#"{"batchItemFailures": null}"#,
        ] {
            assert_eq!(read_response(200, body), Outcome::Success, "{body:?}");
        }
    }

    #[test]
    fn item_failures_are_read_in_the_order_given() {
        assert_eq!(
            read_response(
                200,
                r#"{"batchItemFailures":[{"itemIdentifier":"104"},{"itemIdentifier":"102"}]}"#
            ),
            failures(&["104", "102"])
        );
    }

    #[test]
    fn whole_batch_failures() {
        for (status, body) in [
            (500, r#"{"batchItemFailures": []}"#),
            (502, ""),
            (
                200,
                r#"{"errorType": "Runtime.ExitError", "errorMessage": "boom"}"#,
            ),
            (200, "not json"),
            (200, r#"{"batchItemFailures": [{"itemIdentifier": ""}]}"#),
            (200, r#"{"batchItemFailures": [{"itemIdentifier": null}]}"#),
            (200, r#"{"batchItemFailures": [{"itemId": "101"}]}"#),
            (200, r#"{"batchItemFailures": "101"}"#),
        ] {
            assert!(
                matches!(read_response(status, body), Outcome::Error(_)),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn success_sends_nothing_again() {
        assert_eq!(next_step(&BATCH, &Outcome::Success), Next::Done);
    }

    #[test]
    fn item_failures_resend_from_the_earliest_failed_record_on() {
        assert_eq!(parts(next_step(&BATCH, &failures(&["103"]))), vec![2..5]);
        // Order in the answer does not matter: the earliest in the stream wins.
        assert_eq!(
            parts(next_step(&BATCH, &failures(&["105", "102"]))),
            vec![1..5]
        );
        assert_eq!(parts(next_step(&BATCH, &failures(&["101"]))), vec![0..5]);
        assert_eq!(parts(next_step(&BATCH, &failures(&["105"]))), vec![4..5]);
    }

    #[test]
    fn unknown_item_failures_and_errors_bisect_the_batch() {
        assert_eq!(
            parts(next_step(&BATCH, &failures(&["999"]))),
            vec![0..2, 2..5]
        );
        assert_eq!(
            parts(next_step(&BATCH, &failures(&["999", "104"]))),
            vec![0..2, 2..5]
        );
        let error = Outcome::Error("HTTP 500".into());
        assert_eq!(parts(next_step(&BATCH, &error)), vec![0..2, 2..5]);
        assert_eq!(parts(next_step(&BATCH[..4], &error)), vec![0..2, 2..4]);
        assert_eq!(parts(next_step(&BATCH[..2], &error)), vec![0..1, 1..2]);
        // A single record cannot be split further: it is retried alone.
        assert_eq!(parts(next_step(&BATCH[..1], &error)), vec![0..1]);
    }

    #[test]
    fn backoff_doubles_from_half_a_second_up_to_ten() {
        let waits: Vec<u128> = (1..=7).map(|retry| backoff(retry).as_millis()).collect();
        assert_eq!(waits, [500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    /// Runs the real delivery loop against an endpoint that always fails.
    #[tokio::test]
    async fn a_failing_batch_is_bisected_then_written_to_the_failures_file() {
        use axum::{Json, Router, http::StatusCode, routing::post};
        use std::sync::{Arc, Mutex};

        let seen: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
        let log = Arc::clone(&seen);
        let app = Router::new().route(
            "/",
            post(move |Json(event): Json<Value>| async move {
                let sequence_numbers = event["Records"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        r["dynamodb"]["SequenceNumber"]
                            .as_str()
                            .unwrap_or("?")
                            .to_owned()
                    })
                    .collect();
                log.lock().expect("lock").push(sequence_numbers);
                (StatusCode::INTERNAL_SERVER_ERROR, "boom")
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        let dir = std::env::temp_dir().join(format!("stream-relay-deliver-{}", std::process::id()));
        let path = dir.join("nested/failed.jsonl");
        let deliverer = Deliverer::new(url, 1, path.clone(), "arn:stream".into()).expect("client");
        let record = |seq: &str| LambdaRecord {
            sequence_number: seq.into(),
            json: json!({"dynamodb": {"SequenceNumber": seq}}),
        };
        deliverer
            .deliver("shard-1", vec![record("7"), record("9")])
            .await;
        server.abort();

        // One try of the whole batch, then each half retried once (max-retries 1), then given up.
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen, [vec!["7", "9"], vec!["7"], vec!["9"]]);
        let text = std::fs::read_to_string(&path).expect("failures file written");
        let _ = std::fs::remove_dir_all(&dir);
        let lines: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("JSON line"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        let info = &lines[0]["DDBStreamBatchInfo"];
        assert_eq!(info["streamArn"], "arn:stream");
        assert_eq!(info["shardId"], "shard-1");
        assert_eq!(info["startSequenceNumber"], "7");
        assert_eq!(info["endSequenceNumber"], "7");
        assert_eq!(info["batchSize"], 1);
        assert_eq!(lines[0]["requestContext"]["approximateInvokeCount"], 2);
        assert!(
            lines[0]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("HTTP 500")),
            "{text}"
        );
        assert_eq!(lines[1]["DDBStreamBatchInfo"]["startSequenceNumber"], "9");
    }
}
