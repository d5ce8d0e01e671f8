//! Decision pushes driven through the rules with batches of stream items, against the in-memory store and the PM
//! Cloud simulator. Each test says what a push, a retry or a refusal leaves behind, and what PM Cloud received.

use super::*;
use crate::domain::base_url::{BaseUrl, Hosts};
use crate::domain::duration::Duration;
use crate::domain::ids::SysId;
use crate::domain::record::{Decision, Outcome};
use crate::domain::request::Submission;
use crate::domain::ticket::{TaskType, Ticket};
use crate::outbound::client::http_client_with_timeout;
use crate::rules::stream::tests::batch_of;
use crate::runtime::serve::Trigger;
use crate::secrets::StaticSettings;
use crate::store::MemoryStore;
use pmcloud_sim::{ADMIN_DECISION_PATH, Fault, FaultTarget, PmCloudSim, SimConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use test_support::{sample_body, simulator_secret, with_pm_cloud};

/// A batch as the handler hands it over, with a deadline far enough away; the identifiers reported as failed.
async fn process<S: RequestStore + crate::store::SharedState + Clone, C: SettingsSource>(
    rules: &DecisionNotifier<S, C>,
    items: Vec<StreamItem>,
) -> Vec<String> {
    rules
        .process_batch(
            items,
            Trigger::Stream
                .deadline(std::time::SystemTime::now() + std::time::Duration::from_secs(60)),
        )
        .await
}

type Notifier = DecisionNotifier<Arc<MemoryStore>, StaticSettings>;

type Store = Arc<MemoryStore>;

const SYS_ID: &str = "9d385017c611228701d22104cc95c371";

fn notifier_with(secret: String, store: &Store) -> Notifier {
    let http = http_client_with_timeout(std::time::Duration::from_millis(700), Hosts::Local);
    let client = PmCloudClient::new(http.clone());
    let servicenow = crate::servicenow::ServiceNowClient::new(http);
    DecisionNotifier::new(
        Arc::clone(store),
        StaticSettings::new(secret),
        client,
        servicenow,
    )
}

/// The PM Cloud simulator, the notifier with `pmCloud` pointing at it, and the store.
async fn setup() -> (PmCloudSim, Notifier, Store) {
    let sim = PmCloudSim::start(SimConfig::default()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let secret = with_pm_cloud(
        &simulator_secret("https://acme.service-now.com"),
        &sim.base_url(),
    );
    (sim, notifier_with(secret, &store), store)
}

fn ticket() -> Ticket {
    let instance = BaseUrl::parse("https://acme.service-now.com", Hosts::Public).unwrap();
    Ticket::new(
        &instance,
        TaskType::Incident,
        "INC0010001".into(),
        SysId::parse(SYS_ID).unwrap(),
    )
}

fn decided_at() -> Timestamp {
    chrono::DateTime::parse_from_rfc3339("2026-11-28T12:04:05Z")
        .unwrap()
        .to_utc()
}

fn approval(duration: Duration) -> Decision {
    Decision {
        outcome: Outcome::Approved,
        duration: Some(duration),
        expires_at: duration.expires_at(decided_at()).unwrap(),
        decided_by: Some("alice.approver".into()),
        decided_at: decided_at(),
        notes: Some("Approved for the capture".into()),
        decided_in: crate::domain::record::DecidedIn::ServiceNow,
    }
}

/// A stored request for `pmc`, ticketed and then decided by `decide` while `pmCloud` was configured.
async fn decided(
    store: &Store,
    pmc: &str,
    decide: impl FnOnce(&RequestRecord) -> RequestRecord,
) -> RequestRecord {
    let body = sample_body(pmc);
    let request = RequestRecord::new(
        Submission::parse(body.as_object().unwrap(), false).unwrap(),
        crate::domain::ids::RequestId::random(),
        now(),
    )
    .ticketed(ticket(), now())
    .unwrap();
    let record = decide(&request);
    store.create(&record).await.unwrap();
    record
}

async fn approved(store: &Store, pmc: &str, duration: Duration) -> RequestRecord {
    decided(store, pmc, |r| {
        r.decided(approval(duration), ticket(), true, now())
            .unwrap()
    })
    .await
}

async fn notification(store: &Store, record: &RequestRecord) -> Value {
    let current = store.get(&record.id).await.unwrap().unwrap();
    serde_json::to_value(current.resource()).unwrap()["pmCloudNotification"].clone()
}

#[tokio::test]
async fn an_approval_for_4_hours_reaches_pm_cloud_once_with_every_field() {
    let (sim, notifier, store) = setup().await;
    let record = approved(&store, "pmc-4h", Duration::Hours(4)).await;
    assert!(process(&notifier, batch_of(&[&record])).await.is_empty());

    let received = sim.notifications();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].correlation_id.as_deref(),
        Some(record.id.as_str())
    );
    assert_eq!(
        received[0].body,
        json!({
            "itsmRequestId": "pmc-4h",
            "systemId": SYS_ID,
            "ticketId": "INC0010001",
            "ticketUrl": format!("https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3D{SYS_ID}"),
            "decision": "Approved",
            "status": "2000",
            "duration": "14400",
            "decisionPerformedByUser": "alice.approver",
            "decisionTime": "2026-11-28 12:04:05",
            "message": "Approved for the capture"
        })
    );
    let state = notification(&store, &record).await;
    assert_eq!(state["state"], "delivered");
    assert_eq!(state["attempts"], 1);
    assert_eq!(state["detail"], Value::Null);

    // The same stream record again (a redelivery) pushes nothing more.
    assert!(process(&notifier, batch_of(&[&record])).await.is_empty());
    assert_eq!(
        sim.notifications().len(),
        1,
        "a delivered decision is never pushed again"
    );
}

