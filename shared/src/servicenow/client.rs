//! The one way the connector talks to an instance: a [`ServiceNowClient`] per warm function (its HTTP client and
//! kept token), and a [`Table`] handle scoped to one task table for the Table API calls. Every call carries
//! `Accept: application/json`; a `401` gets one re-authentication, and a `429` whose `Retry-After` is short is
//! waited out in place.

use super::error::{DIALECT, ServiceNowError};
use super::oauth::{Credentials, GrantError, configured_grant};
use super::record::{TaskRecord, state_fields};
use super::task::{CORRELATION_DISPLAY, NewTicket, WorkNoteUpdate};
use super::wire::{Envelope, keyset_query};
use crate::domain::ids::{RequestId, SysId};
use crate::domain::record::FailureCode;
use crate::domain::settings::ServiceNowSettings;
use crate::domain::ticket::TaskType;
use crate::domain::ticket_state::created_by_connector;
use crate::domain::time::Timestamp;
use crate::outbound::answer::{Answer, retry_after};
use crate::outbound::client::HttpClient;
use crate::outbound::failure::{Failure, Transient};
use crate::outbound::token::KeptToken;
use crate::outbound::transport::TransportError;
use reqwest::header::ACCEPT;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A `429` whose `Retry-After` is at most this is waited out in place; a longer one is left to the caller's retry.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(5);
const WHAT: &str = "the Table API";
/// The fields every lookup and create asks for: enough to record the ticket and check its correlation id.
const TICKET_FIELDS: &str = "sys_id,number,correlation_id";
/// What a create answers: the ticket, and when ServiceNow created it (approval deadlines count from then, §15).
const CREATED_FIELDS: &str = "sys_id,number,correlation_id,sys_created_on";
/// What a lookup by `correlation_id` reads: the ticket, and who created it (only the connector's are adopted).
const LOOKUP_FIELDS: &str = "sys_id,number,correlation_id,sys_created_by,sys_created_on";

/// Cheap to clone: clones share the HTTP client and the kept token.
#[derive(Clone)]
pub struct ServiceNowClient {
    http: HttpClient,
    tokens: std::sync::Arc<KeptToken>,
}

impl ServiceNowClient {
    /// `http` is built once per execution environment ([`crate::outbound::client::http_client`]).
    pub fn new(http: HttpClient) -> Self {
        Self {
            http,
            tokens: std::sync::Arc::default(),
        }
    }

    /// The Table API of `task_type`'s table on the instance `settings` name, with the kept token.
    pub fn table<'a>(&'a self, settings: &'a ServiceNowSettings, task_type: TaskType) -> Table<'a> {
        self.table_named(settings, task_type.table())
    }

    /// The Table API of the table `name` (a name of the connector's own, never one from outside).
    pub(super) fn table_named<'a>(
        &'a self,
        settings: &'a ServiceNowSettings,
        name: &'static str,
    ) -> Table<'a> {
        Table {
            client: self,
            settings,
            name,
            token: None,
        }
    }

    /// A grant of the configured kind with `settings`' credentials that bypasses the kept token: what the settings check
    /// proves, without letting a candidate's token near the cache.
    pub async fn fresh_grant(
        &self,
        settings: &ServiceNowSettings,
    ) -> Result<SecretString, GrantError> {
        configured_grant(&self.http, settings).await
    }

    /// `GET /` on the instance: the HTTP status it answers, or how the connection failed.
    pub async fn home_page(&self, settings: &ServiceNowSettings) -> Result<u16, TransportError> {
        self.http
            .get(settings.instance_url.join("/"))
            .send()
            .await
            .map(|response| response.status().as_u16())
            .map_err(|error| TransportError::of(&error))
    }
}

/// The Table API of one task table. Each call is one request to ServiceNow (two when a `401` makes it
/// re-authenticate or a short `429` makes it wait), plus a token grant when the kept token must be renewed.
pub struct Table<'a> {
    client: &'a ServiceNowClient,
    settings: &'a ServiceNowSettings,
    /// The table's name: a task table's, or one of the approval tables (CONTRACT §15).
    name: &'static str,
    /// A token to use as it is, without re-authentication or waiting (the settings check's probe).
    token: Option<&'a SecretString>,
}

impl<'a> Table<'a> {
    /// Uses `token` instead of the kept one, and answers what the instance said the first time (no
    /// re-authentication on `401`, no wait on `429`).
    pub fn with_token(self, token: &'a SecretString) -> Self {
        Self {
            token: Some(token),
            ..self
        }
    }

    pub(super) fn url(&self, sys_id: Option<&SysId>) -> url::Url {
        let table = self.name;
        let path = match sys_id {
            Some(sys_id) => format!("/api/now/table/{table}/{sys_id}"),
            None => format!("/api/now/table/{table}"),
        };
        self.settings.instance_url.join(&path)
    }

