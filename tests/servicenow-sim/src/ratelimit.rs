//! A rate limit rule, as ServiceNow's `sys_rate_limit_rules` apply one: at most `limit` requests per fixed window,
//! the rest refused with 429 until the window ends.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sim_kit::Target;

use crate::faults::{FaultTarget, Request, RequestKind};
use crate::state::{Instance, sn_error};

/// A rate limit rule. JSON: `{"limit": 100, "windowSecs": 3600, "target": "anyTable"}`; `windowSecs` defaults to an
/// hour (ServiceNow's only window) and `target` to `anyTable`. A shorter window lets a test see it end; the refusal
/// still says "per hour", as ServiceNow's does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Requests admitted per window; 0 refuses every one.
    pub limit: u32,
    /// The window's length; 0 counts as 1.
    #[serde(default = "an_hour")]
    pub window_secs: u64,
    /// The requests the rule counts and refuses; others pass untouched.
    #[serde(default = "any_table")]
    pub target: FaultTarget,
}

fn an_hour() -> u64 {
    3600
}

fn any_table() -> FaultTarget {
    FaultTarget::AnyTable
}

/// A rule in force, and what it has counted. Windows follow each other from the moment the rule was set.
pub(crate) struct RateWindow {
    pub rule: RateLimit,
    started: Instant,
    started_wall: SystemTime,
    /// Which window `used` counts in, numbered from 0.
    window: u32,
    used: u32,
}

/// Why a request is refused: what the 429's headers say.
struct Refusal {
    retry_after_secs: u64,
    reset_unix: i64,
}

impl RateWindow {
    pub fn new(rule: RateLimit) -> Self {
        RateWindow {
            rule,
            started: Instant::now(),
            started_wall: SystemTime::now(),
            window: 0,
            used: 0,
        }
    }

    /// The same rule, counting afresh from now.
    pub fn restarted(&self) -> Self {
        Self::new(self.rule.clone())
    }

    /// Count this request, or refuse it without counting it.
    fn admit(&mut self, now: Instant) -> Result<(), Refusal> {
        let length = Duration::from_secs(self.rule.window_secs.max(1));
        let elapsed = now.saturating_duration_since(self.started);
        let window = u32::try_from(elapsed.as_nanos() / length.as_nanos()).unwrap_or(u32::MAX);
        if window != self.window {
            self.window = window;
            self.used = 0;
        }
        if self.used < self.rule.limit {
            self.used += 1;
            return Ok(());
        }
        let ends_after = length * (window.saturating_add(1));
        let left = (self.started + ends_after).saturating_duration_since(now);
        let end_wall = self
            .started_wall
            .checked_add(ends_after)
            .and_then(|end| end.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default();
        Err(Refusal {
            retry_after_secs: whole_secs_up(left).max(1),
            reset_unix: i64::try_from(whole_secs_up(end_wall)).unwrap_or(i64::MAX),
        })
    }
}

/// Rounded up, so that a client waiting that long finds the window over.
fn whole_secs_up(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// Count this request against the rule in force; `Some` is the 429 that refuses it instead.
pub(crate) fn check(sim: &Instance, request: Request) -> Option<Response> {
    let mut inner = sim.base.lock();
    let rate = inner.rate_limit.as_mut()?;
    if !rate.rule.target.matches(request) {
        return None;
    }
    let Err(refusal) = rate.admit(Instant::now()) else {
        return None;
    };
    let limit = rate.rule.limit;
    inner.stats.rate_limited += 1;
    let api = if request.kind == RequestKind::Oauth {
        "OAuth token endpoint"
    } else {
        "Table API"
    };
    Some(too_many_requests(
        &format!("Rate limit of {limit} requests per hour for {api} exceeded"),
        limit,
        refusal.retry_after_secs,
        refusal.reset_unix,
    ))
}

/// ServiceNow's 429: its error body, `Retry-After` in seconds, the rule's limit and the window's end in unix seconds.
pub(crate) fn too_many_requests(
    detail: &str,
    limit: u32,
    retry_after_secs: u64,
    reset_unix: i64,
) -> Response {
    let mut answer = sn_error(
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit exceeded",
        Some(detail),
    );
    let headers = answer.headers_mut();
    headers.insert("retry-after", HeaderValue::from(retry_after_secs));
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset_unix));
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(limit: u32, window_secs: u64) -> RateWindow {
        RateWindow::new(RateLimit {
            limit,
            window_secs,
            target: FaultTarget::AnyTable,
        })
    }

    #[test]
    fn refusals_do_not_count_and_the_next_window_starts_afresh() {
        let mut rate = window(2, 10);
        let start = rate.started;
        assert!(rate.admit(start).is_ok());
        assert!(rate.admit(start + Duration::from_secs(1)).is_ok());
        let refusal = rate
            .admit(start + Duration::from_millis(2_500))
            .unwrap_err();
        assert_eq!(refusal.retry_after_secs, 8);
        assert!(rate.admit(start + Duration::from_millis(9_999)).is_err());
        assert_eq!(rate.used, 2);
        // The second window: two more, then refused until 20 s.
        assert!(rate.admit(start + Duration::from_secs(10)).is_ok());
        assert!(rate.admit(start + Duration::from_secs(11)).is_ok());
        let refusal = rate
            .admit(start + Duration::from_millis(19_900))
            .unwrap_err();
        assert_eq!(refusal.retry_after_secs, 1);
    }

    #[test]
    fn reset_is_the_window_end_in_unix_seconds() {
        let mut rate = window(0, 60);
        let refusal = rate.admit(rate.started).unwrap_err();
        let started = rate.started_wall.duration_since(UNIX_EPOCH).unwrap();
        let expected = whole_secs_up(started + Duration::from_secs(60));
        assert_eq!(refusal.reset_unix, i64::try_from(expected).unwrap());
        assert_eq!(refusal.retry_after_secs, 60);
    }
}
