//! The DynamoDB adapter. One table, items under the partition key `pk`: `request#<id>` holds a request, whose id
//! is derived from its `pmcRequestId` with the table's secret key (so that one conditional put creates it once,
//! and one read finds it by either id), and `state#<name>` holds what the functions share (the request id key,
//! ServiceNow's pause, the reconciler's watermark, since when the settings are invalid). Requests stored before
//! ids were derived have random ids and a `pmcRequestId#<id>` item pointing to them; they stay readable by both
//! ids, and for a while after the key was made (the legacy window, [`DEFAULT_LEGACY_WINDOW_HOURS`] unless set) a
//! create first checks that no such item exists. The key is made once, while the table holds no request derived
//! with one: should it vanish later, the store refuses to make ids rather than make a new key.
//!
//! A request waiting in a backlog carries `backlog` and `backlogSince`, the keys of the sparse index `backlog`:
//! the reconciler queries it, oldest first, instead of scanning the table. Other items carry neither, so the index
//! holds only what waits.

use super::{
    Backlogs, CreateOutcome, Remote, ReplaceOutcome, RequestStore, SharedState, StoreError,
};
use crate::domain::backlog::Backlog;
use crate::domain::ids::{PmcRequestId, RequestId, RequestIdKey};
use crate::domain::record::RequestRecord;
use crate::domain::time::{Timestamp, format_rfc3339, rfc3339};
use crate::outbound::client::{BuiltOnFirstUse, built};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// How long a request is kept after it was created; DynamoDB's TTL deletes it afterwards.
const RETENTION_DAYS: i64 = 180;

const REQUEST_KIND: &str = "request";
const STATE_KIND: &str = "state";
/// The sparse index of waiting requests (declared in template.yaml): partition `backlog`, sort `backlogSince`.
pub const BACKLOG_INDEX: &str = "backlog";
/// The item that holds `remote`'s pause.
fn pause_key(remote: Remote) -> &'static str {
    match remote {
        Remote::ServiceNow => "state#servicenow-pause",
        Remote::PmCloud => "state#pmcloud-pause",
    }
}
const WATERMARK_KEY: &str = "state#reconciler-watermark";
const SETTINGS_INVALID_KEY: &str = "state#settings-invalid";
const REQUEST_ID_KEY: &str = "state#request-id-key";
/// How many items the check before making a request id key reads ([`DynamoStore::make_key`]): far more than the
/// `state#` items, so that a table in use shows a request.
const KEY_CHECK_SAMPLE: i32 = 100;
/// The metric (count) a function emits when it finds the request id key missing from a table that holds requests
/// derived with it, and refuses to make ids; the template alarms on it.
pub const REQUEST_ID_KEY_MISSING_METRIC: &str = "RequestIdKeyMissing";
/// How long, by default, after the table got its request id key a create first checks for a request stored by a
/// version that gave random ids (PM Cloud retries a submission within hours, so a retry that straddles the upgrade
/// still finds its request). Hours; `LEGACY_ID_WINDOW_HOURS` sets another.
pub const DEFAULT_LEGACY_WINDOW_HOURS: u32 = 24;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestItem {
    pk: String,
    kind: String,
    /// Unix seconds after which DynamoDB's TTL may delete the item.
    expires_at_epoch: i64,
    /// The backlog the request waits in; absent (not null: an index key must be a string) when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backlog: Option<String>,
    /// RFC 3339 UTC, which sorts as time does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backlog_since: Option<String>,
    #[serde(flatten)]
    record: RequestRecord,
}

/// One of the shared `state#…` items: a point in time.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateItem {
    pk: String,
    kind: String,
    #[serde(with = "rfc3339")]
    at: Timestamp,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AliasItem {
    pk: String,
    kind: String,
    expires_at_epoch: i64,
    request_id: RequestId,
}

fn request_key(id: &RequestId) -> String {
    format!("request#{id}")
}

fn alias_key(pmc_request_id: &PmcRequestId) -> String {
    format!("pmcRequestId#{pmc_request_id}")
}

fn unavailable(error: impl std::error::Error) -> StoreError {
    StoreError::Unavailable(DisplayErrorContext(error).to_string())
}

fn corrupt(error: serde_dynamo::Error) -> StoreError {
    StoreError::Corrupt(error.to_string())
}

