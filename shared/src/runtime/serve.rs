//! The one invocation loop every function runs: it takes each event from the Lambda Runtime API, gives the
//! handler the invocation's [`Deadline`] with the margin its [`Trigger`] keeps, and writes the invocation's
//! metrics after each answer, whichever edge the function is (HTTP, stream, schedule).

use crate::domain::deadline::Deadline;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

/// What invokes a function, which decides how much of the invocation's time is kept back to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// API Gateway, waiting for an answer.
    Http,
    /// A DynamoDB stream, waiting for a partial batch response.
    Stream,
    /// The reconciler's schedule.
    Schedule,
}

impl Trigger {
    /// The time kept back from the invocation's end.
    pub const fn margin(self) -> Duration {
        match self {
            // Enough to answer `503` ourselves rather than let Lambda stop the function, which API Gateway turns
            // into a bare 500 or 504 without the problem body CONTRACT §4 promises.
            Self::Http => Duration::from_secs(1),
            // Enough for the batch response to reach Lambda: without it the whole batch is redelivered, the
            // records already done included.
            Self::Stream => Duration::from_secs(2),
            // Enough for a run to finish the page it is on, write what it did (the watermark, the gauges) and
            // answer: a page is a ServiceNow read and a store write per ticket.
            Self::Schedule => Duration::from_secs(20),
        }
    }

    /// The deadline of an invocation that Lambda ends at `ends` (the context's deadline), from now.
    pub fn deadline(self, ends: SystemTime) -> Deadline {
        Deadline {
            ends: Instant::now() + time_left(ends),
            kept: self.margin(),
        }
    }
}

/// How long a function may take when its runtime gives no usable deadline: Lambda always gives one, but a local
/// runtime (cargo lambda watch) sends none, which reads as a deadline long past.
const LOCAL_TIME_LIMIT: Duration = Duration::from_secs(60);

/// The time an invocation has left until `ends` (the Lambda context's deadline), from now.
fn time_left(ends: SystemTime) -> Duration {
    ends.duration_since(SystemTime::now())
        .ok()
        .filter(|left| !left.is_zero())
        .unwrap_or(LOCAL_TIME_LIMIT)
}

/// Serves `handler` (the event as JSON and the invocation's deadline in, the answer out) on the Lambda Runtime
/// API until the execution environment ends, writing the metrics each invocation counted after its answer
/// ([`super::flush_metrics`]).
pub async fn serve<H, F, A>(trigger: Trigger, handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(Value, Deadline) -> F,
    F: Future<Output = A>,
    A: Serialize,
{
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Value>| {
            // Boxed: the handlers' futures are deep (a reconciler run holds every client's), and the runtime's
            // service would nest them deeper still.
            let answer = Box::pin(handler(
                event.payload,
                trigger.deadline(event.context.deadline()),
            ));
            async move {
                let answer = answer.await;
                super::flush_metrics();
                Ok::<_, lambda_runtime::Error>(answer)
            }
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_counts_to_the_deadline_and_a_missing_deadline_gives_the_local_limit() {
        let now = std::time::SystemTime::now();
        let left = time_left(now + std::time::Duration::from_secs(100));
        assert!(
            left > std::time::Duration::from_secs(98)
                && left <= std::time::Duration::from_secs(100)
        );
        assert_eq!(time_left(std::time::UNIX_EPOCH), LOCAL_TIME_LIMIT);
    }

    #[test]
    fn each_trigger_keeps_its_margin_from_the_invocations_end() {
        let ends = SystemTime::now() + Duration::from_secs(100);
        for trigger in [Trigger::Http, Trigger::Stream, Trigger::Schedule] {
            let deadline = trigger.deadline(ends);
            assert_eq!(deadline.kept, trigger.margin());
            assert!(deadline.left() <= Duration::from_secs(100) - trigger.margin());
        }
    }
}
