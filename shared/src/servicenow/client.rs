//! The Table API client: one shared HTTP client and token per warm function, one re-authentication on `401`,
//! and a short wait on `429` when `Retry-After` allows it.

use super::error::ServiceNowError;
use super::oauth::TokenCache;
use super::record::TaskRecord;
use crate::settings::ServiceNowSettings;
use reqwest::header::{ACCEPT, HeaderMap, RETRY_AFTER};
use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use std::time::Duration;

/// Well under every function's timeout, so that a slow instance ends as a transient error, not a killed function.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A `429` whose `Retry-After` is at most this is waited out in place; a longer one is left to the caller's retry.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(5);
const WHAT: &str = "the Table API";

pub type HttpClient = reqwest::Client;

/// The HTTP client every function builds once, in `main`.
pub fn http_client() -> HttpClient {
    http_client_with_timeout(REQUEST_TIMEOUT)
}

/// The same with another total timeout (tests stage slow answers with a short one).
pub fn http_client_with_timeout(timeout: Duration) -> HttpClient {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "pmc-servicenow-connector/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .expect("the TLS stack and the system's CA certificates load")
}

pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

pub struct ServiceNowClient {
    http: reqwest::Client,
    tokens: TokenCache,
}

impl ServiceNowClient {
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            tokens: TokenCache::new(),
        }
    }

    /// Sends a Table API request built by `build` (which gets the URL's base), with the bearer token.
    async fn send(
        &self,
        settings: &ServiceNowSettings,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<(u16, String), ServiceNowError> {
        let mut reauthenticated = false;
        let mut waited = false;
        loop {
            let token = self.tokens.access_token(&self.http, settings).await?;
            let response = build(&self.http)
                .bearer_auth(token.expose_secret())
                .header(ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| ServiceNowError::from_transport(WHAT, &e))?;
            let status = response.status().as_u16();
            let wait = retry_after(response.headers());
            let body = response
                .text()
                .await
                .map_err(|e| ServiceNowError::from_transport(WHAT, &e))?;
            match status {
                401 if !reauthenticated => {
                    reauthenticated = true;
                    self.tokens.reject(&token).await;
                }
                429 if !waited && wait.is_some_and(|w| w <= MAX_INLINE_WAIT) => {
                    waited = true;
                    tokio::time::sleep(wait.unwrap_or_default()).await;
                }
                200..=299 => return Ok((status, body)),
                _ => return Err(ServiceNowError::from_status(WHAT, status, &body, wait)),
            }
        }
    }

    fn table_url(settings: &ServiceNowSettings, table: &str, sys_id: Option<&str>) -> url::Url {
        match sys_id {
            Some(sys_id) => settings
                .instance_url
                .join(&format!("/api/now/table/{table}/{sys_id}")),
            None => settings
                .instance_url
                .join(&format!("/api/now/table/{table}")),
        }
    }

    /// `POST /api/now/table/<table>`: creates a record and returns it as ServiceNow stored it.
    pub async fn create(
        &self,
        settings: &ServiceNowSettings,
        table: &str,
        fields: &Map<String, Value>,
    ) -> Result<TaskRecord, ServiceNowError> {
        let url = Self::table_url(settings, table, None);
        let (_, body) = self
            .send(settings, |http| {
                http.post(url.clone())
                    .query(&[
                        ("sysparm_exclude_reference_link", "true"),
                        ("sysparm_fields", "sys_id,number,correlation_id"),
                    ])
                    .json(fields)
            })
            .await?;
        let record = single_result(&body)?;
        if record.sys_id().is_none() || record.number().is_none() {
            return Err(ServiceNowError::transient(format!(
                "{WHAT} created a record but answered without its sys_id or number"
            )));
        }
        Ok(record)
    }

    /// `GET /api/now/table/<table>/<sys_id>`; `None` when ServiceNow answers 404 (absent, or hidden by an ACL).
    pub async fn get(
        &self,
        settings: &ServiceNowSettings,
        table: &str,
        sys_id: &str,
        fields: &[&str],
    ) -> Result<Option<TaskRecord>, ServiceNowError> {
        let url = Self::table_url(settings, table, Some(sys_id));
        let fields = fields.join(",");
        let result = self
            .send(settings, |http| {
                http.get(url.clone()).query(&[
                    ("sysparm_exclude_reference_link", "true"),
                    ("sysparm_fields", fields.as_str()),
                ])
            })
            .await;
        match result {
            Ok((_, body)) => single_result(&body).map(Some),
            Err(ServiceNowError::Permanent {
                code: super::FailureCode::NotFound,
                ..
            }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The record of `table` whose `correlation_id` is `correlation_id`, if any. Every returned row is checked,
    /// because ServiceNow ignores a query on a field it does not know and then matches every row.
    pub async fn find_by_correlation_id(
        &self,
        settings: &ServiceNowSettings,
        table: &str,
        correlation_id: &str,
    ) -> Result<Option<TaskRecord>, ServiceNowError> {
        let url = Self::table_url(settings, table, None);
        let query = format!("correlation_id={correlation_id}^ORDERBYsys_created_on");
        let (_, body) = self
            .send(settings, |http| {
                http.get(url.clone()).query(&[
                    ("sysparm_query", query.as_str()),
                    ("sysparm_fields", "sys_id,number,correlation_id"),
                    ("sysparm_exclude_reference_link", "true"),
                    ("sysparm_limit", "10"),
                ])
            })
            .await?;
        let rows = match serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|mut v| v.get_mut("result").map(Value::take))
        {
            Some(Value::Array(rows)) => rows,
            _ => return Err(unexpected_body()),
        };
        Ok(rows
            .into_iter()
            .filter_map(|row| match row {
                Value::Object(fields) => Some(TaskRecord(fields)),
                _ => None,
            })
            .find(|record| {
                record.correlation_id() == Some(correlation_id) && record.sys_id().is_some()
            }))
    }
}

fn unexpected_body() -> ServiceNowError {
    ServiceNowError::transient(format!(
        "{WHAT} answered with a body that is not a Table API result"
    ))
}

fn single_result(body: &str) -> Result<TaskRecord, ServiceNowError> {
    match serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|mut v| v.get_mut("result").map(Value::take))
    {
        Some(Value::Object(fields)) => Ok(TaskRecord(fields)),
        _ => Err(unexpected_body()),
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