/// The stream image DynamoDB emits for a stored request, for tests and the local stream relay.
pub fn stream_image_of(record: &RequestRecord) -> Result<serde_dynamo::Item, StoreError> {
    let item = DynamoStore::request_item(record)?;
    Ok(serde_dynamo::Item::from(item))
}

/// Reads a request from a stream record's new image; `None` for the other kind of item.
pub fn record_from_stream_image(
    image: serde_dynamo::Item,
) -> Result<Option<RequestRecord>, StoreError> {
    let is_request = matches!(image.get("kind"), Some(serde_dynamo::AttributeValue::S(kind)) if kind == REQUEST_KIND);
    if !is_request {
        return Ok(None);
    }
    serde_dynamo::from_item::<_, RequestItem>(image)
        .map(|item| Some(item.record))
        .map_err(corrupt)
}

/// What a conditional `PutItem` did.
enum Put {
    Written,
    /// The condition failed: the item stored now under the same key, if there is one.
    Refused(Option<HashMap<String, AttributeValue>>),
}

/// The table's request id key and when it was made (UTC).
#[derive(Clone)]
struct KeyItem {
    key: RequestIdKey,
    made_at: Timestamp,
}

/// The requests table. Cheap to clone: clones share the DynamoDB client and the request id key.
#[derive(Clone)]
pub struct DynamoStore {
    client: Arc<BuiltOnFirstUse<Client>>,
    table: String,
    /// Read (or made) on first use, then kept for the execution environment: it never changes.
    key: Arc<tokio::sync::OnceCell<KeyItem>>,
    /// How long after the key was made a create first looks for a request stored under a random id.
    legacy_window: chrono::Duration,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self::built_on_first_use(built(client), table)
    }

    /// The store over a client that is built when the store is first used.
    pub fn built_on_first_use(client: BuiltOnFirstUse<Client>, table: impl Into<String>) -> Self {
        Self {
            client: Arc::new(client),
            table: table.into(),
            key: Arc::default(),
            legacy_window: chrono::Duration::hours(DEFAULT_LEGACY_WINDOW_HOURS.into()),
        }
    }

    /// The same store with a legacy window of `hours` (0: a table no version with random ids ever wrote to).
    pub fn with_legacy_window(self, hours: u32) -> Self {
        Self {
            legacy_window: chrono::Duration::hours(hours.into()),
            ..self
        }
    }

    pub fn from_config(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(config), table)
    }

    fn request_item(record: &RequestRecord) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let backlog = record.backlog();
        let item = RequestItem {
            pk: request_key(&record.id),
            kind: REQUEST_KIND.to_owned(),
            expires_at_epoch: expiry_epoch(record),
            backlog: backlog.map(|(kind, _)| kind.as_str().to_owned()),
            backlog_since: backlog.map(|(_, since)| format_rfc3339(&since)),
            record: record.clone(),
        };
        serde_dynamo::to_item(item).map_err(corrupt)
    }

    fn record_of(item: HashMap<String, AttributeValue>) -> Result<RequestRecord, StoreError> {
        serde_dynamo::from_item::<_, RequestItem>(item)
            .map(|i| i.record)
            .map_err(corrupt)
    }

    async fn get_item(
        &self,
        pk: String,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item)
    }

    /// The table's request id key: one `GetItem` per execution environment; a table without one gets it made
    /// ([`Self::make_key`]).
    async fn key_item(&self) -> Result<&KeyItem, StoreError> {
        self.key.get_or_try_init(|| self.read_or_make_key()).await
    }

    async fn read_or_make_key(&self) -> Result<KeyItem, StoreError> {
        match self.get_item(REQUEST_ID_KEY.to_owned()).await? {
            Some(stored) => key_of(&stored),
            None => self.make_key().await,
        }
    }

    /// Makes the table's key, but only while the table holds no request whose id a key derived: a key that
    /// vanished from a table in use is never made again silently, since a new one would change every id (no
    /// request could be found by its `pmcRequestId` any more, and PM Cloud's retry would get a second ticket).
    /// One `Scan` page of [`KEY_CHECK_SAMPLE`] partition keys (the few `state#` items and any legacy requests with
    /// random ids do not count), then one conditional `PutItem`, which hands back the key another execution
    /// environment made first. Errors: [`StoreError::Corrupt`] when derived requests exist, logged as an error and
    /// counted as [`REQUEST_ID_KEY_MISSING_METRIC`] (the template alarms on it); an operator restores the key item
    /// (point-in-time recovery keeps it).
    async fn make_key(&self) -> Result<KeyItem, StoreError> {
        if let Some(request) = self.a_derived_request().await? {
            tracing::error!(
                item = REQUEST_ID_KEY,
                %request,
                "the request id key is missing while requests derived with it exist: no id is made until it is restored"
            );
            metrics::counter!(REQUEST_ID_KEY_MISSING_METRIC).increment(1);
            return Err(StoreError::Corrupt(format!(
                "{REQUEST_ID_KEY} is missing while requests derived with it exist (request {request}); restore it \
                 from a backup: a new key would change every request's id"
            )));
        }
        self.put_or_read_key().await
    }

    /// A request among the first [`KEY_CHECK_SAMPLE`] items a `Scan` reads (partition keys only) whose id a key
    /// derived, if there is one.
    async fn a_derived_request(&self) -> Result<Option<RequestId>, StoreError> {
        let output = self
            .client
            .scan()
            .table_name(&self.table)
            .select(aws_sdk_dynamodb::types::Select::SpecificAttributes)
            .projection_expression("pk")
            .limit(KEY_CHECK_SAMPLE)
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.items().iter().find_map(|item| match item.get("pk") {
            Some(AttributeValue::S(pk)) => pk
                .strip_prefix("request#")
                .and_then(|id| RequestId::parse(id).ok())
                .filter(RequestId::is_derived),
            _ => None,
        }))
    }

    /// One conditional `PutItem` of a fresh key, which either stores it (the table had none) or hands back the
    /// key stored first, in the same round trip.
    async fn put_or_read_key(&self) -> Result<KeyItem, StoreError> {
        let fresh = KeyItem {
            key: RequestIdKey::random(),
            made_at: crate::domain::time::now(),
        };
        let item = HashMap::from([
            (
                "pk".to_owned(),
                AttributeValue::S(REQUEST_ID_KEY.to_owned()),
            ),
            ("kind".to_owned(), AttributeValue::S(STATE_KIND.to_owned())),
            (
                "key".to_owned(),
                AttributeValue::B(Blob::new(fresh.key.as_bytes())),
            ),
            (
                "at".to_owned(),
                AttributeValue::S(format_rfc3339(&fresh.made_at)),
            ),
        ]);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)");
        match self.conditional_put(put, REQUEST_ID_KEY.to_owned()).await? {
            Put::Written => Ok(fresh),
            Put::Refused(Some(stored)) => key_of(&stored),
            Put::Refused(None) => Err(StoreError::Corrupt("the request id key vanished".into())),
        }
    }

    /// Sends `put`, a conditional `PutItem` of the item under `pk`; when its condition fails, the item stored now
    /// is handed back in the same round trip (`ReturnValuesOnConditionCheckFailure`), or read when DynamoDB did not
    /// hand it back.
    async fn conditional_put(
        &self,
        put: PutItemFluentBuilder,
        pk: String,
    ) -> Result<Put, StoreError> {
        let result = put
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Put::Written),
            Err(error) => match error.into_service_error() {
                PutItemError::ConditionalCheckFailedException(failed) => match failed.item {
                    Some(item) => Ok(Put::Refused(Some(item))),
                    None => Ok(Put::Refused(self.get_item(pk).await?)),
                },
                other => Err(unavailable(other)),
            },
        }
    }

    /// The request a legacy `pmcRequestId#` item points to (requests stored before ids were derived from the
    /// `pmcRequestId`). Two reads.
    async fn find_legacy(
        &self,
        pmc_request_id: &PmcRequestId,
    ) -> Result<Option<RequestRecord>, StoreError> {
        let Some(item) = self.get_item(alias_key(pmc_request_id)).await? else {
            return Ok(None);
        };
        let alias: AliasItem = serde_dynamo::from_item(item).map_err(corrupt)?;
        self.get(&alias.request_id).await
    }
}

