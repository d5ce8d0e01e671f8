//! ServiceNow's wire shapes, as serde types: the Table API's `{"result": …}` envelope and its error body, and
//! the OAuth token endpoint's answers (ServiceNow's REST API reference, "Table API" and "OAuth").

use serde::Deserialize;

/// `{"result": …}`: every Table API answer wraps its record (or list of records) in this.
#[derive(Deserialize)]
pub(crate) struct Envelope<T> {
    pub result: T,
}

/// `{"error": {"message", "detail"}, "status": "failure"}`.
#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// A grant's answer: `access_token`, `refresh_token` (password grant only), `expires_in` in seconds.
#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<u64>,
}

/// A refused grant: `{"error_description": "access_denied", "error": "server_error"}` for a bad client, user
/// or password alike.
#[derive(Deserialize, Default)]
pub(crate) struct OAuthErrorAnswer {
    pub error: Option<String>,
    pub error_description: Option<String>,
}
