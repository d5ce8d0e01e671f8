//! The Management API client: one HTTP client and token per warm function. A token from
//! `POST <apiUrl>/oauth/connect/token` (form-encoded client credentials) is kept until shortly before its
//! `expires_in` (3600 s by default) runs out; a `401` gets one new token and one retry.

use super::error::DIALECT;
use super::notification::NotificationBody;
use crate::domain::ids::RequestId;
use crate::domain::redact::Detailed;
use crate::domain::request::RequestType;
use crate::domain::settings::PmCloudSettings;
use crate::outbound::answer::Answer;
use crate::outbound::client::HttpClient;
use crate::outbound::failure::{Failure, Transient};
use crate::outbound::token::{GrantFailure, KeptToken, Renewal, Token, grant};
use crate::outbound::transport::TransportError;
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicU32, Ordering};

const TOKEN_PATH: &str = "/oauth/connect/token";
const NOTIFICATION_PATH: &str = "/management-api/v2/AuthorizationRequest/notification";
const TOKEN_ENDPOINT: &str = "PM Cloud's token endpoint";
const NOTIFICATION_ENDPOINT: &str = "PM Cloud's notification endpoint";
const ADMIN_DECISION_ENDPOINT: &str = "PM Cloud's admin decision endpoint (adminDecisionPath)";

/// Why a grant gave no token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// PM Cloud answered and said no; `error` is its OAuth error (`invalid_client` for a wrong client ID or
    /// secret).
    #[error("PM Cloud refused the API account's client ID or secret ({status} {error})")]
    Refused { status: u16, error: String },
    /// No answer: the token endpoint could not be reached.
    #[error("{TOKEN_ENDPOINT} {}: {}", .0.summary(), .0.reason)]
    Unreachable(TransportError),
    /// No usable answer: `429`, `5xx`, or an answer that is not a token.
    #[error(transparent)]
    Failed(Failure),
}

impl From<TokenError> for Failure {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Refused { status, .. } => Failure::Permanent {
                status,
                detail: error.to_string(),
            },
            TokenError::Unreachable(_) => Transient::new(error.to_string()).into(),
            TokenError::Failed(error) => error,
        }
    }
}

/// What a push did: how many calls it made to the notification endpoint (0 when no token could be had, 2 after
/// a re-authentication), and how it ended.
#[derive(Debug)]
pub struct Push {
    pub calls: u32,
    pub result: Result<(), Failure>,
}

pub struct PmCloudClient {
    http: HttpClient,
    token: KeptToken,
}

impl PmCloudClient {
    /// `http` is built once per execution environment ([`crate::outbound::client::http_client`]).
    pub fn new(http: HttpClient) -> Self {
        Self {
            http,
            token: KeptToken::default(),
        }
    }

    /// A client-credentials grant outside the kept token: what the settings check proves.
    pub async fn fresh_grant(&self, settings: &PmCloudSettings) -> Result<(), TokenError> {
        self.grant(settings).await.map(drop)
    }

    async fn grant(&self, settings: &PmCloudSettings) -> Result<Token, TokenError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", settings.client_id.as_str()),
            ("client_secret", settings.client_secret.expose_secret()),
        ];
        let url = settings.api_url.join(TOKEN_PATH);
        grant(&self.http, url, &form, TOKEN_ENDPOINT, &DIALECT)
            .await
            .map_err(|failure| match failure {
                GrantFailure::Refused { status, error, .. } => {
                    TokenError::Refused { status, error }
                }
                GrantFailure::Unreachable(error) => TokenError::Unreachable(error),
                GrantFailure::Failed(failure) => TokenError::Failed(failure),
            })
    }

    /// `POST <apiUrl>/management-api/v2/AuthorizationRequest/notification` (for an admin request,
    /// `<apiUrl><adminDecisionPath>` when set: CONTRACT §12 v3) with `body` and `x-correlation-id: <request_id>`:
    /// one call, two after a `401` (with a new token), plus a token grant when the kept one must be renewed. The
    /// answer is quoted in an error without the token it was sent with.
    pub async fn notify(
        &self,
        settings: &PmCloudSettings,
        request_id: &RequestId,
        request_type: RequestType,
        body: &NotificationBody,
    ) -> Push {
        let (path, endpoint) = match (request_type, &settings.admin_decision_path) {
            (RequestType::Admin, Some(path)) => (path.as_str(), ADMIN_DECISION_ENDPOINT),
            _ => (NOTIFICATION_PATH, NOTIFICATION_ENDPOINT),
        };
        let calls = AtomicU32::new(0);
        let call = |token: SecretString| {
            calls.fetch_add(1, Ordering::Relaxed);
            let request = self
                .http
                .post(settings.api_url.join(path))
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json")
                .header("x-correlation-id", request_id.as_str())
                .json(body);
            async move {
                Answer::of(request)
                    .await
                    .map_err(|e| Failure::from(Transient::of_transport(endpoint, &e)))
            }
        };
        let credentials = Credentials {
            client: self,
            settings,
        };
        let result = match self.token.authorized(&credentials, call).await {
            Ok((answer, _)) if answer.is_success() => Ok(()),
            Ok((answer, token)) => {
                Err(Failure::of_answer(endpoint, &answer, &DIALECT).redacted([&token]))
            }
            Err(error) => Err(error),
        };
        Push {
            calls: calls.into_inner(),
            result,
        }
    }
}

/// The kept token's credentials: the API account `settings` name.
struct Credentials<'a> {
    client: &'a PmCloudClient,
    settings: &'a PmCloudSettings,
}

impl Renewal for Credentials<'_> {
    type Error = Failure;

    fn owner(&self) -> String {
        format!(
            "{}\n{}",
            self.settings.api_url.as_str(),
            self.settings.client_id
        )
    }

    /// A client-credentials token is renewed by a new grant.
    async fn renew(&self, _: Option<&mut Token>) -> Result<Token, Failure> {
        Ok(self.client.grant(self.settings).await?)
    }
}