/// The key and the time it was made, from the stored `state#request-id-key` item. Errors: [`StoreError::Corrupt`]
/// when it holds no 32-byte key or no time.
fn key_of(stored: &HashMap<String, AttributeValue>) -> Result<KeyItem, StoreError> {
    let key = match stored.get("key") {
        Some(AttributeValue::B(bytes)) => RequestIdKey::from_bytes(bytes.as_ref()).ok(),
        _ => None,
    };
    let made_at = match stored.get("at") {
        Some(AttributeValue::S(at)) => chrono::DateTime::parse_from_rfc3339(at)
            .ok()
            .map(|at| at.to_utc()),
        _ => None,
    };
    match (key, made_at) {
        (Some(key), Some(made_at)) => Ok(KeyItem { key, made_at }),
        _ => Err(StoreError::Corrupt(format!(
            "{REQUEST_ID_KEY} must hold a 32-byte key and the time it was made"
        ))),
    }
}

fn expiry_epoch(record: &RequestRecord) -> i64 {
    (record.created_at + chrono::Duration::days(RETENTION_DAYS)).timestamp()
}

impl RequestStore for DynamoStore {
    /// One read of the table's key per execution environment ([`RequestIdKey::request_id`]).
    async fn request_id_for(&self, pmc_request_id: &PmcRequestId) -> Result<RequestId, StoreError> {
        Ok(self.key_item().await?.key.request_id(pmc_request_id))
    }