#[tokio::test]
async fn denials_cancellations_once_and_months_map_as_the_contract_says() {
    let (sim, notifier, store) = setup().await;
    let denied = decided(&store, "pmc-denied", |r| {
        let denial = Decision {
            outcome: Outcome::Denied,
            duration: None,
            expires_at: None,
            notes: None,
            ..approval(Duration::Once)
        };
        r.decided(denial, ticket(), true, now()).unwrap()
    })
    .await;
    let cancelled = decided(&store, "pmc-cancelled", |r| {
        r.cancelled(ticket(), true, decided_at()).unwrap()
    })
    .await;
    let once = approved(&store, "pmc-once", Duration::Once).await;
    let months = approved(&store, "pmc-months", Duration::Months(3)).await;
    let event = batch_of(&[&denied, &cancelled, &once, &months]);
    assert!(process(&notifier, event).await.is_empty());

    let bodies: Vec<Value> = sim.notifications().into_iter().map(|n| n.body).collect();
    let field = |i: usize, name: &str| bodies[i][name].as_str().unwrap().to_owned();
    assert_eq!(bodies.len(), 4);
    assert_eq!(
        (
            field(0, "decision"),
            field(0, "status"),
            field(0, "duration")
        ),
        ("Denied".into(), "2001".into(), "Once".into())
    );
    assert_eq!(field(0, "message"), "Denied in ServiceNow");
    assert_eq!(
        (
            field(1, "decision"),
            field(1, "status"),
            field(1, "duration")
        ),
        ("Denied".into(), "2001".into(), "Once".into())
    );
    assert_eq!(
        field(1, "message"),
        "The ServiceNow ticket was closed without a decision"
    );
    assert_eq!(field(1, "decisionTime"), "2026-11-28 12:04:05");
    assert_eq!(field(2, "duration"), "Once");
    // 28 November 12:04:05 + 3 calendar months = 28 February: 92 days.
    assert_eq!(field(3, "duration"), (92 * 86_400).to_string());
}

#[tokio::test]
async fn many_decisions_share_one_token() {
    let (sim, notifier, store) = setup().await;
    for i in 0..6 {
        let record = approved(&store, &format!("pmc-token-{i}"), Duration::Days(1)).await;
        assert!(process(&notifier, batch_of(&[&record])).await.is_empty());
    }
    assert_eq!(sim.notifications().len(), 6);
    assert_eq!(sim.stats().token_grants, 1);
}

