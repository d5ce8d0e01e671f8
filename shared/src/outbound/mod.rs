//! What every call out of the connector shares, whether to ServiceNow or to PM Cloud: one reqwest client per
//! execution environment with bounded timeouts and no redirects, the reading of `Retry-After`, and a transport
//! failure described for an administrator (never with a credential: URLs carry none, and reqwest's messages
//! quote no headers or bodies).

use crate::domain::base_url::{Hosts, LOCAL_HOST_REFUSED};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Well under every function's timeout, so that a slow remote ends as a transient error, not a killed function.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The default bound on a whole call, answer body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// One reqwest client per execution environment, built on first use: building one sets up TLS, which stays out of
/// the time before the first event, and is never paid by a function that makes no call. Cheap to clone: clones
/// share the client. Dereferences to [`reqwest::Client`].
#[derive(Clone)]
pub struct HttpClient {
    built: Arc<OnceLock<reqwest::Client>>,
    timeout: Duration,
    hosts: Hosts,
}

impl std::ops::Deref for HttpClient {
    type Target = reqwest::Client;

    fn deref(&self) -> &reqwest::Client {
        self.built
            .get_or_init(|| build_client(self.timeout, self.hosts))
    }
}

/// The HTTP client a function builds once, in `main`, with [`REQUEST_TIMEOUT`], connecting only to addresses
/// `hosts` admits.
pub fn http_client(hosts: Hosts) -> HttpClient {
    http_client_with_timeout(REQUEST_TIMEOUT, hosts)
}

/// The same with another total timeout (the settings check, and tests that stage slow answers).
pub fn http_client_with_timeout(timeout: Duration, hosts: Hosts) -> HttpClient {
    HttpClient {
        built: Arc::new(OnceLock::new()),
        timeout,
        hosts,
    }
}

/// The reqwest client: bounded timeouts, no redirects, the compiled-in roots ([`tls_roots`]).
///
/// With [`Hosts::Public`], every name is resolved by [`PublicAddressesOnly`], so that a name that resolves to a
/// local address, now or after a DNS change, is refused where the connection is made (CONTRACT §2); IP literals are
/// refused by the settings themselves ([`crate::domain::base_url::BaseUrl::parse`]).
fn build_client(timeout: Duration, hosts: Hosts) -> reqwest::Client {
    // reqwest takes rustls' process-wide provider: ring, the one the AWS SDK's client uses. Installing it again is
    // refused, harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = match hosts {
        Hosts::Public => reqwest::Client::builder().dns_resolver(Arc::new(PublicAddressesOnly)),
        Hosts::Local => reqwest::Client::builder(),
    };
    let roots = tls_roots().filter_map(|der| reqwest::Certificate::from_der(der).ok());
    builder
        .tls_certs_only(roots)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "pmc-servicenow-connector/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .expect("a client with compiled-in roots builds")
}

/// A client built on first use (for example an AWS SDK client): building one costs about a millisecond that stays
/// out of the time before the first event, and one a function never calls is never built.
pub type BuiltOnFirstUse<T> = std::sync::LazyLock<T, Box<dyn FnOnce() -> T + Send>>;

/// `value` as a [`BuiltOnFirstUse`] that is built already (tests hand in their own clients).
pub fn built<T: Send + 'static>(value: T) -> BuiltOnFirstUse<T> {
    std::sync::LazyLock::new(Box::new(move || value))
}

/// The root certificates every TLS connection trusts, ServiceNow's, PM Cloud's and AWS's alike: Mozilla's CA list
/// as compiled into the binary (`webpki-root-certs`), DER-encoded. Compiled in so that no function reads the
/// system's certificate folder at start; they cover `*.service-now.com`, `*.pm.beyondtrustcloud.com` and AWS's
/// endpoints. A TLS-intercepting proxy's own CA is not among them.
pub fn tls_roots() -> impl Iterator<Item = &'static [u8]> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|cert| cert.as_ref())
}