    /// One conditional `PutItem`: the request's id is derived from its `pmcRequestId`, so "absent" means "no
    /// request with this `pmcRequestId`", and a refused put hands back the stored request in the same round trip
    /// (`ReturnValuesOnConditionCheckFailure`). Within the legacy window after the table got its key, a
    /// `GetItem` of the legacy `pmcRequestId#` item comes first (a request stored under a random id is answered
    /// with, not created again). Not a transaction with the put: that would make every retry a cancelled
    /// transaction, for the sake of a race with an older version's create of the same `pmcRequestId` in the
    /// seconds of a deployment.
    async fn create(&self, record: &RequestRecord) -> Result<CreateOutcome, StoreError> {
        let key = self.key_item().await?;
        debug_assert_eq!(record.id, key.key.request_id(&record.pmc_request_id));
        if crate::domain::time::now() < key.made_at + self.legacy_window
            && let Some(legacy) = self.find_legacy(&record.pmc_request_id).await?
        {
            return Ok(CreateOutcome::Existing(Box::new(legacy)));
        }
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::request_item(record)?))
            .condition_expression("attribute_not_exists(pk)");
        match self.conditional_put(put, request_key(&record.id)).await? {
            Put::Written => Ok(CreateOutcome::Created),
            Put::Refused(Some(stored)) => {
                Ok(CreateOutcome::Existing(Box::new(Self::record_of(stored)?)))
            }
            Put::Refused(None) => Err(StoreError::Missing(record.id.clone())),
        }
    }

    async fn get(&self, id: &RequestId) -> Result<Option<RequestRecord>, StoreError> {
        self.get_item(request_key(id))
            .await?
            .map(Self::record_of)
            .transpose()
    }

    /// One read for a request stored under its derived id (and one of the key per execution environment); a
    /// request stored before ids were derived is found through its legacy `pmcRequestId#` item (two reads more).
    async fn find_by_pmc_request_id(
        &self,
        pmc_request_id: &PmcRequestId,
    ) -> Result<Option<RequestRecord>, StoreError> {
        match self
            .get(&self.request_id_for(pmc_request_id).await?)
            .await?
        {
            Some(record) => Ok(Some(record)),
            None => self.find_legacy(pmc_request_id).await,
        }
    }

    async fn replace(&self, next: &RequestRecord) -> Result<ReplaceOutcome, StoreError> {
        let stored = RequestRecord {
            revision: next.revision + 1,
            ..next.clone()
        };
        // Requests stored before revisions were counted carry none: they are at revision 0.
        let condition = if next.revision == 0 {
            "attribute_exists(pk) AND (attribute_not_exists(#revision) OR #revision = :revision)"
        } else {
            "attribute_exists(pk) AND #revision = :revision"
        };
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::request_item(&stored)?))
            .condition_expression(condition)
            .expression_attribute_names("#revision", "revision")
            .expression_attribute_values(":revision", AttributeValue::N(next.revision.to_string()));
        match self.conditional_put(put, request_key(&next.id)).await? {
            Put::Written => Ok(ReplaceOutcome::Replaced(Box::new(stored))),
            Put::Refused(Some(current)) => {
                Ok(ReplaceOutcome::Changed(Box::new(Self::record_of(current)?)))
            }
            Put::Refused(None) => Err(StoreError::Missing(next.id.clone())),
        }
    }
}

