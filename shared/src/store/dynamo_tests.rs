//! The DynamoDB adapter against the local emulator: create-once, consistent reads, forward-only replaces,
//! and the stream image mapping that `ticket-creator` reads.

use super::{AliasItem, DEFAULT_LEGACY_WINDOW_HOURS, REQUEST_ID_KEY, alias_key, expiry_epoch};
use crate::domain::ids::{PmcRequestId, RequestId, SysId};
use crate::domain::record::RequestRecord;
use crate::domain::request::Submission;
use crate::domain::ticket::{TaskType, Ticket};
use crate::store::{
    CreateOutcome, DynamoStore, Remote, ReplaceOutcome, RequestStore, record_from_stream_image,
};
use test_support::{create_requests_table, emulator_config, sample_body};

async fn store() -> (DynamoStore, aws_sdk_dynamodb::Client, String) {
    let config = emulator_config().await;
    let table = create_requests_table(&config).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    (DynamoStore::new(client.clone(), &table), client, table)
}

/// A new request as request-intake makes it: its id derived with the table's key.
async fn record(store: &DynamoStore, pmc_request_id: &str) -> RequestRecord {
    let body = sample_body(pmc_request_id);
    let submission = Submission::parse(body.as_object().unwrap(), false).unwrap();
    let id = store
        .request_id_for(&submission.request.pmc_request_id)
        .await
        .unwrap();
    RequestRecord::new(submission, id, crate::domain::time::now())
}

/// Gives the table a request id key made `hours` ago, as a table in use for a while has.
async fn key_made_hours_ago(client: &aws_sdk_dynamodb::Client, table: &str, hours: i64) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let made_at = crate::domain::time::now() - chrono::Duration::hours(hours);
    client
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(REQUEST_ID_KEY.to_owned()))
        .item("kind", AttributeValue::S("state".to_owned()))
        .item("key", AttributeValue::B(vec![9; 32].into()))
        .item(
            "at",
            AttributeValue::S(crate::domain::time::format_rfc3339(&made_at)),
        )
        .send()
        .await
        .unwrap();
}

