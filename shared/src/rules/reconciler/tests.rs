//! The reconciler driven against the in-memory store, the ServiceNow simulator and the PM Cloud simulator: each
//! test strands something the way an outage, a lost webhook or a rate limit would, and checks one run finds it.

use super::*;
use crate::domain::base_url::Hosts;
use crate::domain::ids::RequestId;
use crate::domain::record::{NotificationState, RequestRecord};
use crate::domain::request::Submission;
use crate::domain::status::Status;
use crate::domain::time::{Timestamp, now};
use crate::outbound::client::http_client_with_timeout;
use crate::pmcloud::PmCloudClient;
use crate::rules::ticket_creator::TicketCreator;
use crate::runtime::serve::Trigger;
use crate::secrets::StaticSettings;
use crate::servicenow::ServiceNowClient;
use crate::servicenow::parse_datetime;
use crate::store::{MemoryStore, RequestStore, SharedState};
use pmcloud_sim::PmCloudSim;
use servicenow_sim::{Fault, FaultTarget, RateLimit, SimConfig, SimDecision, Simulator};
use std::sync::Arc;
use test_support::{sample_body, simulator_secret, with_pm_cloud};

pub(crate) type Store = Arc<MemoryStore>;

pub(crate) struct World {
    pub(crate) sn: Simulator,
    pub(crate) pmc: PmCloudSim,
    pub(crate) store: Store,
    pub(crate) reconciler: Reconciler<Store, StaticSettings>,
    pub(crate) secret: String,
}

pub(crate) fn client() -> ServiceNowClient {
    ServiceNowClient::new(http_client_with_timeout(
        std::time::Duration::from_millis(800),
        Hosts::Local,
    ))
}

pub(crate) async fn world() -> World {
    let sn = Simulator::start(SimConfig::default()).await.unwrap();
    let pmc = PmCloudSim::start(pmcloud_sim::SimConfig::default())
        .await
        .unwrap();
    let secret = with_pm_cloud(&simulator_secret(&sn.base_url()), &pmc.base_url());
    world_of(sn, pmc, secret)
}

/// A reconciler over the settings `secret` (which name `sn` and `pmc`) and an empty store.
pub(crate) fn world_of(sn: Simulator, pmc: PmCloudSim, secret: String) -> World {
    let store = Arc::new(MemoryStore::new());
    let reconciler = Reconciler::new(
        Arc::clone(&store),
        StaticSettings::new(secret.clone()),
        client(),
        pm_cloud_client(),
        Thresholds::default(),
    );
    World {
        sn,
        pmc,
        store,
        reconciler,
        secret,
    }
}

/// A PM Cloud client that gives up after 800 ms, for the simulator on this machine.
pub(crate) fn pm_cloud_client() -> PmCloudClient {
    PmCloudClient::new(http_client_with_timeout(
        std::time::Duration::from_millis(800),
        Hosts::Local,
    ))
}

/// A run with a minute to go.
pub(crate) async fn run(w: &World) -> Swept {
    w.reconciler
        .run(
            Trigger::Schedule
                .deadline(std::time::SystemTime::now() + std::time::Duration::from_secs(60)),
        )
        .await
}

pub(crate) fn minutes_ago(minutes: i64) -> Timestamp {
    now() - chrono::Duration::minutes(minutes)
}

/// A request PM Cloud submitted `minutes` ago, still pending.
async fn pending_since(store: &Store, pmc: &str, minutes: i64) -> RequestRecord {
    let body = sample_body(pmc);
    let record = RequestRecord::new(
        Submission::parse(body.as_object().unwrap(), false).unwrap(),
        crate::domain::ids::RequestId::random(),
        minutes_ago(minutes),
    );
    store.create(&record).await.unwrap();
    record
}

pub(crate) async fn current(store: &Store, id: &RequestId) -> RequestRecord {
    store.get(id).await.unwrap().unwrap()
}

fn tickets_for(sim: &Simulator, record: &RequestRecord) -> usize {
    sim.tickets()
        .iter()
        .filter(|t| t["correlation_id"] == record.id.as_str())
        .count()
}

/// Ticketed the usual way (ticket-creator), as the stream would have done it.
pub(crate) async fn ticketed(w: &World, pmc: &str) -> (RequestRecord, String) {
    let record = pending_since(&w.store, pmc, 0).await;
    let creator = TicketCreator::new(
        Arc::clone(&w.store),
        StaticSettings::new(w.secret.clone()),
        client(),
        PmCloudClient::new(http_client_with_timeout(
            std::time::Duration::from_millis(700),
            Hosts::Local,
        )),
    );
    creator.process(&record.id).await.unwrap();
    let record = current(&w.store, &record.id).await;
    let sys_id = record.ticket.as_ref().unwrap().sys_id.to_string();
    (record, sys_id)
}