#[tokio::test]
async fn two_500s_then_success_is_delivered_with_three_attempts() {
    let (sim, notifier, store) = setup().await;
    sim.inject(Fault::Status {
        target: FaultTarget::Notification,
        status: 500,
        retry_after_secs: None,
        times: 2,
    });
    let record = approved(&store, "pmc-500", Duration::Hours(1)).await;
    for _ in 0..2 {
        // The stream retries the record it was told failed.
        assert_eq!(process(&notifier, batch_of(&[&record])).await, ["1"]);
        let state = notification(&store, &record).await;
        assert_eq!(state["state"], "pending");
        assert!(
            state["detail"]
                .as_str()
                .unwrap()
                .starts_with("500 from PM Cloud"),
            "{state}"
        );
    }
    assert!(process(&notifier, batch_of(&[&record])).await.is_empty());
    let state = notification(&store, &record).await;
    assert_eq!(
        (state["state"].as_str(), state["attempts"].as_u64()),
        (Some("delivered"), Some(3))
    );
    assert_eq!(sim.notifications().len(), 1);
}

#[tokio::test]
async fn a_400_fails_for_good_with_a_detail_and_no_further_calls() {
    let (sim, notifier, store) = setup().await;
    sim.inject(Fault::Status {
        target: FaultTarget::Notification,
        status: 400,
        retry_after_secs: None,
        times: 1,
    });
    let record = approved(&store, "pmc-400", Duration::Hours(1)).await;
    assert!(
        process(&notifier, batch_of(&[&record])).await.is_empty(),
        "a permanent failure is not retried"
    );
    let state = notification(&store, &record).await;
    assert_eq!(state["state"], "failed");
    assert_eq!(state["attempts"], 1);
    assert!(
        state["detail"]
            .as_str()
            .unwrap()
            .starts_with("400 from PM Cloud"),
        "{state}"
    );
    process(&notifier, batch_of(&[&record])).await;
    assert_eq!(sim.stats().notification_calls, 1, "nothing more is sent");
}

#[tokio::test]
async fn a_401_gets_one_new_token_and_then_delivers() {
    let (sim, notifier, store) = setup().await;
    let first = approved(&store, "pmc-401-a", Duration::Hours(1)).await;
    process(&notifier, batch_of(&[&first])).await;
    sim.expire_tokens();
    let record = approved(&store, "pmc-401-b", Duration::Hours(1)).await;
    assert!(process(&notifier, batch_of(&[&record])).await.is_empty());
    let state = notification(&store, &record).await;
    assert_eq!(state["state"], "delivered");
    assert_eq!(
        state["attempts"], 2,
        "the refused call and the one that got through"
    );
    assert_eq!(sim.stats().token_grants, 2);
}

