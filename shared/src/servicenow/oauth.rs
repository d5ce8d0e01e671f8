//! OAuth 2.0 at `POST <instance>/oauth_token.do`, form-encoded (CONTRACT §9). The token is kept across invocations
//! of a warm function until shortly before `expires_in` runs out, then renewed: a password grant's token with its
//! refresh token, and by a new password grant when the refresh is refused (ServiceNow neither rotates refresh tokens
//! nor extends their life); a client-credentials grant's token by a new grant of the same kind.

use super::error::{DIALECT, ServiceNowError};
use crate::domain::record::FailureCode;
use crate::domain::settings::{ServiceNowGrant, ServiceNowSettings};
use crate::outbound::client::HttpClient;
use crate::outbound::failure::Transient;
use crate::outbound::token::{GrantFailure, Renewal, Token, grant};
use secrecy::{ExposeSecret, SecretString};

const TOKEN_ENDPOINT: &str = "/oauth_token.do";

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

/// The grant `settings` configure, outside any kept token: what the settings check proves.
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
    let mut secrets = vec![settings.client_secret.clone()];
    let kind = match (refresh_token, &settings.grant) {
        (Some(refresh), _) => {
            form.push(("grant_type", "refresh_token"));
            form.push(("refresh_token", refresh.expose_secret()));
            secrets.push(refresh.clone());
            GrantKind::RefreshToken
        }
        (None, ServiceNowGrant::Password { username, password }) => {
            form.push(("grant_type", "password"));
            form.push(("username", username.as_str()));
            form.push(("password", password.expose_secret()));
            secrets.push(password.clone());
            GrantKind::Password
        }
        (None, ServiceNowGrant::ClientCredentials) => {
            form.push(("grant_type", "client_credentials"));
            GrantKind::ClientCredentials
        }
    };
    let what = "the OAuth token endpoint";
    let url = settings.instance_url.join(TOKEN_ENDPOINT);
    let mut token = grant(http, url, &form, secrets, what, &DIALECT)
        .await
        .map_err(|failure| match failure {
            GrantFailure::Refused {
                status,
                error,
                description,
            } => GrantError::Refused {
                status,
                error,
                description,
                grant: kind,
            },
            GrantFailure::Unreachable(error) => GrantError::Failed(ServiceNowError::Transient(
                Transient::of_transport(what, &error),
            )),
            GrantFailure::Failed(failure) => GrantError::Failed(failure.into()),
        })?;
    // A client-credentials token is renewed by a new grant (RFC 6749 §4.4.3: no refresh token is due), so one
    // handed out anyway is not kept.
    if kind == GrantKind::ClientCredentials {
        token.refresh = None;
    }
    Ok(token)
}

/// The kept token's credentials: those `settings` name, granted through `http`.
pub(crate) struct Credentials<'a> {
    pub http: &'a HttpClient,
    pub settings: &'a ServiceNowSettings,
}

impl Renewal for Credentials<'_> {
    type Error = ServiceNowError;

    /// The instance, the client and the acting user: settings may rotate under a warm function.
    fn owner(&self) -> String {
        let settings = self.settings;
        format!(
            "{}\n{}\n{}",
            settings.instance_url.as_str(),
            settings.client_id,
            settings.acting_user()
        )
    }

    /// A token with a refresh token is refreshed, and renewed by a new grant of the configured kind when the
    /// refresh is refused (the refresh token is then dropped); any other by a new grant. Refresh tokens are not
    /// rotated: the one kept stays when the answer repeats none.
    async fn renew(&self, kept: Option<&mut Token>) -> Result<Token, ServiceNowError> {
        let (http, settings) = (self.http, self.settings);
        if let Some(kept) = kept
            && let Some(refresh) = kept.refresh.take()
        {
            match request_token(http, settings, Some(&refresh)).await {
                Ok(mut renewed) => {
                    renewed.refresh = renewed.refresh.or(Some(refresh));
                    return Ok(renewed);
                }
                Err(GrantError::Failed(error)) => {
                    kept.refresh = Some(refresh);
                    return Err(error);
                }
                Err(GrantError::Refused { .. }) => {
                    tracing::info!("refresh token refused; falling back to a new grant");
                }
            }
        }
        Ok(request_token(http, settings, None).await?)
    }
}