#[tokio::test]
async fn a_decision_whose_webhook_never_arrived_is_recorded_after_one_sweep() {
    let w = world().await;
    let (record, sys_id) = ticketed(&w, "pmc-lost-webhook").await;
    // The approver approves; ServiceNow's business rule never manages to send the webhook.
    let decision = SimDecision {
        approval: Some("approved".into()),
        duration: Some("4 hours".into()),
        notes: Some("OK".into()),
        by: Some("alice.approver".into()),
        active: None,
        send_webhook: Some(false),
    };
    w.sn.decide("incident", &sys_id, decision).await.ok();
    assert_eq!(current(&w.store, &record.id).await.status, Status::Ticketed);

    let swept = run(&w).await;
    assert_eq!(swept.problems, Vec::<String>::new());
    assert_eq!(swept.decisions_recorded, 1);
    let now = current(&w.store, &record.id).await;
    assert_eq!(now.status, Status::Approved);
    let decision = now.decision.unwrap();
    let updated_on = parse_datetime(
        w.sn.ticket("incident", &sys_id).unwrap()["sys_updated_on"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(decision.decided_at, updated_on);
    assert_eq!(
        decision.expires_at,
        Some(updated_on + chrono::Duration::hours(4))
    );
    assert_eq!(decision.decided_by.as_deref(), Some("alice.approver"));
    assert_eq!(
        now.pm_cloud_notification.unwrap().state,
        NotificationState::Pending,
        "decision-notifier pushes it through the stream"
    );

    // The watermark moved: the next run reads only what changed since (minus the margin), and changes nothing.
    let again = run(&w).await;
    assert_eq!(again.tickets_read, 1, "re-read within the margin");
    assert_eq!(again.decisions_recorded, 0, "a decision is final");
    assert_eq!(current(&w.store, &record.id).await.status, Status::Approved);
}

#[tokio::test]
async fn a_request_stranded_by_a_long_outage_is_ticketed_once_after_it() {
    let w = world().await;
    let stranded = pending_since(&w.store, "pmc-outage", 45).await;
    let recent = pending_since(&w.store, "pmc-recent", 1).await;
    w.sn.inject(Fault::Status {
        target: FaultTarget::AnyTable,
        status: 503,
        retry_after_secs: None,
        times: 3,
    });
    let during = run(&w).await;
    assert_eq!(
        current(&w.store, &stranded.id).await.status,
        Status::Pending,
        "{during:?}"
    );

    let after = run(&w).await;
    assert_eq!(
        after.requests_driven, 1,
        "only the one pending for more than 10 minutes"
    );
    assert_eq!(
        current(&w.store, &stranded.id).await.status,
        Status::Ticketed
    );
    assert_eq!(tickets_for(&w.sn, &stranded), 1);
    assert_eq!(
        current(&w.store, &recent.id).await.status,
        Status::Pending,
        "the stream's to take"
    );

    run(&w).await;
    assert_eq!(tickets_for(&w.sn, &stranded), 1, "still exactly one");
}

#[tokio::test]
async fn a_rate_limited_backlog_is_driven_at_the_pace_servicenow_allows() {
    let w = world().await;
    let mut waiting = Vec::new();
    for i in 0..5 {
        waiting.push(pending_since(&w.store, &format!("pmc-burst-{i}"), 30 - i).await);
    }
    // Two creates a window (the lookups pass); each run creates two, then meets the 429 and stops.
    w.sn.set_rate_limit(Some(RateLimit {
        limit: 2,
        window_secs: 3600,
        target: FaultTarget::TableCreate,
    }));
    let swept = run(&w).await;
    assert!(swept.left_for_next_run);
    let ticketed: Vec<bool> = futures_ticketed(&w, &waiting).await;
    assert_eq!(ticketed, [true, true, false, false, false], "oldest first");
    assert_eq!(
        w.sn.stats().rate_limited,
        1,
        "one 429, then the pause holds"
    );
    assert!(
        w.store
            .paused_until(Remote::ServiceNow)
            .await
            .unwrap()
            .unwrap()
            > now()
    );

    // Within the pause a run asks ServiceNow for no ticket at all.
    let creates = w.sn.stats().creates;
    run(&w).await;
    assert_eq!(w.sn.stats().creates, creates);
    assert_eq!(w.sn.stats().rate_limited, 1);
}

async fn futures_ticketed(w: &World, records: &[RequestRecord]) -> Vec<bool> {
    let mut ticketed = Vec::new();
    for record in records {
        ticketed.push(current(&w.store, &record.id).await.status == Status::Ticketed);
    }
    ticketed
}

#[tokio::test]
async fn a_push_pending_for_more_than_10_minutes_is_pushed_again() {
    let w = world().await;
    let (record, _) = ticketed(&w, "pmc-push-again").await;
    let decided = record
        .cancelled(record.ticket.clone().unwrap(), true, minutes_ago(20))
        .unwrap();
    w.store.replace(&decided).await.unwrap();
    let fresh = {
        let (record, _) = ticketed(&w, "pmc-push-fresh").await;
        let decided = record
            .cancelled(record.ticket.clone().unwrap(), true, now())
            .unwrap();
        w.store.replace(&decided).await.unwrap();
        record
    };
    let swept = run(&w).await;
    assert_eq!(swept.pushes_tried, 1);
    let notification = current(&w.store, &record.id)
        .await
        .pm_cloud_notification
        .unwrap();
    assert_eq!(
        (notification.state, notification.attempts),
        (NotificationState::Delivered, 1)
    );
    assert_eq!(w.pmc.notifications().len(), 1);
    assert_eq!(
        current(&w.store, &fresh.id)
            .await
            .pm_cloud_notification
            .unwrap()
            .state,
        NotificationState::Pending,
        "the stream's to push"
    );
}

#[tokio::test]
async fn the_backlogs_over_an_hour_are_counted() {
    let w = world().await;
    pending_since(&w.store, "pmc-old-1", 61).await;
    pending_since(&w.store, "pmc-old-2", 90).await;
    pending_since(&w.store, "pmc-young", 30).await;
    // ServiceNow is down for the whole run, so they stay.
    w.sn.inject(Fault::Status {
        target: FaultTarget::AnyTable,
        status: 503,
        retry_after_secs: None,
        times: 100,
    });
    let swept = run(&w).await;
    assert_eq!(swept.pending_over_an_hour, 2);
    assert_eq!(swept.undelivered_over_an_hour, 0);
}

#[tokio::test]
async fn a_run_without_time_leaves_everything_for_the_next() {
    let w = world().await;
    let stranded = pending_since(&w.store, "pmc-no-time", 30).await;
    // Ten seconds left: less than a run keeps for itself.
    let deadline = std::time::SystemTime::now() + std::time::Duration::from_secs(10);
    let swept = w.reconciler.run(Trigger::Schedule.deadline(deadline)).await;
    assert!(swept.left_for_next_run);
    assert_eq!((swept.tickets_read, swept.requests_driven), (0, 0));
    assert_eq!(
        current(&w.store, &stranded.id).await.status,
        Status::Pending
    );
    assert_eq!(w.sn.stats().table_requests, 0);
}

/// Keyset paging (CONTRACT §13 v3): a ticket updated between two pages moves to the end of the order, and no
/// ticket behind it is skipped (with `sysparm_offset` the ticket after the first page would be).
#[tokio::test]
async fn a_ticket_updated_between_pages_skips_no_other() {
    use crate::secrets::SettingsSource;
    let w = world().await;
    let mut sys_ids = Vec::new();
    for i in 0..4 {
        sys_ids.push(ticketed(&w, &format!("pmc-keyset-{i}")).await.1);
    }
    let settings = StaticSettings::new(w.secret.clone())
        .settings()
        .await
        .unwrap();
    let sn = &settings.servicenow;
    let client = client();
    let table = client.table(sn, sn.task_type);
    let since = minutes_ago(5);
    let first = table.updated_since(since, None, 2).await.unwrap();
    assert_eq!(first.len(), 2);
    // The first page's first ticket is updated a second later: it now sorts last.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let moved = first[0].sys_id().unwrap().to_string();
    let quiet = SimDecision {
        notes: Some("a note".into()),
        send_webhook: Some(false),
        ..SimDecision::default()
    };
    w.sn.decide("incident", &moved, quiet).await.ok();
    let mut read: Vec<String> = first
        .iter()
        .map(|r| r.sys_id().unwrap().to_string())
        .collect();
    let mut after = first
        .last()
        .map(|r| (r.updated_on().unwrap(), r.sys_id().unwrap()));
    loop {
        let cursor = after.as_ref().map(|(at, id)| (*at, id));
        let page = table.updated_since(since, cursor, 2).await.unwrap();
        read.extend(page.iter().map(|r| r.sys_id().unwrap().to_string()));
        if page.len() < 2 {
            break;
        }
        after = page
            .last()
            .map(|r| (r.updated_on().unwrap(), r.sys_id().unwrap()));
    }
    for sys_id in &sys_ids {
        assert!(read.contains(sys_id), "{sys_id} was skipped: {read:?}");
    }
    assert_eq!(
        read.iter().filter(|id| **id == moved).count(),
        2,
        "before and after its update"
    );
}

/// The watermark is the last `sys_updated_on` ServiceNow answered, in ServiceNow's clock (CONTRACT §13 v3), not the
/// time of the run: an update ServiceNow stamps earlier than AWS's clock is still within the next run's margin.
#[tokio::test]
async fn the_watermark_is_servicenows_last_update_time() {
    let w = world().await;
    let (_, sys_id) = ticketed(&w, "pmc-watermark").await;
    run(&w).await;
    let stamped = parse_datetime(
        w.sn.ticket("incident", &sys_id).unwrap()["sys_updated_on"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(w.store.watermark().await.unwrap(), Some(stamped));
    // A run that reads nothing new keeps it: it never moves to the run's own time.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    run(&w).await;
    assert_eq!(w.store.watermark().await.unwrap(), Some(stamped));
}