#[tokio::test]
async fn a_refused_api_account_fails_the_push_for_good_without_echoing_the_secret() {
    let sim = PmCloudSim::start(SimConfig::default()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let secret = with_pm_cloud(
        &simulator_secret("https://acme.service-now.com"),
        &sim.base_url(),
    )
    .replace("pmc-client-secret", "a-wrong-client-secret");
    let notifier = notifier_with(secret, &store);
    let record = approved(&store, "pmc-refused", Duration::Hours(1)).await;
    assert!(process(&notifier, batch_of(&[&record])).await.is_empty());
    let state = notification(&store, &record).await;
    // The refused grant is the attempt's one call (CONTRACT §13 v3: token grants count as calls).
    assert_eq!(
        (state["state"].as_str(), state["attempts"].as_u64()),
        (Some("failed"), Some(1))
    );
    let detail = state["detail"].as_str().unwrap();
    assert!(detail.contains("client ID or secret"), "{detail}");
    assert!(!detail.contains("a-wrong-client-secret"));
    assert_eq!(sim.stats().notification_calls, 0);
}

/// A token endpoint that is down costs each attempt one call, and counts it: the write that records the failure
/// no longer matches the stream's filter (attempts 0), so it starts no attempt of its own (CONTRACT §13 "Bounded
/// work"; the filter itself is pinned in `tests/stream-relay/tests/template_filters.rs`).
#[tokio::test]
async fn a_token_grant_that_fails_counts_as_the_attempts_call() {
    let (sim, notifier, store) = setup().await;
    sim.inject(Fault::Status {
        target: FaultTarget::Token,
        status: 503,
        retry_after_secs: None,
        times: 1,
    });
    let record = approved(&store, "pmc-grant-down", Duration::Hours(1)).await;
    assert!(
        notifier.push(&record.id).await.is_err(),
        "transient: the stream retries"
    );
    let state = notification(&store, &record).await;
    assert_eq!(
        (state["state"].as_str(), state["attempts"].as_u64()),
        (Some("pending"), Some(1))
    );
    assert_eq!(sim.stats().notification_calls, 0);
}

#[tokio::test]
async fn a_429_leaves_the_decision_pending_and_says_how_long_to_wait() {
    let (sim, notifier, store) = setup().await;
    sim.inject(Fault::Status {
        target: FaultTarget::Notification,
        status: 429,
        retry_after_secs: Some(30),
        times: 1,
    });
    let record = approved(&store, "pmc-429", Duration::Hours(1)).await;
    let pushed = notifier.push(&record.id).await.unwrap_err();
    assert_eq!(pushed.retry_after, Some(std::time::Duration::from_secs(30)));
    let state = notification(&store, &record).await;
    assert_eq!(
        (state["state"].as_str(), state["attempts"].as_u64()),
        (Some("pending"), Some(1))
    );

    // The pause is shared through the table: until it ends, no function calls PM Cloud, token grants included.
    let paused = store.paused_until(Remote::PmCloud).await.unwrap().unwrap();
    let left = paused - now();
    assert!(
        left > chrono::Duration::seconds(25) && left <= chrono::Duration::seconds(30),
        "{left}"
    );
    let calls = |sim: &PmCloudSim| sim.stats().notification_calls + sim.stats().token_grants;
    let before = calls(&sim);
    let other = approved(&store, "pmc-429-b", Duration::Hours(1)).await;
    let secret = with_pm_cloud(
        &simulator_secret("https://acme.service-now.com"),
        &sim.base_url(),
    );
    let another_function = notifier_with(secret, &store);
    for id in [&record.id, &other.id] {
        assert!(matches!(
            another_function.push(id).await,
            Ok(Pushed::Deferred(_))
        ));
    }
    assert_eq!(
        calls(&sim),
        before,
        "nothing reaches PM Cloud during the pause"
    );
    assert_eq!(notification(&store, &other).await["state"], "pending");
}

#[tokio::test]
async fn a_429_naming_a_day_pauses_an_hour() {
    // (A 429 naming no readable time pauses 60 s: `pmcloud::error`'s tests; the simulator always names one.)
    for (retry_after, expected) in [(Some(86_400), 3600), (Some(2), 2)] {
        let (sim, notifier, store) = setup().await;
        sim.inject(Fault::Status {
            target: FaultTarget::Notification,
            status: 429,
            retry_after_secs: retry_after,
            times: 1,
        });
        let record = approved(&store, "pmc-429", Duration::Hours(1)).await;
        notifier.push(&record.id).await.unwrap_err();
        let left = store.paused_until(Remote::PmCloud).await.unwrap().unwrap() - now();
        assert!(
            left > chrono::Duration::seconds(expected - 5)
                && left <= chrono::Duration::seconds(expected),
            "{retry_after:?}: {left}"
        );
    }
}

#[tokio::test]
async fn without_pm_cloud_nothing_is_pushed() {
    let sim = PmCloudSim::start(SimConfig::default()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let notifier = notifier_with(simulator_secret("https://acme.service-now.com"), &store);
    // Decided while pmCloud was absent: not_configured from the start, and the notifier leaves it so.
    let never = decided(&store, "pmc-never", |r| {
        r.decided(approval(Duration::Once), ticket(), false, now())
            .unwrap()
    })
    .await;
    assert_eq!(
        notifier.push(&never.id).await.unwrap(),
        Pushed::AlreadyDone(Some(NotificationState::NotConfigured))
    );
    // Decided while pmCloud was there, but removed before the push: not pushed either.
    let removed = approved(&store, "pmc-removed", Duration::Once).await;
    assert_eq!(
        notifier.push(&removed.id).await.unwrap(),
        Pushed::NotConfigured
    );
    let state = notification(&store, &removed).await;
    assert_eq!(
        (state["state"].as_str(), state["attempts"].as_u64()),
        (Some("not_configured"), Some(0))
    );
    assert_eq!(sim.stats().notification_calls + sim.stats().token_grants, 0);
}

#[tokio::test]
async fn a_decision_another_push_holds_is_left_to_it() {
    let (sim, notifier, store) = setup().await;
    let record = approved(&store, "pmc-leased", Duration::Once).await;
    let leased = record.leased(now() + chrono::Duration::seconds(60));
    store.replace(&leased).await.unwrap();
    assert_eq!(notifier.push(&record.id).await.unwrap(), Pushed::InFlight);
    assert_eq!(sim.stats().notification_calls, 0);
}

#[tokio::test]
async fn unusable_settings_leave_the_decision_pending_for_a_later_pass() {
    let sim = PmCloudSim::start(SimConfig::default()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let notifier = notifier_with("{\"servicenow\": {}}".into(), &store);
    let record = approved(&store, "pmc-settings", Duration::Once).await;
    assert!(matches!(
        notifier.push(&record.id).await.unwrap(),
        Pushed::Deferred(_)
    ));
    assert_eq!(notification(&store, &record).await["state"], "pending");
    assert_eq!(sim.stats().notification_calls, 0);
}

/// An admin request for `pmc`, approved for `duration`, stored.
async fn admin_approved(store: &Store, pmc: &str, duration: Duration) -> RequestRecord {
    let mut body = sample_body(pmc);
    body["requestType"] = json!("admin");
    body["requestedDuration"] = json!({"type": "minutes", "value": 90});
    let record = RequestRecord::new(
        Submission::parse(body.as_object().unwrap(), false).unwrap(),
        crate::domain::ids::RequestId::random(),
        now(),
    )
    .ticketed(ticket(), now())
    .unwrap()
    .decided(approval(duration), ticket(), true, now())
    .unwrap();
    store.create(&record).await.unwrap();
    record
}

#[tokio::test]
async fn an_admin_session_of_90_minutes_reaches_the_admin_decision_path_as_5400_seconds() {
    let sim = PmCloudSim::start(SimConfig::default()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let mut secret: Value = serde_json::from_str(&with_pm_cloud(
        &simulator_secret("https://acme.service-now.com"),
        &sim.base_url(),
    ))
    .unwrap();
    secret["pmCloud"]["adminDecisionPath"] = json!(ADMIN_DECISION_PATH);
    let notifier = notifier_with(secret.to_string(), &store);
    let admin = admin_approved(&store, "pmc-admin-90", Duration::Minutes(90)).await;
    let application = approved(&store, "pmc-app", Duration::Hours(1)).await;
    assert!(
        process(&notifier, batch_of(&[&admin, &application]))
            .await
            .is_empty()
    );

    let received = sim.notifications();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].path, ADMIN_DECISION_PATH);
    assert_eq!(received[0].body["itsmRequestId"], "pmc-admin-90");
    assert_eq!(received[0].body["duration"], "5400");
    assert_eq!(
        received[1].path, "/management-api/v2/AuthorizationRequest/notification",
        "application decisions keep the notification call"
    );
}

#[tokio::test]
async fn without_an_admin_decision_path_admin_decisions_go_where_application_ones_do() {
    let (sim, notifier, store) = setup().await;
    let admin = admin_approved(&store, "pmc-admin-2h", Duration::Hours(2)).await;
    assert!(process(&notifier, batch_of(&[&admin])).await.is_empty());
    let received = sim.notifications();
    assert_eq!(
        received[0].path,
        "/management-api/v2/AuthorizationRequest/notification"
    );
    assert_eq!(received[0].body["duration"], "7200");
}
