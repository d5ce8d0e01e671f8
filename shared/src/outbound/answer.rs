//! A remote's answer as the connector reads it, whoever the remote: its status, its headers and its body read
//! bounded; and the few words that describe an answer that was not what was due.

use super::transport::TransportError;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use std::time::Duration;

/// At most this much of a remote answer is read: enough for any record, token or error the connector needs, and
/// for a page of 200 of PM Cloud's authorization requests (CONTRACT §13) at up to about 20 KB each (4 MiB).
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// How [`Answer::describe_unexpected`] names an HTML answer, so that a detail can be recognised as one.
pub const HTML_PAGE: &str = "an HTML page";

/// An HTTP answer: status, headers, and the body as text (at most [`MAX_ANSWER_BYTES`], lossily decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    /// Sends `request` and reads its answer; a body longer than [`MAX_ANSWER_BYTES`] is dropped unread past that,
    /// so that a remote that answers without end cannot exhaust the function's memory. Errors: how the transport
    /// failed, before the answer or while reading it.
    pub async fn of(request: reqwest::RequestBuilder) -> Result<Self, TransportError> {
        let failed = |error: reqwest::Error| TransportError::of(&error);
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            let room = MAX_ANSWER_BYTES - bytes.len();
            bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if bytes.len() == MAX_ANSWER_BYTES {
                break;
            }
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Ok(Self {
            status,
            headers,
            text,
        })
    }

    /// True for a `2xx`.
    pub fn is_success(&self) -> bool {
        (200..=299).contains(&self.status)
    }

    /// True when the answer says it is HTML, or looks like it (a hibernating ServiceNow instance, a login page or
    /// a proxy's error page answers HTML, sometimes with `200`).
    pub fn is_html(&self) -> bool {
        let declared = self
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
        let start = self
            .text
            .trim_start()
            .get(..15)
            .unwrap_or_default()
            .to_ascii_lowercase();
        declared || start.starts_with("<!doctype html") || start.starts_with("<html")
    }

    /// What came back instead of the JSON that was due, in a few words an administrator can act on: an HTML page
    /// (with its title), an empty body, or the start of the text.
    pub fn describe_unexpected(&self) -> String {
        let body = &self.text;
        if self.is_html() {
            let lower = body.to_ascii_lowercase();
            let title = lower
                .find("<title>")
                .and_then(|start| {
                    let from = start + "<title>".len();
                    lower[from..]
                        .find("</title>")
                        .map(|len| body[from..from + len].trim())
                })
                .filter(|t| !t.is_empty());
            return match title {
                Some(title) => format!(
                    "{HTML_PAGE} (\"{}\")",
                    title.chars().take(80).collect::<String>()
                ),
                None => HTML_PAGE.to_owned(),
            };
        }
        let trimmed = body.trim();
        if trimmed.is_empty() {
            "no body".to_owned()
        } else {
            format!("\"{}\"", trimmed.chars().take(200).collect::<String>())
        }
    }

    /// What came back from a token endpoint instead of a token: an HTML page (with its title), or only that it
    /// was not a token, since such an answer may hold credentials.
    pub fn describe_non_token(&self) -> String {
        if self.is_html() {
            self.describe_unexpected()
        } else {
            "an answer that is not a token".to_owned()
        }
    }
}

/// `Retry-After` as whole seconds (both ServiceNow and PM Cloud send seconds); `None` when absent or unreadable.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// How long a rate-limited remote asked to wait: the later of `Retry-After` (seconds) and `X-RateLimit-Reset`
/// (an absolute unix time in seconds, as ServiceNow sends it), counted from `now_unix`; `None` when neither is
/// readable.
pub fn rate_limit_wait(headers: &HeaderMap, now_unix: i64) -> Option<Duration> {
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.trim().parse::<i64>().ok())
        .map(|reset| {
            Duration::from_secs(u64::try_from(reset.saturating_sub(now_unix)).unwrap_or(0))
        });
    match (retry_after(headers), reset) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(headers: &HeaderMap, text: &str) -> Answer {
        Answer {
            status: 200,
            headers: headers.clone(),
            text: text.to_owned(),
        }
    }

    fn is_html(headers: &HeaderMap, text: &str) -> bool {
        answer(headers, text).is_html()
    }

    fn describe_unexpected(headers: &HeaderMap, text: &str) -> String {
        answer(headers, text).describe_unexpected()
    }

    #[test]
    fn a_rate_limit_wait_is_the_later_of_retry_after_and_the_reset_time() {
        let mut headers = HeaderMap::new();
        assert_eq!(rate_limit_wait(&headers, 1_000), None);
        headers.insert(RETRY_AFTER, "30".parse().unwrap());
        assert_eq!(
            rate_limit_wait(&headers, 1_000),
            Some(Duration::from_secs(30))
        );
        headers.insert("x-ratelimit-reset", "1600".parse().unwrap());
        assert_eq!(
            rate_limit_wait(&headers, 1_000),
            Some(Duration::from_secs(600))
        );
        headers.insert(RETRY_AFTER, "900".parse().unwrap());
        assert_eq!(
            rate_limit_wait(&headers, 1_000),
            Some(Duration::from_secs(900))
        );
        headers.remove(RETRY_AFTER);
        assert_eq!(
            rate_limit_wait(&headers, 2_000),
            Some(Duration::ZERO),
            "a reset in the past"
        );
        for extreme in [i64::MAX, i64::MIN] {
            headers.insert("x-ratelimit-reset", extreme.to_string().parse().unwrap());
            // No overflow, whatever the remote sends; the kit bounds the pause it takes from it.
            assert!(rate_limit_wait(&headers, -5).is_some(), "{extreme}");
            assert!(rate_limit_wait(&headers, i64::MAX).is_some(), "{extreme}");
        }
    }

    #[test]
    fn unexpected_answers_are_described_without_quoting_a_whole_page() {
        let mut html = HeaderMap::new();
        html.insert(CONTENT_TYPE, "text/html; charset=utf-8".parse().unwrap());
        let page = "<!DOCTYPE html><html><head><title> Instance Hibernating page </title></head><body>x</body></html>";
        assert!(is_html(&HeaderMap::new(), page));
        assert_eq!(
            describe_unexpected(&html, page),
            "an HTML page (\"Instance Hibernating page\")"
        );
        assert_eq!(describe_unexpected(&html, "<p>oops</p>"), "an HTML page");
        assert_eq!(describe_unexpected(&HeaderMap::new(), "  "), "no body");
        assert_eq!(
            describe_unexpected(&HeaderMap::new(), &"x".repeat(500)),
            format!("\"{}\"", "x".repeat(200))
        );
    }

    #[test]
    fn retry_after_is_whole_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, " 7 ".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