/// Stores `pmc_request_id` as a version that gave random ids did: the request, and an item pointing to it.
async fn stored_with_a_random_id(
    store: &DynamoStore,
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pmc_request_id: &str,
) -> RequestRecord {
    let legacy = RequestRecord {
        id: RequestId::random(),
        ..record(store, pmc_request_id).await
    };
    let alias = AliasItem {
        pk: alias_key(&legacy.pmc_request_id),
        kind: "pmcRequestId".to_owned(),
        expires_at_epoch: expiry_epoch(&legacy),
        request_id: legacy.id.clone(),
    };
    for item in [
        DynamoStore::request_item(&legacy).unwrap(),
        serde_dynamo::to_item(alias).unwrap(),
    ] {
        client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
    legacy
}

/// Counts the requests a DynamoDB client sends.
#[derive(Debug, Clone, Default)]
struct CountCalls(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl aws_sdk_dynamodb::config::Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_transmit(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

impl CountCalls {
    /// The calls counted since the last take.
    fn take(&self) -> usize {
        self.0.swap(0, std::sync::atomic::Ordering::SeqCst)
    }
}

/// Once the table's key is older than the legacy window: one call per execution environment for the key, then
/// one per new submission, one per retry and one per read by `pmcRequestId`.
#[tokio::test]
async fn one_request_creates_one_answers_a_retry_and_one_finds_by_pmc_request_id() {
    let (_, client, table) = store().await;
    key_made_hours_ago(&client, &table, i64::from(DEFAULT_LEGACY_WINDOW_HOURS) + 1).await;
    let calls = CountCalls::default();
    let counted = aws_sdk_dynamodb::Client::from_conf(
        client
            .config()
            .to_builder()
            .interceptor(calls.clone())
            .build(),
    );
    let store = DynamoStore::new(counted, &table);
    let first = record(&store, "pmc-1").await;
    assert_eq!(calls.take(), 1, "the table's key, read once");
    assert_eq!(store.create(&first).await.unwrap(), CreateOutcome::Created);
    assert_eq!(calls.take(), 1, "a new submission: one conditional put");

    let second = record(&store, "pmc-1").await;
    assert_eq!(calls.take(), 0, "the key is kept");
    assert_eq!(
        second.id, first.id,
        "the id is derived from the pmcRequestId"
    );
    assert_eq!(
        store.create(&second).await.unwrap(),
        CreateOutcome::Existing(Box::new(first.clone()))
    );
    assert_eq!(
        calls.take(),
        1,
        "a retry: the refused put hands back the stored request"
    );

    assert_eq!(
        store
            .find_by_pmc_request_id(&first.pmc_request_id)
            .await
            .unwrap(),
        Some(first.clone())
    );
    assert_eq!(calls.take(), 1, "a read by pmcRequestId: one get");
    let items = client.scan().table_name(&table).send().await.unwrap();
    assert_eq!(
        items.count, 2,
        "the request and the key, nothing beside them"
    );
}

/// Every execution environment derives the same id (the first made the key, the second reads it); another table,
/// another id, so that nobody without the table's key can foresee an id. (Not raced here: moto's conditional
/// writes are not atomic under concurrency; DynamoDB's are.)
#[tokio::test]
async fn ids_come_from_the_tables_own_key() {
    let (first, client, table) = store().await;
    let second = DynamoStore::new(client, &table);
    let pmc = PmcRequestId::parse("pmc-key").unwrap();
    let id = first.request_id_for(&pmc).await.unwrap();
    assert_eq!(second.request_id_for(&pmc).await.unwrap(), id);
    assert_eq!(
        uuid::Uuid::parse_str(&id).unwrap().get_version_num(),
        8,
        "a keyed, custom UUID"
    );
    let (elsewhere, _, _) = store().await;
    assert_ne!(elsewhere.request_id_for(&pmc).await.unwrap(), id);
}

/// Without a legacy window (a table no version with random ids wrote to) nothing is looked up before a create.
#[tokio::test]
async fn without_a_legacy_window_a_create_is_the_put_alone() {
    let (store, client, table) = store().await;
    let store = store.with_legacy_window(0);
    let legacy = stored_with_a_random_id(&store, &client, &table, "pmc-no-window").await;
    let retry = record(&store, "pmc-no-window").await;
    assert_eq!(store.create(&retry).await.unwrap(), CreateOutcome::Created);
    assert_ne!(retry.id, legacy.id);
}

/// Requests stored before ids were derived (a random id, and a `pmcRequestId#` item pointing to it) stay readable
/// by both ids.
#[tokio::test]
async fn requests_stored_with_random_ids_stay_readable_by_both_ids() {
    let (store, client, table) = store().await;
    let legacy = stored_with_a_random_id(&store, &client, &table, "pmc-before").await;
    assert_eq!(store.get(&legacy.id).await.unwrap(), Some(legacy.clone()));
    assert_eq!(
        store
            .find_by_pmc_request_id(&legacy.pmc_request_id)
            .await
            .unwrap(),
        Some(legacy)
    );
}

/// A retry that straddles the upgrade (stored by the version that gave random ids, submitted again to this one)
/// gets the stored request, not a second one, while the key is young; new requests are created as usual.
#[tokio::test]
async fn within_the_legacy_window_a_retry_finds_a_request_stored_under_a_random_id() {
    let (store, client, table) = store().await;
    let legacy = stored_with_a_random_id(&store, &client, &table, "pmc-straddle").await;
    let retry = record(&store, "pmc-straddle").await;
    assert_eq!(
        store.create(&retry).await.unwrap(),
        CreateOutcome::Existing(Box::new(legacy))
    );
    assert_eq!(
        store.get(&retry.id).await.unwrap(),
        None,
        "nothing stored under the derived id"
    );

    let fresh = record(&store, "pmc-after").await;
    assert_eq!(store.create(&fresh).await.unwrap(), CreateOutcome::Created);
    assert_eq!(
        store.create(&fresh).await.unwrap(),
        CreateOutcome::Existing(Box::new(fresh.clone()))
    );
}

#[tokio::test]
async fn reads_back_exactly_what_it_stored() {
    let (store, _, _) = store().await;
    let stored = record(&store, "pmc-2").await;
    store.create(&stored).await.unwrap();
    assert_eq!(store.get(&stored.id).await.unwrap(), Some(stored.clone()));
    let no_such_id = RequestId::parse("no-such-id").unwrap();
    assert_eq!(store.get(&no_such_id).await.unwrap(), None);
    let unknown = PmcRequestId::parse("unknown").unwrap();
    assert_eq!(store.find_by_pmc_request_id(&unknown).await.unwrap(), None);
}

#[tokio::test]
async fn replace_moves_only_from_the_revision_it_was_read_at() {
    let (store, _, _) = store().await;
    let pending = record(&store, "pmc-3").await;
    store.create(&pending).await.unwrap();
    let ticket = Ticket {
        table: TaskType::Incident,
        number: "INC0010001".into(),
        sys_id: SysId::parse(&"0".repeat(32)).unwrap(),
        url: "https://acme.service-now.com/x".into(),
    };
    let ticketed = pending
        .ticketed(ticket, crate::domain::time::now())
        .unwrap();
    let stored = RequestRecord {
        revision: 1,
        ..ticketed.clone()
    };
    assert_eq!(
        store.replace(&ticketed).await.unwrap(),
        ReplaceOutcome::Replaced(Box::new(stored.clone()))
    );

    // A second writer that read the request before that write loses, and learns what it is now.
    assert_eq!(
        store.replace(&ticketed).await.unwrap(),
        ReplaceOutcome::Changed(Box::new(stored.clone()))
    );
    assert_eq!(store.get(&pending.id).await.unwrap(), Some(stored.clone()));

    // A writer that read the stored revision wins.
    let leased = stored.leased(crate::domain::time::now());
    assert_eq!(
        store.replace(&leased).await.unwrap(),
        ReplaceOutcome::Replaced(Box::new(RequestRecord {
            revision: 2,
            ..leased
        }))
    );
}

#[tokio::test]
async fn requests_stored_before_revisions_are_at_revision_0() {
    let (store, client, table) = store().await;
    let legacy = record(&store, "pmc-legacy").await;
    store.create(&legacy).await.unwrap();
    client
        .update_item()
        .table_name(&table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("request#{}", legacy.id)),
        )
        .update_expression("REMOVE revision")
        .send()
        .await
        .unwrap();
    assert_eq!(store.get(&legacy.id).await.unwrap().unwrap().revision, 0);
    let failed = legacy
        .failed(
            crate::domain::record::Failure {
                code: crate::domain::record::FailureCode::Rejected,
                detail: "x".into(),
            },
            crate::domain::time::now(),
        )
        .unwrap();
    assert!(matches!(
        store.replace(&failed).await.unwrap(),
        ReplaceOutcome::Replaced(_)
    ));
    assert_eq!(store.get(&legacy.id).await.unwrap().unwrap().revision, 1);
}

#[tokio::test]
async fn replacing_an_unknown_request_is_an_error_not_a_create() {
    let (store, _, _) = store().await;
    let ghost = record(&store, "pmc-ghost").await;
    assert!(store.replace(&ghost).await.is_err());
    assert_eq!(store.get(&ghost.id).await.unwrap(), None);
}

#[tokio::test]
async fn stream_images_of_requests_map_back_to_records_and_other_items_are_skipped() {
    use crate::store::SharedState;
    let (store, client, table) = store().await;
    let stored = record(&store, "pmc-4").await;
    store.create(&stored).await.unwrap();
    store
        .settings_invalid_since(crate::domain::time::now())
        .await
        .unwrap();
    let legacy_alias = AliasItem {
        pk: alias_key(&PmcRequestId::parse("pmc-old").unwrap()),
        kind: "pmcRequestId".to_owned(),
        expires_at_epoch: expiry_epoch(&stored),
        request_id: RequestId::random(),
    };
    client
        .put_item()
        .table_name(&table)
        .set_item(Some(serde_dynamo::to_item(legacy_alias).unwrap()))
        .send()
        .await
        .unwrap();
    let items = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap();
    assert_eq!(
        items.len(),
        4,
        "a request, two state items (the key, the settings) and a legacy alias"
    );
    let mut records = Vec::new();
    for item in items {
        if let Some(record) = record_from_stream_image(serde_dynamo::Item::from(item)).unwrap() {
            records.push(record);
        }
    }
    assert_eq!(records, [stored]);
}

#[tokio::test]
async fn the_backlog_index_holds_only_what_waits_oldest_first() {
    use crate::domain::backlog::Backlog;
    use crate::store::Backlogs;
    let (store, _, _) = store().await;
    let now = crate::domain::time::now();
    let mut ids = Vec::new();
    for (i, minutes) in [30, 50, 40].into_iter().enumerate() {
        let mut record = record(&store, &format!("pmc-backlog-{i}")).await;
        record.created_at = now - chrono::Duration::minutes(minutes);
        store.create(&record).await.unwrap();
        ids.push(record);
    }
    let young = record(&store, "pmc-backlog-young").await;
    store.create(&young).await.unwrap();
    // A ticketed request leaves the index.
    let ticket = Ticket {
        table: TaskType::Incident,
        number: "INC0010001".into(),
        sys_id: SysId::parse(&"0".repeat(32)).unwrap(),
        url: "https://acme.service-now.com/x".into(),
    };
    store
        .replace(&ids[2].ticketed(ticket, now).unwrap())
        .await
        .unwrap();

    let before = now - chrono::Duration::minutes(10);
    let waiting = store.waiting(Backlog::Tickets, before, 10).await.unwrap();
    assert_eq!(
        waiting,
        [ids[1].id.clone(), ids[0].id.clone()],
        "oldest first"
    );
    assert_eq!(
        store.waiting(Backlog::Tickets, before, 1).await.unwrap(),
        [ids[1].id.clone()]
    );
    assert_eq!(
        store.count_waiting(Backlog::Tickets, before).await.unwrap(),
        2
    );
    assert_eq!(store.count_waiting(Backlog::Pushes, now).await.unwrap(), 0);
}

#[tokio::test]
async fn each_remotes_pause_only_moves_later_and_the_watermark_is_kept() {
    use crate::store::SharedState;
    let (store, _, _) = store().await;
    assert_eq!(store.paused_until(Remote::ServiceNow).await.unwrap(), None);
    let now = crate::domain::time::now();
    let later = now + chrono::Duration::minutes(20);
    store.pause(Remote::ServiceNow, later).await.unwrap();
    store.pause(Remote::ServiceNow, now).await.unwrap();
    assert_eq!(
        store.paused_until(Remote::ServiceNow).await.unwrap(),
        Some(later),
        "the later pause stands"
    );
    assert_eq!(
        store.paused_until(Remote::PmCloud).await.unwrap(),
        None,
        "PM Cloud's pause is its own"
    );
    store.pause(Remote::PmCloud, now).await.unwrap();
    assert_eq!(
        store.paused_until(Remote::PmCloud).await.unwrap(),
        Some(now)
    );
    assert_eq!(
        store.paused_until(Remote::ServiceNow).await.unwrap(),
        Some(later)
    );

    assert_eq!(store.watermark().await.unwrap(), None);
    store.set_watermark(now).await.unwrap();
    assert_eq!(store.watermark().await.unwrap(), Some(now));
}

#[tokio::test]
async fn the_settings_note_keeps_the_first_time_until_the_settings_are_valid() {
    use crate::store::SharedState;
    let (store, _, _) = store().await;
    let first = crate::domain::time::now() - chrono::Duration::minutes(30);
    let later = first + chrono::Duration::minutes(10);
    assert_eq!(store.settings_invalid_since(first).await.unwrap(), first);
    assert_eq!(
        store.settings_invalid_since(later).await.unwrap(),
        first,
        "the first time stands"
    );
    store.settings_valid().await.unwrap();
    store.settings_valid().await.unwrap();
    assert_eq!(store.settings_invalid_since(later).await.unwrap(), later);
}

/// One counter's count.
struct CountOne {
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl metrics::CounterFn for CountOne {
    fn increment(&self, value: u64) {
        self.count
            .fetch_add(value, std::sync::atomic::Ordering::SeqCst);
    }

    fn absolute(&self, value: u64) {
        self.count.store(value, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A recorder that counts only the counter `name` (every other metric goes nowhere).
struct OneCounter {
    name: &'static str,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl metrics::Recorder for OneCounter {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }

    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        if key.name() == self.name {
            metrics::Counter::from_arc(std::sync::Arc::new(CountOne {
                count: self.count.clone(),
            }))
        } else {
            metrics::Counter::noop()
        }
    }

    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }

    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

/// The partition keys the table holds.
async fn keys_of(client: &aws_sdk_dynamodb::Client, table: &str) -> Vec<String> {
    let items = client.scan().table_name(table).send().await.unwrap();
    items
        .items()
        .iter()
        .filter_map(|item| item.get("pk")?.as_s().ok().cloned())
        .collect()
}

/// A request id key that vanished from a table holding requests derived with it is never made again (a new key
/// would change every id): the store refuses to make ids, logs an error and counts the metric the template alarms
/// on. A table with no derived request (a new one, or one only an older version with random ids wrote to) gets its
/// key made.
#[tokio::test(flavor = "current_thread")]
async fn a_vanished_request_id_key_is_never_made_again_while_requests_exist() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (first, client, table) = store().await;
    let stored = record(&first, "pmc-keyed").await;
    first.create(&stored).await.unwrap();
    client
        .delete_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(REQUEST_ID_KEY.to_owned()))
        .send()
        .await
        .unwrap();

    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let recorder = OneCounter {
        name: crate::store::REQUEST_ID_KEY_MISSING_METRIC,
        count: count.clone(),
    };
    let _recording = metrics::set_default_local_recorder(&recorder);
    let restarted = DynamoStore::new(client.clone(), &table);
    let refused = restarted.request_id_for(&stored.pmc_request_id).await;
    assert!(
        matches!(&refused, Err(crate::store::StoreError::Corrupt(why)) if why.contains("restore")),
        "{refused:?}"
    );
    assert!(
        restarted
            .find_by_pmc_request_id(&stored.pmc_request_id)
            .await
            .is_err(),
        "no lookup by a made-up id either"
    );
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert!(
        !keys_of(&client, &table)
            .await
            .contains(&REQUEST_ID_KEY.to_owned()),
        "no new key was made"
    );
    assert_eq!(
        restarted.get(&stored.id).await.unwrap(),
        Some(stored.clone()),
        "the request itself is untouched"
    );

    let (fresh, client, table) = store().await;
    let legacy = stored_with_a_random_id_before_any_key(&client, &table).await;
    let id = fresh.request_id_for(&legacy).await.unwrap();
    assert!(id.is_derived());
    assert!(
        keys_of(&client, &table)
            .await
            .contains(&REQUEST_ID_KEY.to_owned())
    );
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "no alarm"
    );
}

/// A table only a version with random ids wrote to: one request under a random id and its `pmcRequestId#` item,
/// no key. Answers its `pmcRequestId`.
async fn stored_with_a_random_id_before_any_key(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> PmcRequestId {
    let body = sample_body("pmc-legacy-only");
    let submission = Submission::parse(body.as_object().unwrap(), false).unwrap();
    let legacy = RequestRecord::new(submission, RequestId::random(), crate::domain::time::now());
    client
        .put_item()
        .table_name(table)
        .set_item(Some(DynamoStore::request_item(&legacy).unwrap()))
        .send()
        .await
        .unwrap();
    let alias = AliasItem {
        pk: alias_key(&legacy.pmc_request_id),
        kind: "pmcRequestId".to_owned(),
        expires_at_epoch: expiry_epoch(&legacy),
        request_id: legacy.id.clone(),
    };
    client
        .put_item()
        .table_name(table)
        .set_item(Some(serde_dynamo::to_item(alias).unwrap()))
        .send()
        .await
        .unwrap();
    legacy.pmc_request_id
}
