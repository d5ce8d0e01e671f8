//! The Management API client: one HTTP client and token per warm function. A token from
//! `POST <apiUrl>/oauth/connect/token` (form-encoded client credentials) is kept until shortly before its
//! `expires_in` (3600 s by default) runs out; a `401` gets one new token and one retry.

use super::error::PmCloudError;
use super::notification::NotificationBody;
use crate::domain::ids::RequestId;
use crate::domain::redact::Detailed;
use crate::domain::settings::PmCloudSettings;
use crate::outbound::{
    HttpClient, TransportError, answer_text, describe_non_token, is_html, renewal_time,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Instant;
use tokio::sync::Mutex;

const TOKEN_PATH: &str = "/oauth/connect/token";
const NOTIFICATION_PATH: &str = "/management-api/v2/AuthorizationRequest/notification";
const TOKEN_ENDPOINT: &str = "PM Cloud's token endpoint";
const NOTIFICATION_ENDPOINT: &str = "PM Cloud's notification endpoint";

/// `{"access_token", "token_type": "Bearer", "expires_in": 3600, "scope": "urn:management:api"}`.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
}

/// IdentityServer's refusal: `{"error": "invalid_client"}` and the like.
#[derive(Deserialize, Default)]
struct TokenRefusal {
    error: Option<String>,
}

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
    Failed(PmCloudError),
}

impl From<TokenError> for PmCloudError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Refused { status, .. } => PmCloudError::Permanent {
                status,
                detail: error.to_string(),
            },
            TokenError::Unreachable(_) => PmCloudError::transient(error.to_string()),
            TokenError::Failed(error) => error,
        }
    }
}

struct KeptToken {
    /// Whose token it is: settings may change under a warm function.
    owner: String,
    access: SecretString,
    renew_at: Instant,
}

/// What a push did: how many calls it made to the notification endpoint (0 when no token could be had, 2 after
/// a re-authentication), and how it ended.
#[derive(Debug)]
pub struct Push {
    pub calls: u32,
    pub result: Result<(), PmCloudError>,
}

pub struct PmCloudClient {
    http: HttpClient,
    token: Mutex<Option<KeptToken>>,
}

fn owner(settings: &PmCloudSettings) -> String {
    format!("{}\n{}", settings.api_url.as_str(), settings.client_id)
}

impl PmCloudClient {
    /// `http` is built once per execution environment ([`crate::outbound::http_client`]).
    pub fn new(http: HttpClient) -> Self {
        Self {
            http,
            token: Mutex::new(None),
        }
    }

    /// A client-credentials grant outside the kept token: what the settings check proves.
    pub async fn fresh_grant(&self, settings: &PmCloudSettings) -> Result<(), TokenError> {
        self.grant(settings).await.map(drop)
    }

    async fn grant(&self, settings: &PmCloudSettings) -> Result<KeptToken, TokenError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", settings.client_id.as_str()),
            ("client_secret", settings.client_secret.expose_secret()),
        ];
        let failed = |e: &reqwest::Error| TokenError::Unreachable(TransportError::of(e));
        let granted_at = Instant::now();
        let response = self
            .http
            .post(settings.api_url.join(TOKEN_PATH))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| failed(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = answer_text(response).await.map_err(|e| failed(&e))?;
        match status {
            200 => {
                let answer: TokenAnswer = serde_json::from_str(&body).map_err(|_| {
                    TokenError::Failed(PmCloudError::transient(format!(
                        "{TOKEN_ENDPOINT} answered 200 with {}",
                        describe_non_token(&headers, &body)
                    )))
                })?;
                Ok(KeptToken {
                    owner: owner(settings),
                    access: answer.access_token.into(),
                    renew_at: renewal_time(granted_at, answer.expires_in),
                })
            }
            400 | 401 | 403 if !is_html(&headers, &body) => {
                let refusal: TokenRefusal = serde_json::from_str(&body).unwrap_or_default();
                Err(TokenError::Refused {
                    status,
                    error: refusal.error.unwrap_or_default(),
                })
            }
            _ => Err(TokenError::Failed(PmCloudError::from_status(
                TOKEN_ENDPOINT,
                status,
                &headers,
                &body,
            ))),
        }
    }

    /// The kept token, or a new one. Holding the lock through a grant makes concurrent callers share it.
    async fn access_token(&self, settings: &PmCloudSettings) -> Result<SecretString, TokenError> {
        let mut slot = self.token.lock().await;
        if let Some(kept) = slot.as_ref()
            && kept.owner == owner(settings)
            && Instant::now() < kept.renew_at
        {
            return Ok(kept.access.clone());
        }
        let token = self.grant(settings).await?;
        let access = token.access.clone();
        *slot = Some(token);
        Ok(access)
    }

    /// Forgets `rejected` after the API refused it.
    async fn reject(&self, rejected: &SecretString) {
        let mut slot = self.token.lock().await;
        if slot
            .as_ref()
            .is_some_and(|kept| kept.access.expose_secret() == rejected.expose_secret())
        {
            *slot = None;
        }
    }

    /// `POST <apiUrl>/management-api/v2/AuthorizationRequest/notification` with `body` and
    /// `x-correlation-id: <request_id>`: one call, two after a `401` (with a new token), plus a token grant when
    /// the kept one must be renewed.
    pub async fn notify(
        &self,
        settings: &PmCloudSettings,
        request_id: &RequestId,
        body: &NotificationBody,
    ) -> Push {
        let mut calls = 0;
        let mut reauthenticated = false;
        loop {
            let token = match self.access_token(settings).await {
                Ok(token) => token,
                Err(error) => {
                    return Push {
                        calls,
                        result: Err(error.into()),
                    };
                }
            };
            calls += 1;
            let sent = self
                .http
                .post(settings.api_url.join(NOTIFICATION_PATH))
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json")
                .header("x-correlation-id", request_id.as_str())
                .json(body)
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    let error = PmCloudError::from_transport(NOTIFICATION_ENDPOINT, &error);
                    return Push {
                        calls,
                        result: Err(error),
                    };
                }
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = match answer_text(response).await {
                Ok(text) => text,
                Err(error) => {
                    let error = PmCloudError::from_transport(NOTIFICATION_ENDPOINT, &error);
                    return Push {
                        calls,
                        result: Err(error),
                    };
                }
            };
            let result = match status {
                200..=299 => Ok(()),
                401 if !reauthenticated => {
                    reauthenticated = true;
                    self.reject(&token).await;
                    continue;
                }
                _ => Err(
                    PmCloudError::from_status(NOTIFICATION_ENDPOINT, status, &headers, &text)
                        .redacted([&token]),
                ),
            };
            return Push { calls, result };
        }
    }
}
