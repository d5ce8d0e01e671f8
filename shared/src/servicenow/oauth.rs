//! OAuth 2.0 at `POST <instance>/oauth_token.do`, form-encoded (CONTRACT §9). The token is kept across invocations
//! of a warm function until shortly before `expires_in` runs out, then renewed: a password grant's token with its
//! refresh token, and by a new password grant when the refresh is refused (ServiceNow neither rotates refresh tokens
//! nor extends their life); a client-credentials grant's token by a new grant of the same kind.

use super::error::ServiceNowError;
use super::wire::{OAuthErrorAnswer, TokenAnswer};
use crate::domain::record::FailureCode;
use crate::domain::settings::{ServiceNowGrant, ServiceNowSettings};
use crate::outbound::{HttpClient, answer_text, describe_non_token, is_html, renewal_time};
use secrecy::{ExposeSecret, SecretString};
use std::time::Instant;
use tokio::sync::Mutex;

const TOKEN_ENDPOINT: &str = "/oauth_token.do";

struct Token {
    access: SecretString,
    refresh: Option<SecretString>,
    renew_at: Instant,
}

/// Why a grant did not produce a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// ServiceNow answered and said no. `error` and `description` are its OAuth error fields; `grant` is what was
    /// asked for.
    #[error("ServiceNow refused the OAuth grant ({status}: {error} {description})")]
    Refused {
        status: u16,
        error: String,
        description: String,
        grant: GrantKind,
    },
    /// No usable answer: transport failure, `429`, `5xx` or an answer that is not a token.
    #[error(transparent)]
    Failed(ServiceNowError),
}

impl From<GrantError> for ServiceNowError {
    fn from(error: GrantError) -> Self {
        match error {
            GrantError::Refused { status, grant, .. } => ServiceNowError::permanent(
                FailureCode::AuthFailed,
                status,
                format!(
                    "{status} from the OAuth token endpoint: ServiceNow refused {}",
                    grant.refused_credentials()
                ),
            ),
            GrantError::Failed(error) => error,
        }
    }
}

/// Which grant a token request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    Password,
    ClientCredentials,
    RefreshToken,
}

impl GrantKind {
    /// The credentials a refusal of this grant points at, for messages.
    pub fn refused_credentials(self) -> &'static str {
        match self {
            Self::Password => "the client ID / client secret or the user name / password",
            Self::ClientCredentials => {
                "the client ID / client secret, or the OAuth application does not allow the client-credentials grant"
            }
            Self::RefreshToken => "the refresh token",
        }
    }
}

/// The grant `settings` configure, outside any cache: what the settings check proves.
pub(crate) async fn configured_grant(
    http: &HttpClient,
    settings: &ServiceNowSettings,
) -> Result<SecretString, GrantError> {
    request_token(http, settings, None).await.map(|t| t.access)
}

