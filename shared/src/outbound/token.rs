//! OAuth 2.0 tokens as both remotes hand them out (RFC 6749): one grant request, form-encoded, sorted into a
//! token, a refusal or a failure; and the token a warm function keeps across invocations, renewed shortly before
//! it runs out and once more when the remote answers `401`. Each remote supplies only its grant form, its error
//! bodies ([`Dialect`]) and its renewal rule.

use super::answer::Answer;
use super::client::HttpClient;
use super::failure::{Dialect, Failure, Transient};
use super::transport::TransportError;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A grant's answer (RFC 6749 §5.1): `access_token`, `refresh_token` (when the grant hands one out), `expires_in`
/// in seconds.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
}

/// A refused grant (RFC 6749 §5.2): `{"error", "error_description"}`, both optional here.
#[derive(Deserialize, Default)]
struct Refusal {
    error: Option<String>,
    error_description: Option<String>,
}

/// A granted token: the access token, the refresh token when the grant handed one out, and when to renew it.
pub struct Token {
    pub access: SecretString,
    pub refresh: Option<SecretString>,
    pub renew_at: Instant,
}

/// Why a grant gave no token.
#[derive(Debug)]
pub enum GrantFailure {
    /// The endpoint answered `400`, `401` or `403` with something other than an HTML page: a verdict on the
    /// credentials. `error` and `description` are its OAuth error fields (empty when absent), quoted without the
    /// grant's secrets.
    Refused {
        status: u16,
        error: String,
        description: String,
    },
    /// No answer: the endpoint could not be reached, or the connection failed.
    Unreachable(TransportError),
    /// No usable answer: `429`, `5xx`, an HTML page, or a `200` that is not a token.
    Failed(Failure),
}

/// `POST <url>` with `form`, form-encoded, asking for a token; `secrets` are the secrets among the form's values
/// (a client secret, a password, a refresh token), which no refusal or failure quotes. `what` names the endpoint in
/// details (`<what> answered 200 with …`, and as [`Failure::of_answer`] words it).
pub async fn grant(
    http: &HttpClient,
    url: url::Url,
    form: &[(&str, &str)],
    secrets: Vec<SecretString>,
    what: &str,
    dialect: &Dialect,
) -> Result<Token, GrantFailure> {
    let granted_at = Instant::now();
    let request = http
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form);
    let answer = Answer::of(request, secrets)
        .await
        .map_err(GrantFailure::Unreachable)?;
    match answer.status {
        200 => {
            let token: TokenAnswer = serde_json::from_str(&answer.text).map_err(|_| {
                GrantFailure::Failed(Failure::Transient(Transient::new(format!(
                    "{what} answered 200 with {}",
                    answer.describe_non_token()
                ))))
            })?;
            Ok(Token {
                access: token.access_token.into(),
                refresh: token.refresh_token.map(SecretString::from),
                renew_at: renewal_time(granted_at, token.expires_in),
            })
        }
        // A hibernating instance or a proxy answers these with an HTML page: not a verdict on the credentials.
        400 | 401 | 403 if !answer.is_html() => {
            let refusal: Refusal = serde_json::from_str(&answer.text).unwrap_or_default();
            Err(GrantFailure::Refused {
                status: answer.status,
                error: answer.quote(&refusal.error.unwrap_or_default()),
                description: answer.quote(&refusal.error_description.unwrap_or_default()),
            })
        }
        _ => Err(GrantFailure::Failed(Failure::of_answer(
            what, &answer, dialect,
        ))),
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

/// What a remote supplies to keep a token: whose credentials it is for, and its renewal rule.
pub trait Renewal {
    type Error;

    /// Which credentials a token belongs to (settings may change under a warm function): a token kept for
    /// another owner is dropped.
    fn owner(&self) -> String;

    /// A new token, from `kept` (the one that is due, when there is one for this owner) or from a new grant.
    /// `kept` stays, as this leaves it, when renewal fails.
    fn renew(
        &self,
        kept: Option<&mut Token>,
    ) -> impl Future<Output = Result<Token, Self::Error>> + Send;
}

/// The token of one warm function, shared by all its invocations.
#[derive(Default)]
pub struct KeptToken {
    slot: Mutex<Option<(String, Token)>>,
}

impl KeptToken {
    /// A live access token: the kept one until its renewal time, otherwise a renewed one ([`Renewal::renew`]).
    /// Holding the lock through a grant makes concurrent callers share one grant. Errors: the renewal's.
    async fn access<R: Renewal>(&self, renewal: &R) -> Result<SecretString, R::Error> {
        let owner = renewal.owner();
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|(kept, _)| *kept != owner) {
            *slot = None;
        }
        if let Some((_, token)) = slot.as_ref()
            && Instant::now() < token.renew_at
        {
            return Ok(token.access.clone());
        }
        let token = renewal.renew(slot.as_mut().map(|(_, token)| token)).await?;
        let access = token.access.clone();
        *slot = Some((owner, token));
        Ok(access)
    }

    /// Makes `rejected` due for renewal after the remote refused it, keeping its refresh token.
    async fn reject(&self, rejected: &SecretString) {
        let mut slot = self.slot.lock().await;
        if let Some((_, token)) = slot.as_mut()
            && token.access.expose_secret() == rejected.expose_secret()
        {
            token.renew_at = Instant::now();
        }
    }

    /// `call` with a live token ([`Self::access`]); when the remote answers `401` (the token was revoked or ended
    /// early), once more with a renewed one. Returns the last answer (which quotes nothing of the token it was sent
    /// with, [`Answer::quote`]). Errors: the renewal's and `call`'s.
    pub async fn authorized<R, F, Fut>(&self, renewal: &R, mut call: F) -> Result<Answer, R::Error>
    where
        R: Renewal,
        F: FnMut(SecretString) -> Fut,
        Fut: Future<Output = Result<Answer, R::Error>>,
    {
        let mut reauthenticated = false;
        loop {
            let token = self.access(renewal).await?;
            let answer = call(token.clone()).await?;
            if answer.status == 401 && !reauthenticated {
                reauthenticated = true;
                self.reject(&token).await;
                continue;
            }
            return Ok(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