/// The system resolver, refusing a name when any address it resolves to is local (loopback, private, link-local,
/// unspecified): a name that mixes public and local addresses could be steered to the local one.
pub struct PublicAddressesOnly;

impl Resolve for PublicAddressesOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = resolve(&host).await?;
            if any_local(&addrs) {
                return Err(
                    format!("{host} resolves to a local address: {LOCAL_HOST_REFUSED}").into(),
                );
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The addresses the system resolver gives for `host` (port 0). Errors: the resolver's.
pub async fn resolve(host: &str) -> std::io::Result<Vec<SocketAddr>> {
    Ok(tokio::net::lookup_host((host, 0)).await?.collect())
}

/// Whether any of `addrs` is local (loopback, private, link-local, unspecified): a name that mixes public and
/// local addresses could be steered to the local one.
pub fn any_local(addrs: &[SocketAddr]) -> bool {
    addrs.iter().any(|a| !Hosts::Public.admits(a.ip()))
}

/// `Retry-After` as whole seconds (both ServiceNow and PM Cloud send seconds); `None` when absent or unreadable.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// At most this much of a remote answer is read: enough for any record, token or error the connector needs.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// The answer's body as text, read up to [`MAX_ANSWER_BYTES`] (the rest is dropped unread), so that a remote
/// that answers without end cannot exhaust the function's memory. Errors: the transport's.
pub async fn answer_text(mut response: reqwest::Response) -> Result<String, reqwest::Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_ANSWER_BYTES - bytes.len();
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if bytes.len() == MAX_ANSWER_BYTES {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// True when the answer says it is HTML, or looks like it (a hibernating ServiceNow instance, a login page or a
/// proxy's error page answers HTML, sometimes with `200`).
pub fn is_html(headers: &HeaderMap, body: &str) -> bool {
    let declared = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    let start = body
        .trim_start()
        .get(..15)
        .unwrap_or_default()
        .to_ascii_lowercase();
    declared || start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// How [`describe_unexpected`] names an HTML answer, so that a detail can be recognised as one.
pub const HTML_PAGE: &str = "an HTML page";

/// What came back instead of the JSON that was due, in a few words an administrator can act on: an HTML page
/// (with its title), an empty body, or the start of the text.
pub fn describe_unexpected(headers: &HeaderMap, body: &str) -> String {
    if is_html(headers, body) {
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

/// What came back from a token endpoint instead of a token: an HTML page (with its title), or only that it was
/// not a token, since such an answer may hold credentials.
pub fn describe_non_token(headers: &HeaderMap, body: &str) -> String {
    if is_html(headers, body) {
        describe_unexpected(headers, body)
    } else {
        "an answer that is not a token".to_owned()
    }
}

/// When to renew a token granted at `granted_at` that lives `expires_in` seconds: a minute (at most a tenth of
/// its life) before it runs out. Any `expires_in`, however large, is read as at most a day, so the sum cannot
/// overflow; none means the token is renewed at once.
pub fn renewal_time(granted_at: Instant, expires_in: Option<u64>) -> Instant {
    const RENEW_MARGIN: Duration = Duration::from_secs(60);
    const LONGEST_KEPT: Duration = Duration::from_secs(24 * 60 * 60);
    let lifetime = Duration::from_secs(expires_in.unwrap_or(0)).min(LONGEST_KEPT);
    let margin = RENEW_MARGIN.min(lifetime / 10);
    granted_at + lifetime.saturating_sub(margin)
}

/// How long a rate-limited remote asked to wait: the later of `Retry-After` (seconds) and `X-RateLimit-Reset`
/// (an absolute unix time in seconds, as ServiceNow sends it), counted from `now_unix`; `None` when neither is
/// readable.
pub fn rate_limit_wait(headers: &HeaderMap, now_unix: i64) -> Option<Duration> {
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.trim().parse::<i64>().ok())
        .map(|reset| Duration::from_secs(u64::try_from(reset - now_unix).unwrap_or(0)));
    match (retry_after(headers), reset) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// How a call failed before any answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// No answer within the timeout (connect or total).
    TimedOut,
    /// The TLS handshake failed: an untrusted or mismatched certificate, or something intercepting TLS.
    Tls,
    /// The host name did not resolve.
    NameNotFound,
    /// No connection could be made (refused, unreachable): the request was never sent.
    Refused,
    /// The connection failed after it was made, so the request may have been sent.
    Dropped,
}

/// A transport failure and its reason: the error with its causes, which is where "connection refused", a DNS
/// failure or a TLS reason is said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub failure: TransportFailure,
    pub reason: String,
}

impl TransportError {
    pub fn of(error: &reqwest::Error) -> Self {
        let reason = error_chain(error);
        let lower = reason.to_lowercase();
        let failure = if error.is_timeout() {
            TransportFailure::TimedOut
        } else if is_tls_failure(&lower) {
            TransportFailure::Tls
        } else if ["dns", "lookup", "resolve"]
            .iter()
            .any(|needle| lower.contains(needle))
        {
            TransportFailure::NameNotFound
        } else if error.is_connect() {
            TransportFailure::Refused
        } else {
            TransportFailure::Dropped
        };
        Self { failure, reason }
    }

    /// True when the request may have reached the remote although no answer came back (it may act on it).
    pub fn may_have_been_sent(&self) -> bool {
        matches!(
            self.failure,
            TransportFailure::TimedOut | TransportFailure::Dropped
        )
    }

    /// "timed out", "could not connect" or "failed": how a call ended, for a one-line detail.
    pub fn summary(&self) -> &'static str {
        match self.failure {
            TransportFailure::TimedOut => "timed out",
            TransportFailure::Tls | TransportFailure::NameNotFound | TransportFailure::Refused => {
                "could not connect"
            }
            TransportFailure::Dropped => "failed",
        }
    }
}

fn is_tls_failure(reason: &str) -> bool {
    [
        "certificate",
        "tls",
        "ssl",
        "handshake",
        "invalidcontenttype",
        "corrupt message",
        "peer is incompatible",
    ]
    .iter()
    .any(|needle| reason.contains(needle))
}

/// An error with its causes, each said once.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn tokens_are_renewed_before_they_expire_whatever_their_lifetime() {
        let now = Instant::now();
        assert_eq!(
            renewal_time(now, Some(1799)),
            now + Duration::from_secs(1739)
        );
        assert_eq!(renewal_time(now, Some(100)), now + Duration::from_secs(90));
        assert_eq!(renewal_time(now, None), now);
        assert_eq!(renewal_time(now, Some(0)), now);
        assert_eq!(
            renewal_time(now, Some(u64::MAX)),
            now + Duration::from_secs(24 * 3600 - 60)
        );
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

    /// The resolver hook refuses a name that resolves to a local address where the connection is made, whatever
    /// the settings' text said; the same client without it connects.
    #[tokio::test]
    async fn a_name_that_resolves_to_a_local_address_is_refused_at_connection_time() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut request = [0; 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let url = format!("http://localhost:{port}/");
        let error = http_client(Hosts::Public)
            .get(&url)
            .send()
            .await
            .unwrap_err();
        let reason = TransportError::of(&error).reason;
        assert!(reason.contains("resolves to a local address"), "{reason}");
        let answer = http_client(Hosts::Local).get(&url).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 204);
    }

    #[tokio::test]
    async fn localhost_resolves_to_a_local_address() {
        let addrs = resolve("localhost").await.unwrap();
        assert!(!addrs.is_empty() && any_local(&addrs), "{addrs:?}");
        assert!(!any_local(&["203.0.113.7:0".parse().unwrap()]));
    }

    #[tokio::test]
    async fn a_refused_connection_says_why() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let error = http_client(Hosts::Local)
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err();
        let transport = TransportError::of(&error);
        assert_eq!(transport.failure, TransportFailure::Refused);
        assert_eq!(transport.summary(), "could not connect");
        assert!(
            transport.reason.to_lowercase().contains("refused"),
            "{}",
            transport.reason
        );
    }
}