impl DynamoStore {
    /// One page of the backlog index: the waiting requests' ids, or (with `count`) only how many.
    fn backlog_query(
        &self,
        backlog: Backlog,
        before: Timestamp,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(BACKLOG_INDEX)
            .key_condition_expression("#backlog = :backlog AND #since < :before")
            .expression_attribute_names("#backlog", "backlog")
            .expression_attribute_names("#since", "backlogSince")
            .expression_attribute_values(":backlog", AttributeValue::S(backlog.as_str().to_owned()))
            .expression_attribute_values(":before", AttributeValue::S(format_rfc3339(&before)))
            .scan_index_forward(true)
    }

    async fn state(&self, key: &str) -> Result<Option<Timestamp>, StoreError> {
        self.get_item(key.to_owned())
            .await?
            .map(|item| {
                serde_dynamo::from_item::<_, StateItem>(item)
                    .map(|state| state.at)
                    .map_err(corrupt)
            })
            .transpose()
    }

    fn state_item(key: &str, at: Timestamp) -> Result<HashMap<String, AttributeValue>, StoreError> {
        serde_dynamo::to_item(StateItem {
            pk: key.to_owned(),
            kind: STATE_KIND.to_owned(),
            at,
        })
        .map_err(corrupt)
    }
}

impl Backlogs for DynamoStore {
    async fn waiting(
        &self,
        backlog: Backlog,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<RequestId>, StoreError> {
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let output = self
            .backlog_query(backlog, before)
            .limit(limit)
            .send()
            .await
            .map_err(unavailable)?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| match item.get("pk") {
                Some(AttributeValue::S(pk)) => pk
                    .strip_prefix("request#")
                    .and_then(|id| RequestId::parse(id).ok())
                    .ok_or_else(|| StoreError::Corrupt(format!("{pk} in the backlog index"))),
                _ => Err(StoreError::Corrupt("an index item without pk".into())),
            })
            .collect()
    }

    async fn count_waiting(&self, backlog: Backlog, before: Timestamp) -> Result<u64, StoreError> {
        let mut count = 0;
        let mut start = None;
        loop {
            let output = self
                .backlog_query(backlog, before)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            count += u64::try_from(output.count).unwrap_or(0);
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(count),
            }
        }
    }
}

impl SharedState for DynamoStore {
    async fn paused_until(&self, remote: Remote) -> Result<Option<Timestamp>, StoreError> {
        self.state(pause_key(remote)).await
    }

    async fn pause(&self, remote: Remote, until: Timestamp) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::state_item(pause_key(remote), until)?))
            .condition_expression("attribute_not_exists(pk) OR #at < :until")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":until", AttributeValue::S(format_rfc3339(&until)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A later pause is recorded already: it stands.
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn watermark(&self) -> Result<Option<Timestamp>, StoreError> {
        self.state(WATERMARK_KEY).await
    }

    async fn set_watermark(&self, at: Timestamp) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::state_item(WATERMARK_KEY, at)?))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn settings_invalid_since(&self, now: Timestamp) -> Result<Timestamp, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(SETTINGS_INVALID_KEY.to_owned()))
            .update_expression("SET #at = if_not_exists(#at, :now), #kind = :kind")
            .expression_attribute_names("#at", "at")
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_values(":now", AttributeValue::S(format_rfc3339(&now)))
            .expression_attribute_values(":kind", AttributeValue::S(STATE_KIND.to_owned()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(unavailable)?;
        let item = output
            .attributes
            .ok_or_else(|| StoreError::Corrupt("the settings note came back empty".into()))?;
        serde_dynamo::from_item::<_, StateItem>(item)
            .map(|state| state.at)
            .map_err(corrupt)
    }

    async fn settings_valid(&self) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(SETTINGS_INVALID_KEY.to_owned()))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "dynamo_tests.rs"]
mod tests;