    /// Sends a request built by `build`, with the bearer token, and reads the answer's body as `T`. The answer
    /// is quoted in an error without the token it was sent with ([`Answer::quote`]).
    pub(super) async fn send<T: DeserializeOwned>(
        &self,
        build: impl Fn(&HttpClient) -> reqwest::RequestBuilder,
    ) -> Result<T, ServiceNowError> {
        let http = &self.client.http;
        let call = |token: SecretString| {
            let request = build(http)
                .bearer_auth(token.expose_secret())
                .header(ACCEPT, "application/json");
            async move {
                Answer::of(request, vec![token])
                    .await
                    .map_err(|e| ServiceNowError::Transient(Transient::of_transport(WHAT, &e)))
            }
        };
        let answer = match self.token {
            Some(token) => call(token.clone()).await?,
            None => {
                // One short `429` is waited out in place, whatever the re-authentication does.
                let waited = AtomicBool::new(false);
                let (call, waited) = (&call, &waited);
                let waiting = |token: SecretString| async move {
                    let answer = call(token.clone()).await?;
                    match retry_after(&answer.headers) {
                        Some(wait)
                            if answer.status == 429
                                && wait <= MAX_INLINE_WAIT
                                && !waited.swap(true, Ordering::Relaxed) =>
                        {
                            tokio::time::sleep(wait).await;
                            call(token).await
                        }
                        _ => Ok(answer),
                    }
                };
                let credentials = Credentials {
                    http,
                    settings: self.settings,
                };
                self.client.tokens.authorized(&credentials, waiting).await?
            }
        };
        if !answer.is_success() {
            return Err(Failure::of_answer(WHAT, &answer, &DIALECT).into());
        }
        serde_json::from_str::<Envelope<T>>(&answer.text)
            .map(|envelope| envelope.result)
            .map_err(|_| {
                ServiceNowError::transient(format!(
                    "{WHAT} answered {} with {}, not a Table API result",
                    answer.status,
                    answer.describe_unexpected()
                ))
            })
    }

    /// `GET /api/now/table/<table>?sysparm_query=<query>&sysparm_fields=<fields>&sysparm_limit=<limit>`: the rows,
    /// references as plain `sys_id`s. One request.
    pub(super) async fn list<T: DeserializeOwned>(
        &self,
        query: &str,
        fields: &str,
        limit: u32,
    ) -> Result<Vec<T>, ServiceNowError> {
        let url = self.url(None);
        let limit = limit.to_string();
        self.send(|http| {
            http.get(url.clone()).query(&[
                ("sysparm_query", query),
                ("sysparm_fields", fields),
                ("sysparm_exclude_reference_link", "true"),
                ("sysparm_limit", limit.as_str()),
            ])
        })
        .await
    }

    /// `POST /api/now/table/<table>` with `body`, answering the created record's `fields`. One request.
    pub(super) async fn post<T: DeserializeOwned>(
        &self,
        body: &Value,
        fields: &str,
    ) -> Result<T, ServiceNowError> {
        let url = self.url(None);
        self.send(|http| {
            http.post(url.clone())
                .query(&[
                    ("sysparm_exclude_reference_link", "true"),
                    ("sysparm_fields", fields),
                ])
                .json(body)
        })
        .await
    }

    /// `PATCH /api/now/table/<table>/<sys_id>` with `body`, answering the record's `fields`. One request.
    pub(super) async fn patch<T: DeserializeOwned>(
        &self,
        sys_id: &SysId,
        body: &Value,
        fields: &str,
    ) -> Result<T, ServiceNowError> {
        let url = self.url(Some(sys_id));
        self.send(|http| {
            http.patch(url.clone())
                .query(&[("sysparm_fields", fields)])
                .json(body)
        })
        .await
    }

    /// `POST /api/now/table/<table>`: creates `ticket` and returns its `sys_id`, number and correlation id as
    /// ServiceNow stored them.
    pub async fn create(&self, ticket: &NewTicket<'_>) -> Result<TaskRecord, ServiceNowError> {
        let url = self.url(None);
        let fields = ticket.fields();
        let record: TaskRecord = self
            .send(|http| {
                http.post(url.clone())
                    .query(&[
                        ("sysparm_exclude_reference_link", "true"),
                        ("sysparm_fields", CREATED_FIELDS),
                    ])
                    .json(&fields)
            })
            .await?;
        if record.sys_id().is_none() || record.number().is_none() {
            return Err(ServiceNowError::transient(format!(
                "{WHAT} created a record but answered without its sys_id or number"
            )));
        }
        Ok(record)
    }

    /// `PATCH /api/now/table/<table>/<sys_id>` with `note` (CONTRACT §14): one call (two after a `401`, plus a
    /// grant when the token must be renewed). Errors: as for any Table API call; a `403` (no right to write work
    /// notes) and a `404` are permanent, a transient one says whether the call may have reached ServiceNow.
    pub async fn write_note(
        &self,
        sys_id: &SysId,
        note: &WorkNoteUpdate<'_>,
    ) -> Result<(), ServiceNowError> {
        let body = Value::Object(note.fields());
        let _: Value = self.patch(sys_id, &body, "sys_id").await?;
        Ok(())
    }

