//! Talking to ServiceNow the way an instance demands: OAuth 2.0 password grant with a kept and refreshed
//! token, the Table API with `Accept: application/json`, and every failure sorted into transient or permanent.

mod client;
mod error;
mod oauth;
mod record;

pub use client::{HttpClient, ServiceNowClient, http_client, http_client_with_timeout};
pub use error::{FailureCode, ServiceNowError};
pub use oauth::{GrantError, TokenCache, password_grant};
pub use record::TaskRecord;
