//! The Management API client: one HTTP client and token per warm function. A token from
//! `POST <apiUrl>/oauth/connect/token` (form-encoded client credentials) is kept until shortly before its
//! `expires_in` (3600 s by default) runs out; a `401` gets one new token and one retry.

use super::error::DIALECT;
use super::notification::NotificationBody;
use crate::domain::ids::{PmcRequestId, RequestId};
use crate::domain::redact::Detailed;
use crate::domain::request::RequestType;
use crate::domain::settings::PmCloudSettings;
use crate::outbound::answer::Answer;
use crate::outbound::client::HttpClient;
use crate::outbound::failure::{Failure, Transient};
use crate::outbound::token::{GrantFailure, KeptToken, Renewal, Token, grant};
use crate::outbound::transport::TransportError;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};

const TOKEN_PATH: &str = "/oauth/connect/token";
/// Authorization requests: `GET` lists them (paged), `GET …/{id}` reads one (BeyondTrust's Management API
/// reference lists both operations; the shape of an item is partly inferred, see [`super::authorization_request`]).
const AUTHORIZATION_REQUEST_PATH: &str = "/management-api/v2/AuthorizationRequest";
const NOTIFICATION_PATH: &str = "/management-api/v2/AuthorizationRequest/notification";
const AUTHORIZATION_REQUEST_ENDPOINT: &str = "PM Cloud's AuthorizationRequest endpoint";
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

/// Cheap to clone: clones share the HTTP client and the kept token (one grant per token lifetime).
#[derive(Clone)]
pub struct PmCloudClient {
    http: HttpClient,
    token: std::sync::Arc<KeptToken>,
}

impl PmCloudClient {
    /// `http` is built once per execution environment ([`crate::outbound::client::http_client`]).
    pub fn new(http: HttpClient) -> Self {
        Self {
            http,
            token: std::sync::Arc::default(),
        }
    }

    /// What Validate Settings proves (CONTRACT §11 v3): a client-credentials grant outside the kept token, then,
    /// with that token, one page of one authorization request (`GET …/AuthorizationRequest?
    /// Pagination.PageNumber=1&Pagination.PageSize=1`): one grant and one read. Answers the page.
    /// Errors: the grant's ([`AccessError::Grant`]), or the read's ([`AccessError::List`]; a `404` is permanent).
    pub async fn check_access(&self, settings: &PmCloudSettings) -> Result<Value, AccessError> {
        let token = self.grant(settings).await.map_err(AccessError::Grant)?;
        let query = page_query(1, 1);
        let answer = self
            .read(settings, AUTHORIZATION_REQUEST_PATH, &query, &token.access)
            .await
            .map_err(AccessError::List)?;
        json_of(answer, &token.access)
            .map_err(AccessError::List)?
            .ok_or_else(|| AccessError::List(list_missing()))
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

impl PmCloudClient {
    /// `GET <apiUrl>/management-api/v2/AuthorizationRequest/{id}`: PM Cloud's record of the request, or `None`
    /// when it answers `404`. One call (two after a `401`), plus a token grant when the kept one must be renewed.
    /// Errors: the failure as the kit sorts it; a `200` that is not JSON is transient.
    pub async fn authorization_request(
        &self,
        settings: &PmCloudSettings,
        id: &PmcRequestId,
    ) -> Result<Option<Value>, Failure> {
        let path = format!("{AUTHORIZATION_REQUEST_PATH}/{id}");
        self.get_json(settings, &path, &[]).await
    }

    /// Page `page` (from 1) of PM Cloud's authorization requests, newest first (CONTRACT §13): `GET <apiUrl>/
    /// management-api/v2/AuthorizationRequest?Pagination.PageNumber=<page>&Pagination.PageSize=200&Sorts[0].by=
    /// created&Sorts[0].order=desc`, answered `{"data": [...], "pageCount", "totalRecordCount"}`. Answers the
    /// items (an answer without a `data` array has none). One call (two after a `401`), plus a token grant when
    /// the kept one must be renewed. Errors: as [`Self::authorization_request`]; a `404` is permanent.
    pub async fn authorization_requests_page(
        &self,
        settings: &PmCloudSettings,
        page: u32,
    ) -> Result<Vec<Value>, Failure> {
        let [number, size] = page_query(page, SWEEP_PAGE_SIZE);
        let query = [
            number,
            size,
            ("Sorts[0].by", "created".to_owned()),
            ("Sorts[0].order", "desc".to_owned()),
        ];
        let answer = self
            .get_json(settings, AUTHORIZATION_REQUEST_PATH, &query)
            .await?
            .ok_or_else(list_missing)?;
        Ok(match answer {
            Value::Object(mut envelope) => match envelope.remove("data") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        })
    }

    /// `GET <apiUrl><path>?<query>` with the kept token: the JSON of a `2xx`, `None` for a `404`.
    async fn get_json(
        &self,
        settings: &PmCloudSettings,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<Value>, Failure> {
        let credentials = Credentials {
            client: self,
            settings,
        };
        let call =
            |token: SecretString| async move { self.read(settings, path, query, &token).await };
        let (answer, token) = self.token.authorized(&credentials, call).await?;
        json_of(answer, &token)
    }

    /// One `GET <apiUrl><path>?<query>` with `token`.
    async fn read(
        &self,
        settings: &PmCloudSettings,
        path: &str,
        query: &[(&str, String)],
        token: &SecretString,
    ) -> Result<Answer, Failure> {
        let request = self
            .http
            .get(settings.api_url.join(path))
            .query(query)
            .bearer_auth(token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        Answer::of(request)
            .await
            .map_err(|e| Failure::from(Transient::of_transport(AUTHORIZATION_REQUEST_ENDPOINT, &e)))
    }
}

/// Why [`PmCloudClient::check_access`] failed.
#[derive(Debug)]
pub enum AccessError {
    /// No token: the grant failed.
    Grant(TokenError),
    /// A token, but no list of authorization requests with it.
    List(Failure),
}

/// The largest page PM Cloud's list answers (`Pagination.PageSize` ≤ 200, DESIGN.md), so the sweep's fewest calls.
pub const SWEEP_PAGE_SIZE: u32 = 200;

/// `Pagination.PageNumber` (from 1) and `Pagination.PageSize`.
fn page_query(page: u32, size: u32) -> [(&'static str, String); 2] {
    [
        ("Pagination.PageNumber", page.to_string()),
        ("Pagination.PageSize", size.to_string()),
    ]
}

fn list_missing() -> Failure {
    Failure::Permanent {
        status: 404,
        detail: format!("404 from {AUTHORIZATION_REQUEST_ENDPOINT}: the list is not there"),
    }
}

/// The JSON of a `2xx` answer sent with `token`, `None` for a `404`; any other answer sorted by the kit, quoted
/// without the token.
fn json_of(answer: Answer, token: &SecretString) -> Result<Option<Value>, Failure> {
    if answer.status == 404 && !answer.is_html() {
        return Ok(None);
    }
    if !answer.is_success() || answer.is_html() {
        let failure = Failure::of_answer(AUTHORIZATION_REQUEST_ENDPOINT, &answer, &DIALECT);
        return Err(failure.redacted([token]));
    }
    serde_json::from_str(&answer.text).map(Some).map_err(|_| {
        Failure::from(Transient::new(format!(
            "{} from {AUTHORIZATION_REQUEST_ENDPOINT}: {} instead of JSON",
            answer.status,
            answer.describe_unexpected()
        )))
    })
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