    /// `GET /api/now/table/<table>/<sys_id>` with `fields`; `None` when ServiceNow answers 404 (absent, or
    /// hidden by an ACL).
    pub async fn get(
        &self,
        sys_id: &SysId,
        fields: &[&str],
    ) -> Result<Option<TaskRecord>, ServiceNowError> {
        let url = self.url(Some(sys_id));
        let fields = fields.join(",");
        let result = self
            .send(|http| {
                http.get(url.clone()).query(&[
                    ("sysparm_exclude_reference_link", "true"),
                    ("sysparm_fields", fields.as_str()),
                ])
            })
            .await;
        match result {
            Ok(record) => Ok(Some(record)),
            Err(ServiceNowError::Permanent {
                code: FailureCode::NotFound,
                ..
            }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The record of `sys_id` with the fields its [`crate::domain::ticket_state::TicketState`] is read from
    /// ([`TaskRecord::state`]); `None` as for [`Self::get`].
    pub async fn get_state(&self, sys_id: &SysId) -> Result<Option<TaskRecord>, ServiceNowError> {
        self.get(sys_id, &state_fields(self.settings)).await
    }

    /// Up to `limit` records whose `correlation_id` is `correlation_id`, oldest first, exactly as ServiceNow
    /// answered (which, for a query on a field it does not know, is every row).
    pub async fn query_correlation_id(
        &self,
        correlation_id: &str,
        limit: u32,
    ) -> Result<Vec<TaskRecord>, ServiceNowError> {
        let url = self.url(None);
        let query = format!("correlation_id={correlation_id}^ORDERBYsys_created_on");
        let limit = limit.to_string();
        let rows: Vec<Value> = self
            .send(|http| {
                http.get(url.clone()).query(&[
                    ("sysparm_query", query.as_str()),
                    ("sysparm_fields", LOOKUP_FIELDS),
                    ("sysparm_exclude_reference_link", "true"),
                    ("sysparm_limit", limit.as_str()),
                ])
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match row {
                Value::Object(fields) => Some(TaskRecord(fields)),
                _ => None,
            })
            .collect())
    }

    /// The settings check's probe (CONTRACT §11), exactly as the contract spells it: `sysparm_query=correlation_id=<id>`,
    /// `sysparm_fields=sys_id,number,correlation_id`, `sysparm_limit=1`. Ok when ServiceNow answered a `result`
    /// list. One request.
    pub async fn probe_correlation_id(&self, correlation_id: &str) -> Result<(), ServiceNowError> {
        let url = self.url(None);
        let query = format!("correlation_id={correlation_id}");
        let _: Vec<Value> = self
            .send(|http| {
                http.get(url.clone()).query(&[
                    ("sysparm_query", query.as_str()),
                    ("sysparm_fields", TICKET_FIELDS),
                    ("sysparm_limit", "1"),
                ])
            })
            .await?;
        Ok(())
    }

    /// Up to `limit` of this table's tickets the connector opened (`correlation_display=PM Cloud`) updated at or
    /// after `since` (UTC), in keyset order (`sys_updated_on`, then `sys_id`), starting after `after` (the last
    /// ticket a page before ended on) when given; with the fields their
    /// [`crate::domain::ticket_state::TicketState`] is read from. One request. Keyset paging (CONTRACT §13 v3)
    /// never skips a ticket updated while the pages are read: an update moves it to the end, not past an offset.
    /// `^NQ` ("new query") joins the two halves of the keyset condition, ServiceNow's OR of whole queries.
    pub async fn updated_since(
        &self,
        since: Timestamp,
        after: Option<(Timestamp, &SysId)>,
        limit: u32,
    ) -> Result<Vec<TaskRecord>, ServiceNowError> {
        let ours = format!("correlation_display={CORRELATION_DISPLAY}");
        let query = keyset_query(&ours, since, after);
        let fields = state_fields(self.settings).join(",");
        let rows: Vec<TaskRecord> = self.list(&query, &fields, limit).await?;
        Ok(rows)
    }

    /// The oldest record whose `correlation_id` is `correlation_id` and that the connector's own user created
    /// (CONTRACT §10 v3: another's is never adopted), if any. Every returned row is checked, because ServiceNow
    /// ignores a query on a field it does not know and then matches every row. One request.
    pub async fn find_by_correlation_id(
        &self,
        correlation_id: &RequestId,
    ) -> Result<Option<TaskRecord>, ServiceNowError> {
        let connector_user = self.settings.connector_user();
        Ok(self
            .query_correlation_id(correlation_id, 10)
            .await?
            .into_iter()
            .find(|record| {
                record.correlation_id().as_ref() == Some(correlation_id)
                    && record.sys_id().is_some()
                    && created_by_connector(record.text("sys_created_by"), connector_user)
            }))
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
