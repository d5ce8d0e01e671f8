//! A fake Lambda Runtime API (the `2018-06-01` interface a function's runtime polls), so that a test can run a
//! built function binary as Lambda would: it hands out the given events one by one and keeps what the function
//! answered. Source of the interface: AWS Lambda Developer Guide, "Using the Lambda runtime API for custom runtimes".

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Default)]
struct Invocations {
    waiting: VecDeque<Value>,
    /// `(request id, answered body, true for an error report)`, in order.
    answers: Vec<(String, Value, bool)>,
    handed_out: u64,
}

type Shared = Arc<Mutex<Invocations>>;

/// The running fake; it stops with the test's runtime.
pub struct FakeRuntime {
    /// What `AWS_LAMBDA_RUNTIME_API` must be set to: `127.0.0.1:<port>`.
    pub address: String,
    shared: Shared,
}

impl FakeRuntime {
    /// Serves `events` in order, each with a deadline 30 s after it is handed out; after the last, `next` waits.
    pub async fn start(events: Vec<Value>) -> Self {
        let shared: Shared = Arc::new(Mutex::new(Invocations {
            waiting: events.into(),
            ..Invocations::default()
        }));
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let address: SocketAddr = listener.local_addr().expect("a bound address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            address: address.to_string(),
            shared,
        }
    }

    /// The first `count` answers (`(body, was an error)`), waiting up to `wait` for them. Panics when they do not
    /// come: the function failed or hung.
    pub async fn answers(&self, count: usize, wait: Duration) -> Vec<(Value, bool)> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            {
                let invocations = self.shared.lock().expect("fake runtime lock");
                if invocations.answers.len() >= count {
                    return invocations.answers[..count]
                        .iter()
                        .map(|(_, body, error)| (body.clone(), *error))
                        .collect();
                }
            }
            assert!(
                tokio::time::Instant::now() < until,
                "the function did not answer {count} events in {wait:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// What a function binary did under the fake runtime: its answers (`(body, was an error)`, in order) and what it
/// wrote to standard output (logs, and the metrics in Embedded Metric Format) and to standard error.
pub struct Ran {
    pub answers: Vec<(Value, bool)>,
    pub stdout: String,
    pub stderr: String,
}

impl FakeRuntime {
    /// Runs the function binary at `binary` as Lambda would, against this runtime, with Lambda's own variables
    /// and `env` added to the test's environment, until it has answered `count` events (waiting up to `wait`);
    /// then stops it. Panics when it does not answer in time.
    pub async fn run_function(
        &self,
        binary: &str,
        env: &[(&str, &str)],
        count: usize,
        wait: Duration,
    ) -> Ran {
        let mut command = tokio::process::Command::new(binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", &self.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "test")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut function = command.spawn().expect("the function binary starts");
        // Read as it comes: a full pipe would stop the function.
        let stdout = read_all(function.stdout.take().map(|p| Box::new(p) as _));
        let stderr = read_all(function.stderr.take().map(|p| Box::new(p) as _));
        let answers = self.answers(count, wait).await;
        function.kill().await.expect("the function stops");
        Ran {
            answers,
            stdout: stdout.await.expect("standard output is read"),
            stderr: stderr.await.expect("standard error is read"),
        }
    }
}

/// Everything `pipe` gives until it closes, as text, read on its own task.
fn read_all(
    pipe: Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>,
) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let mut text = Vec::new();
        if let Some(mut pipe) = pipe {
            tokio::io::AsyncReadExt::read_to_end(&mut pipe, &mut text)
                .await
                .ok();
        }
        String::from_utf8_lossy(&text).into_owned()
    })
}

async fn next(State(shared): State<Shared>) -> impl IntoResponse {
    loop {
        let event = {
            let mut invocations = shared.lock().expect("fake runtime lock");
            invocations.waiting.pop_front().map(|event| {
                invocations.handed_out += 1;
                (invocations.handed_out, event)
            })
        };
        if let Some((number, event)) = event {
            let deadline = SystemTime::now() + Duration::from_secs(30);
            let deadline_ms = deadline
                .duration_since(UNIX_EPOCH)
                .expect("after 1970")
                .as_millis();
            let mut headers = HeaderMap::new();
            let header = |text: String| HeaderValue::from_str(&text).expect("an ASCII header");
            headers.insert(
                "lambda-runtime-aws-request-id",
                header(format!("request-{number}")),
            );
            headers.insert(
                "lambda-runtime-deadline-ms",
                header(deadline_ms.to_string()),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                header("arn:aws:lambda:us-east-1:123456789012:function:test".into()),
            );
            headers.insert("content-type", header("application/json".into()));
            return (headers, event.to_string());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn keep(shared: &Shared, id: String, body: &str, error: bool) -> StatusCode {
    let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
    shared
        .lock()
        .expect("fake runtime lock")
        .answers
        .push((id, body, error));
    StatusCode::ACCEPTED
}

async fn response(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    keep(&shared, id, &body, false)
}

async fn error(State(shared): State<Shared>, Path(id): Path<String>, body: String) -> StatusCode {
    keep(&shared, id, &body, true)
}

async fn init_error(State(shared): State<Shared>, body: String) -> StatusCode {
    keep(&shared, "init".into(), &body, true)
}