/// One token request: a refresh when `refresh_token` is given, otherwise the configured grant.
async fn request_token(
    http: &HttpClient,
    settings: &ServiceNowSettings,
    refresh_token: Option<&SecretString>,
) -> Result<Token, GrantError> {
    let mut form = vec![
        ("client_id", settings.client_id.as_str()),
        ("client_secret", settings.client_secret.expose_secret()),
    ];
    let kind = match (refresh_token, &settings.grant) {
        (Some(refresh), _) => {
            form.push(("grant_type", "refresh_token"));
            form.push(("refresh_token", refresh.expose_secret()));
            GrantKind::RefreshToken
        }
        (None, ServiceNowGrant::Password { username, password }) => {
            form.push(("grant_type", "password"));
            form.push(("username", username.as_str()));
            form.push(("password", password.expose_secret()));
            GrantKind::Password
        }
        (None, ServiceNowGrant::ClientCredentials) => {
            form.push(("grant_type", "client_credentials"));
            GrantKind::ClientCredentials
        }
    };
    let what = "the OAuth token endpoint";
    let started = Instant::now();
    let response = http
        .post(settings.instance_url.join(TOKEN_ENDPOINT))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| GrantError::Failed(ServiceNowError::from_transport(what, &e)))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = answer_text(response)
        .await
        .map_err(|e| GrantError::Failed(ServiceNowError::from_transport(what, &e)))?;
    if status == 200 {
        let answer: TokenAnswer = serde_json::from_str(&body).map_err(|_| {
            GrantError::Failed(ServiceNowError::transient(format!(
                "{what} answered 200 with {}",
                describe_non_token(&headers, &body)
            )))
        })?;
        // A client-credentials token is renewed by a new grant (RFC 6749 §4.4.3: no refresh token is due), so
        // one handed out anyway is not kept.
        let refresh = match kind {
            GrantKind::ClientCredentials => None,
            _ => answer.refresh_token.map(SecretString::from),
        };
        return Ok(Token {
            access: answer.access_token.into(),
            refresh,
            renew_at: renewal_time(started, answer.expires_in),
        });
    }
    // A hibernating instance or a proxy answers these with an HTML page: not a verdict on the credentials.
    if matches!(status, 400 | 401 | 403) && !is_html(&headers, &body) {
        let answer: OAuthErrorAnswer = serde_json::from_str(&body).unwrap_or_default();
        return Err(GrantError::Refused {
            status,
            error: answer.error.unwrap_or_default(),
            description: answer.error_description.unwrap_or_default(),
            grant: kind,
        });
    }
    Err(GrantError::Failed(ServiceNowError::from_status(
        what, status, &headers, &body,
    )))
}

/// The token of one warm function, shared by all its invocations.
#[derive(Default)]
pub(crate) struct TokenCache {
    slot: Mutex<Option<(String, Token)>>,
}

/// Which credentials a token belongs to: settings may rotate under a warm function.
fn identity(settings: &ServiceNowSettings) -> String {
    format!(
        "{}\n{}\n{}",
        settings.instance_url.as_str(),
        settings.client_id,
        settings.acting_user()
    )
}

impl TokenCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// A live access token: the kept one, a refreshed one, or one from a new grant of the configured kind.
    pub async fn access_token(
        &self,
        http: &HttpClient,
        settings: &ServiceNowSettings,
    ) -> Result<SecretString, ServiceNowError> {
        // Holding the lock through a grant makes concurrent callers share one grant.
        let mut slot = self.slot.lock().await;
        let identity = identity(settings);
        let kept = slot
            .take()
            .filter(|(owner, _)| *owner == identity)
            .map(|(_, token)| token);
        if let Some(token) = kept {
            if Instant::now() < token.renew_at {
                let access = token.access.clone();
                *slot = Some((identity, token));
                return Ok(access);
            }
            if let Some(refresh) = &token.refresh {
                match request_token(http, settings, Some(refresh)).await {
                    Ok(mut renewed) => {
                        // Refresh tokens are not rotated: keep the one we have when the answer repeats none.
                        renewed.refresh = renewed.refresh.or_else(|| token.refresh.clone());
                        let access = renewed.access.clone();
                        *slot = Some((identity, renewed));
                        return Ok(access);
                    }
                    Err(GrantError::Failed(error)) => {
                        *slot = Some((identity, token));
                        return Err(error);
                    }
                    Err(GrantError::Refused { .. }) => {
                        tracing::info!("refresh token refused; falling back to a new grant");
                    }
                }
            }
        }
        let token = request_token(http, settings, None).await?;
        let access = token.access.clone();
        *slot = Some((identity, token));
        Ok(access)
    }

    /// Forgets `rejected` after the Table API refused it, keeping the refresh token for the renewal.
    pub async fn reject(&self, rejected: &SecretString) {
        let mut slot = self.slot.lock().await;
        if let Some((_, token)) = slot.as_mut()
            && token.access.expose_secret() == rejected.expose_secret()
        {
            token.renew_at = Instant::now();
        }
    }
}
