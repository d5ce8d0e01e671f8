//! One way of sorting a failed call, whoever the remote: transient (worth trying again later, perhaps after the
//! pause the remote asked for) or permanent (trying again cannot fix it). Each remote only reads its own error
//! bodies and rate limits ([`Dialect`]).

use super::answer::Answer;
use super::transport::TransportError;
use crate::domain::redact::Detailed;
use reqwest::header::HeaderMap;
use std::time::Duration;

/// Worth trying again later: timeouts, connection failures, `429`, `5xx`, an HTML page. `detail` is written for
/// an administrator and never holds a secret or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Transient {
    pub detail: String,
    /// How long the remote asked to wait (a `429`).
    pub retry_after: Option<Duration>,
    /// No answer came after the request may have been sent (a timeout, a connection dropped): the remote may
    /// still carry it out.
    pub unanswered: bool,
}

impl Transient {
    pub fn new(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            retry_after: None,
            unanswered: false,
        }
    }

    /// A transport failure of `what` (for example "the Table API"): `<what> <summary>: <reason>`. The request may
    /// or may not have reached the remote, so it is always transient.
    pub fn of_transport(what: &str, error: &TransportError) -> Self {
        Self {
            detail: format!("{what} {}: {}", error.summary(), error.reason),
            retry_after: None,
            unanswered: error.may_have_been_sent(),
        }
    }
}

impl Detailed for Transient {
    fn detail_mut(&mut self) -> &mut String {
        &mut self.detail
    }
}

/// How long a `429` that named no readable time pauses calls to its remote (CONTRACT §12, §13 v3).
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(60);
/// The longest pause a remote can ask for (CONTRACT §12, §13 v3): a bogus `Retry-After` or `X-RateLimit-Reset`
/// cannot stop the connector for longer.
pub const LONGEST_PAUSE: Duration = Duration::from_secs(60 * 60);

/// A call that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Transient(Transient),
    /// Trying again cannot fix it. `status` is the HTTP status the remote answered.
    #[error("{detail}")]
    Permanent { status: u16, detail: String },
}

/// How a remote words its failures.
pub struct Dialect {
    /// The remote's error body as one line, or what came back instead ([`Answer::describe_unexpected`]).
    pub message: fn(&Answer) -> String,
    /// How long a `429` asks to wait.
    pub rate_limit_wait: fn(&HeaderMap) -> Option<Duration>,
}

impl Failure {
    /// Sorts an answer of `what` (for example "the Table API") by status, with the detail
    /// `<status> from <what>: <message>` quoted without the secrets the request carried ([`Answer::quote`]): an HTML page is transient whatever its status (a hibernating instance, a
    /// login page or a proxy says nothing about the request), as are `429` (with the wait it asks for, else
    /// [`DEFAULT_PAUSE`], at most [`LONGEST_PAUSE`]) and `5xx`; anything else is permanent.
    pub fn of_answer(what: &str, answer: &Answer, dialect: &Dialect) -> Self {
        let status = answer.status;
        let detail = answer.quote(&format!(
            "{status} from {what}: {}",
            (dialect.message)(answer)
        ));
        match status {
            _ if answer.is_html() => Self::Transient(Transient::new(detail)),
            429 => Self::Transient(Transient {
                retry_after: Some(
                    (dialect.rate_limit_wait)(&answer.headers)
                        .unwrap_or(DEFAULT_PAUSE)
                        .min(LONGEST_PAUSE),
                ),
                ..Transient::new(detail)
            }),
            500..=599 => Self::Transient(Transient::new(detail)),
            _ => Self::Permanent { status, detail },
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Self::Transient(transient) => &transient.detail,
            Self::Permanent { detail, .. } => detail,
        }
    }
}

impl From<Transient> for Failure {
    fn from(transient: Transient) -> Self {
        Self::Transient(transient)
    }
}

impl Detailed for Failure {
    fn detail_mut(&mut self) -> &mut String {
        match self {
            Self::Transient(transient) => transient.detail_mut(),
            Self::Permanent { detail, .. } => detail,
        }
    }
}

/// How [`Failure::of_answer`] sorts an answer of `status`, `headers` and `body`: what the remotes' tests stage.
#[cfg(test)]
pub(crate) fn sorted(
    dialect: &Dialect,
    what: &str,
    status: u16,
    headers: &HeaderMap,
    body: &str,
) -> Failure {
    let answer = Answer {
        status,
        headers: headers.clone(),
        text: body.to_owned(),
        sent: Vec::new(),
    };
    Failure::of_answer(what, &answer, dialect)
}
