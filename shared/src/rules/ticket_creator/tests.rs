//! Ticket creation driven through the rules with batches of stream items, against the in-memory store and the
//! ServiceNow simulator. Each test says what a retried, redelivered or refused ticket creation leaves behind.

use super::*;
use crate::domain::base_url::Hosts;
use crate::domain::ids::SysId;
use crate::domain::request::Submission;
use crate::domain::ticket::TaskType;
use crate::outbound::client::{HttpClient, http_client_with_timeout};
use crate::rules::stream::tests::batch_of;
use crate::runtime::serve::Trigger;
use crate::secrets::StaticSettings;
use crate::store::MemoryStore;
use pmcloud_sim::{
    Fault as PmCloudFault, FaultTarget as PmCloudTarget, JitAccess as PmCloudJit, PmCloudSim,
    SimConfig as PmCloudConfig,
};
use serde_json::Value;
use serde_json::json;
use servicenow_sim::{Fault, FaultTarget, SimConfig, SimUser, Simulator};
use std::sync::Arc;
use std::time::Duration;
use test_support::{sample_body, simulator_secret, with_pm_cloud};

/// A batch as the handler hands it over, with a deadline far enough away; the identifiers reported as failed.
async fn process<S: RequestStore + SharedState + Clone, C: SettingsSource>(
    rules: &TicketCreator<S, C>,
    items: Vec<StreamItem>,
) -> Vec<String> {
    rules
        .process_batch(
            items,
            Trigger::Stream.deadline(std::time::SystemTime::now() + Duration::from_secs(60)),
        )
        .await
}

type Creator = TicketCreator<Arc<MemoryStore>, StaticSettings>;

type Store = Arc<MemoryStore>;

/// A stored request for `pmc_request_id`, as `request-intake` would have stored it.
fn sample_record(pmc_request_id: &str) -> RequestRecord {
    let body = sample_body(pmc_request_id);
    RequestRecord::new(
        Submission::parse(body.as_object().unwrap(), false).unwrap(),
        crate::domain::ids::RequestId::random(),
        crate::domain::time::now(),
    )
}

/// A client that gives up quickly, so that "slow" and "lost" answers are cheap to stage.
fn quick_client() -> ServiceNowClient {
    let http = reqwest_client(Duration::from_millis(700));
    ServiceNowClient::new(http)
}

/// A PM Cloud client for settings without `pmCloud`: never called.
fn quick_pm_cloud() -> PmCloudClient {
    PmCloudClient::new(reqwest_client(Duration::from_millis(700)))
}

fn reqwest_client(timeout: Duration) -> HttpClient {
    http_client_with_timeout(timeout, Hosts::Local)
}

/// The simulator, ticket-creator over an in-memory store, and that store.
async fn setup(config: SimConfig) -> (Simulator, Creator, Store) {
    let sim = Simulator::start(config).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let creator = TicketCreator::new(
        Arc::clone(&store),
        StaticSettings::new(simulator_secret(&sim.base_url())),
        quick_client(),
        quick_pm_cloud(),
    );
    (sim, creator, store)
}

async fn stored(store: &Store, pmc: &str) -> RequestRecord {
    let record = sample_record(pmc);
    store.create(&record).await.unwrap();
    record
}

/// A stored request that an earlier attempt tried already (its create got an answer), so the next one looks up
/// before creating.
async fn retried(store: &Store, pmc: &str) -> RequestRecord {
    let record = RequestRecord {
        create_attempts: Some(1),
        ..sample_record(pmc)
    };
    store.create(&record).await.unwrap();
    record
}

async fn current(store: &Store, record: &RequestRecord) -> RequestRecord {
    store.get(&record.id).await.unwrap().unwrap()
}

fn tickets_for(sim: &Simulator, record: &RequestRecord) -> Vec<Value> {
    sim.tickets()
        .into_iter()
        .filter(|t| t["correlation_id"] == record.id.as_str())
        .collect()
}

#[tokio::test]
async fn a_new_request_gets_one_ticket_carrying_the_request() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let record = stored(&store, "pmc-new").await;
    let response = process(&creator, batch_of(&[&record])).await;
    assert!(response.is_empty());

    let tickets = tickets_for(&sim, &record);
    assert_eq!(tickets.len(), 1);
    let ticket = &tickets[0];
    assert_eq!(ticket["sys_class_name"], "incident");
    assert_eq!(ticket["correlation_display"], "PM Cloud");
    assert_eq!(ticket["approval"], "requested");
    assert_eq!(
        ticket["short_description"],
        "Elevation request: Wireshark for Jane Doe on LT-0042"
    );
    assert!(
        ticket["description"]
            .as_str()
            .unwrap()
            .starts_with("PM Cloud request id: pmc-new\n")
    );

    let now = current(&store, &record).await;
    assert_eq!(now.status, Status::Ticketed);
    let recorded = now.ticket.unwrap();
    assert_eq!(recorded.number, ticket["number"].as_str().unwrap());
    assert_eq!(recorded.sys_id, ticket["sys_id"].as_str().unwrap());
    assert_eq!(recorded.table.table(), "incident");
    assert_eq!(
        recorded.url,
        format!(
            "{}/nav_to.do?uri=incident.do%3Fsys_id%3D{}",
            sim.base_url(),
            recorded.sys_id
        )
    );
}

#[tokio::test]
async fn the_same_record_delivered_twice_makes_one_ticket() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let record = stored(&store, "pmc-twice").await;
    process(&creator, batch_of(&[&record])).await;
    let second = process(&creator, batch_of(&[&record])).await;
    assert!(second.is_empty());
    assert_eq!(tickets_for(&sim, &record).len(), 1);
    assert_eq!(current(&store, &record).await.status, Status::Ticketed);
}

/// Moves the request's lease into the past, as if its 120 s had run out.
async fn lease_runs_out(store: &Store, record: &RequestRecord) {
    let leased = current(store, record).await;
    assert!(leased.lease_until.is_some(), "the create left its lease");
    let expired = leased.leased(crate::domain::time::now() - chrono::Duration::seconds(1));
    store.replace(&expired).await.unwrap();
}

#[tokio::test]
async fn a_create_that_got_no_answer_is_left_alone_until_its_lease_ends_then_found_not_made_again()
{
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let record = stored(&store, "pmc-lost").await;
    sim.inject(Fault::LoseCreateResponse {
        hold_millis: 2_000,
        times: 1,
    });

    let first = process(&creator, batch_of(&[&record])).await;
    assert!(
        first.is_empty(),
        "the request waits; retrying it at once could not help"
    );
    assert_eq!(current(&store, &record).await.status, Status::Pending);
    assert_eq!(
        tickets_for(&sim, &record).len(),
        1,
        "ServiceNow did create it"
    );

    // A redelivery within the lease neither looks up nor creates.
    let requests_before = sim.stats().table_requests;
    let within = process(&creator, batch_of(&[&record])).await;
    assert!(within.is_empty());
    assert_eq!(sim.stats().table_requests, requests_before);
    assert_eq!(current(&store, &record).await.status, Status::Pending);

    lease_runs_out(&store, &record).await;
    let after = process(&creator, batch_of(&[&record])).await;
    assert!(after.is_empty());
    assert_eq!(
        tickets_for(&sim, &record).len(),
        1,
        "the attempt after the lease found it instead of creating a second"
    );
    assert_eq!(sim.stats().creates, 1);
    assert_eq!(current(&store, &record).await.status, Status::Ticketed);
}

#[tokio::test]
async fn a_create_servicenow_commits_late_leaves_exactly_one_ticket() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let record = stored(&store, "pmc-late").await;
    // The client gives up after 700 ms; ServiceNow commits after 1.5 s (in production: 10 s against up to 60 s).
    sim.inject(Fault::CommitLate {
        delay_millis: 1_500,
        times: 1,
    });
    assert!(process(&creator, batch_of(&[&record])).await.is_empty());
    assert!(tickets_for(&sim, &record).is_empty(), "not committed yet");
    // A redelivery during the lease does not look up (it would find nothing yet) and does not create.
    process(&creator, batch_of(&[&record])).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(tickets_for(&sim, &record).len(), 1, "committed late");

    lease_runs_out(&store, &record).await;
    process(&creator, batch_of(&[&record])).await;
    assert_eq!(tickets_for(&sim, &record).len(), 1, "exactly one ticket");
    assert_eq!(sim.stats().creates, 1);
    assert_eq!(current(&store, &record).await.status, Status::Ticketed);
}

#[tokio::test]
async fn a_create_that_got_an_answer_needs_no_wait() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let record = stored(&store, "pmc-500-create").await;
    sim.inject(Fault::Status {
        target: FaultTarget::TableCreate,
        status: 500,
        retry_after_secs: None,
        times: 1,
    });
    assert_eq!(process(&creator, batch_of(&[&record])).await, ["1"]);
    assert_eq!(
        current(&store, &record).await.lease_until,
        None,
        "the lease ended"
    );
    assert!(process(&creator, batch_of(&[&record])).await.is_empty());
    assert_eq!(current(&store, &record).await.status, Status::Ticketed);
}

#[tokio::test]
async fn a_create_servicenow_stored_without_the_correlation_id_fails_naming_the_ticket() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let record = stored(&store, "pmc-dropped").await;
    sim.inject(Fault::DropField {
        field: "correlation_id".into(),
        times: 1,
    });
    assert!(process(&creator, batch_of(&[&record])).await.is_empty());
    let (code, detail) = failed_with(&store, &record).await;
    assert_eq!(code, "correlation_not_stored");
    assert!(detail.contains("INC0010001"), "{detail}");
    assert_eq!(sim.stats().creates, 1);
}

/// A request's first attempt sends one Table API call, the create: no create was sent before it, so no ticket can
/// carry its id. Every later attempt looks up first, since an earlier create may have been stored (CONTRACT §9).
#[tokio::test]
async fn only_an_attempt_after_a_create_was_sent_looks_up_first() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let first = stored(&store, "pmc-first").await;
    let before = sim.stats().table_requests;
    assert!(process(&creator, batch_of(&[&first])).await.is_empty());
    assert_eq!(current(&store, &first).await.status, Status::Ticketed);
    assert_eq!(sim.stats().table_requests - before, 1, "the create alone");

    let again = stored(&store, "pmc-again").await;
    sim.inject(Fault::Status {
        target: FaultTarget::TableCreate,
        status: 503,
        retry_after_secs: None,
        times: 1,
    });
    assert_eq!(process(&creator, batch_of(&[&again])).await, ["1"]);
    assert_eq!(current(&store, &again).await.create_attempts, Some(1));
    let before = sim.stats().table_requests;
    assert!(process(&creator, batch_of(&[&again])).await.is_empty());
    assert_eq!(
        sim.stats().table_requests - before,
        2,
        "the lookup, then the create"
    );
    assert_eq!(tickets_for(&sim, &again).len(), 1);

    let legacy = RequestRecord {
        create_attempts: None,
        ..sample_record("pmc-legacy")
    };
    store.create(&legacy).await.unwrap();
    let before = sim.stats().table_requests;
    assert!(process(&creator, batch_of(&[&legacy])).await.is_empty());
    assert_eq!(
        sim.stats().table_requests - before,
        2,
        "a request stored before attempts were counted is looked up"
    );
}

/// The hold on a create in doubt runs 120 s from when the create was sent, not from when the attempt began
/// (CONTRACT §9): here the lookup before it (an earlier attempt got an answer) takes 2 s (times are kept to the
/// second).
#[tokio::test]
async fn the_hold_on_a_create_in_doubt_counts_from_the_create() {
    let (sim, _, store) = setup(SimConfig::default()).await;
    let patient = reqwest_client(Duration::from_secs(3));
    let creator = TicketCreator::new(
        Arc::clone(&store),
        StaticSettings::new(simulator_secret(&sim.base_url())),
        ServiceNowClient::new(patient.clone()),
        PmCloudClient::new(patient),
    );
    let record = retried(&store, "pmc-in-doubt").await;
    sim.inject(Fault::Delay {
        target: FaultTarget::TableRead,
        millis: 2_000,
        times: 1,
    });
    sim.inject(Fault::LoseCreateResponse {
        hold_millis: 5_000,
        times: 1,
    });
    let began = now();
    assert!(process(&creator, batch_of(&[&record])).await.is_empty());
    let held = current(&store, &record).await;
    assert_eq!(held.status, Status::Pending);
    let until = held
        .lease_until
        .expect("the create in doubt holds the request");
    assert!(
        until >= began + chrono::Duration::seconds(1) + CREATE_LEASE,
        "held until {until:?}, which is not 120 s after the create was sent (the attempt began at {began:?})"
    );
    assert_eq!(
        tickets_for(&sim, &record).len(),
        1,
        "ServiceNow did create it"
    );
}

#[tokio::test]
async fn an_html_page_instead_of_json_is_transient_and_says_so() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let record = stored(&store, "pmc-html").await;
    sim.inject(Fault::Html {
        target: FaultTarget::TableCreate,
        status: 200,
        times: 1,
    });
    let pushed = creator.process(&record.id).await.unwrap_err();
    assert!(pushed.detail.contains("an HTML page"), "{}", pushed.detail);
    assert_eq!(current(&store, &record).await.status, Status::Pending);
    assert!(process(&creator, batch_of(&[&record])).await.is_empty());
    assert_eq!(current(&store, &record).await.status, Status::Ticketed);
}

#[tokio::test]
async fn a_short_429_is_waited_out_in_place() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let record = stored(&store, "pmc-429").await;
    sim.inject(Fault::Status {
        target: FaultTarget::TableCreate,
        status: 429,
        retry_after_secs: Some(1),
        times: 1,
    });
    let started = std::time::Instant::now();
    let response = process(&creator, batch_of(&[&record])).await;
    assert!(response.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(tickets_for(&sim, &record).len(), 1);
}

#[tokio::test]
async fn a_long_429_pauses_every_function_and_leaves_the_request_pending_without_a_retry() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let record = stored(&store, "pmc-429-long").await;
    let other = stored(&store, "pmc-429-other").await;
    sim.inject(Fault::Status {
        target: FaultTarget::AnyTable,
        status: 429,
        retry_after_secs: Some(600),
        times: 1,
    });
    let started = crate::domain::time::now();
    let response = process(&creator, batch_of(&[&record, &other])).await;
    assert!(
        response.is_empty(),
        "the batch is done: the reconciler drives the requests after the pause"
    );
    for request in [&record, &other] {
        assert_eq!(current(&store, request).await.status, Status::Pending);
        assert_eq!(current(&store, request).await.lease_until, None);
    }
    assert!(tickets_for(&sim, &record).is_empty());
    let pause = store
        .paused_until(Remote::ServiceNow)
        .await
        .unwrap()
        .unwrap();
    assert!(pause >= started + chrono::Duration::seconds(599), "{pause}");

    // Another invocation meets the recorded pause and asks ServiceNow nothing.
    let requests_before = sim.stats().table_requests;
    assert!(process(&creator, batch_of(&[&record])).await.is_empty());
    assert_eq!(sim.stats().table_requests, requests_before);
}

#[tokio::test]
async fn server_errors_and_timeouts_are_transient() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let record = stored(&store, "pmc-5xx").await;
    // The token endpoint first: later the token is kept and no grant is asked for.
    for fault in [
        Fault::Status {
            target: FaultTarget::Oauth,
            status: 502,
            retry_after_secs: None,
            times: 1,
        },
        Fault::Status {
            target: FaultTarget::TableCreate,
            status: 503,
            retry_after_secs: None,
            times: 1,
        },
        Fault::Status {
            target: FaultTarget::TableRead,
            status: 500,
            retry_after_secs: None,
            times: 1,
        },
        Fault::Delay {
            target: FaultTarget::TableRead,
            millis: 1_500,
            times: 1,
        },
    ] {
        sim.inject(fault.clone());
        let response = process(&creator, batch_of(&[&record])).await;
        assert_eq!(response, ["1"], "{fault:?}");
        assert_eq!(
            current(&store, &record).await.status,
            Status::Pending,
            "{fault:?}"
        );
    }
    process(&creator, batch_of(&[&record])).await;
    assert_eq!(tickets_for(&sim, &record).len(), 1);
    assert_eq!(current(&store, &record).await.status, Status::Ticketed);
}

#[tokio::test]
async fn many_tickets_share_one_oauth_grant() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let mut records = Vec::new();
    for i in 0..12 {
        records.push(stored(&store, &format!("pmc-many-{i}")).await);
    }
    for chunk in records.chunks(4) {
        let batch: Vec<&RequestRecord> = chunk.iter().collect();
        assert!(process(&creator, batch_of(&batch)).await.is_empty());
    }
    let stats = sim.stats();
    assert_eq!((stats.password_grants, stats.refresh_grants), (1, 0));
    assert_eq!(stats.creates, 12);
    let numbers: std::collections::HashSet<_> =
        sim.tickets().iter().map(|t| t["number"].clone()).collect();
    assert_eq!(numbers.len(), 12, "every request its own ticket");
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_not_regranted() {
    let (sim, creator, store) = setup(SimConfig {
        token_lifetime_secs: 1,
        ..SimConfig::default()
    })
    .await;
    let first = stored(&store, "pmc-refresh-1").await;
    process(&creator, batch_of(&[&first])).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let second = stored(&store, "pmc-refresh-2").await;
    assert!(process(&creator, batch_of(&[&second])).await.is_empty());
    let stats = sim.stats();
    assert_eq!((stats.password_grants, stats.refresh_grants), (1, 1));
}

#[tokio::test]
async fn a_401_gets_one_reauthentication_and_one_retry() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    process(&creator, batch_of(&[&stored(&store, "pmc-401-a").await])).await;
    sim.expire_access_tokens();
    let record = stored(&store, "pmc-401-b").await;
    assert!(process(&creator, batch_of(&[&record])).await.is_empty());
    assert_eq!(tickets_for(&sim, &record).len(), 1);
    let stats = sim.stats();
    assert_eq!(
        (stats.password_grants, stats.refresh_grants),
        (1, 1),
        "renewed with the refresh token"
    );
}

#[tokio::test]
async fn a_refused_refresh_falls_back_to_a_password_grant() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    process(
        &creator,
        batch_of(&[&stored(&store, "pmc-fallback-a").await]),
    )
    .await;
    sim.expire_access_tokens();
    sim.revoke_refresh_tokens();
    let record = stored(&store, "pmc-fallback-b").await;
    assert!(process(&creator, batch_of(&[&record])).await.is_empty());
    assert_eq!(tickets_for(&sim, &record).len(), 1);
    let stats = sim.stats();
    assert_eq!(stats.password_grants, 2);
    assert_eq!(stats.failed_grants, 1, "the refused refresh");
}

async fn failed_with(store: &Store, record: &RequestRecord) -> (String, String) {
    let now = current(store, record).await;
    assert_eq!(now.status, Status::Failed);
    let failure = now.failure.unwrap();
    (failure.code.as_str().to_owned(), failure.detail)
}

#[tokio::test]
async fn refused_credentials_fail_the_request_with_a_readable_detail() {
    let config = SimConfig {
        users: vec![SimUser {
            username: "svc.pm.connector".into(),
            password: "a-different-password".into(),
            tables: None,
        }],
        ..SimConfig::default()
    };
    let (sim, creator, store) = setup(config).await;
    let record = stored(&store, "pmc-badpw").await;
    let response = process(&creator, batch_of(&[&record])).await;
    assert!(response.is_empty(), "a permanent failure is not retried");
    let (code, detail) = failed_with(&store, &record).await;
    assert_eq!(code, "servicenow_auth_failed");
    assert!(
        detail.contains("401") && detail.contains("user name / password"),
        "{detail}"
    );
    assert!(!detail.contains("sim-password"), "no secret in the detail");
    assert!(sim.tickets().is_empty());
}

#[tokio::test]
async fn a_table_the_user_may_not_write_fails_the_request() {
    let config = SimConfig {
        users: vec![SimUser {
            username: "svc.pm.connector".into(),
            password: "sim-password".into(),
            tables: Some(vec!["sc_task".into()]),
        }],
        ..SimConfig::default()
    };
    let (_sim, creator, store) = setup(config).await;
    let record = stored(&store, "pmc-acl").await;
    process(&creator, batch_of(&[&record])).await;
    let (code, detail) = failed_with(&store, &record).await;
    assert_eq!(code, "servicenow_rejected");
    assert!(
        detail.starts_with("403 from the Table API: User Not Authorized"),
        "{detail}"
    );
}

#[tokio::test]
async fn rejected_fields_and_missing_tables_fail_the_request() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let rejected = stored(&store, "pmc-400").await;
    sim.inject(Fault::Status {
        target: FaultTarget::TableCreate,
        status: 400,
        retry_after_secs: None,
        times: 1,
    });
    process(&creator, batch_of(&[&rejected])).await;
    assert_eq!(
        failed_with(&store, &rejected).await.0,
        "servicenow_rejected"
    );

    let hidden = stored(&store, "pmc-404").await;
    sim.inject(Fault::Status {
        target: FaultTarget::TableCreate,
        status: 404,
        retry_after_secs: None,
        times: 1,
    });
    process(&creator, batch_of(&[&hidden])).await;
    let (code, detail) = failed_with(&store, &hidden).await;
    assert_eq!(code, "servicenow_not_found");
    assert!(detail.starts_with("404 from the Table API"), "{detail}");
    assert!(sim.tickets().is_empty());
}

/// An operator may be mid-edit: invalid settings leave requests pending for an hour, then fail them with
/// `settings_invalid`; ServiceNow is never called meanwhile.
#[tokio::test]
async fn invalid_settings_fail_requests_only_once_they_stayed_invalid_for_an_hour() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let secret = simulator_secret(&sim.base_url()).replace("\"incident\"", "\"problem\"");
    let store = Arc::new(MemoryStore::new());
    let creator = TicketCreator::new(
        Arc::clone(&store),
        StaticSettings::new(secret),
        quick_client(),
        quick_pm_cloud(),
    );
    let record = stored(&store, "pmc-settings").await;
    let failures = process(&creator, batch_of(&[&record])).await;
    assert!(failures.is_empty(), "nothing to retry at once");
    assert_eq!(
        store.get(&record.id).await.unwrap().unwrap().status,
        Status::Pending
    );

    // The note says since when; an hour later the same request fails.
    let noted = store.settings_invalid_since(now()).await.unwrap();
    assert!(now() - noted < chrono::Duration::minutes(1));
    store.settings_valid().await.unwrap();
    store
        .settings_invalid_since(now() - chrono::Duration::minutes(61))
        .await
        .unwrap();
    process(&creator, batch_of(&[&record])).await;
    let (code, detail) = failed_with(&store, &record).await;
    assert_eq!(code, "settings_invalid");
    assert!(detail.contains("servicenow.taskType"), "{detail}");
    assert_eq!(sim.stats().password_grants + sim.stats().failed_grants, 0);
}

#[tokio::test]
async fn one_transient_failure_reports_only_itself_and_leaves_later_records_for_the_redelivery() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let (a, b, c) = (
        stored(&store, "pmc-a").await,
        stored(&store, "pmc-b").await,
        stored(&store, "pmc-c").await,
    );
    process(&creator, batch_of(&[&a])).await;
    sim.inject(Fault::Status {
        target: FaultTarget::TableCreate,
        status: 503,
        retry_after_secs: None,
        times: 1,
    });

    let response = process(&creator, batch_of(&[&a, &b, &c])).await;
    assert_eq!(response, ["2"]);
    assert_eq!(current(&store, &a).await.status, Status::Ticketed);
    assert_eq!(current(&store, &b).await.status, Status::Pending);
    assert_eq!(current(&store, &c).await.status, Status::Pending);

    // The stream redelivers from the failed record on.
    let redelivery = process(&creator, batch_of(&[&b, &c])).await;
    assert!(redelivery.is_empty());
    for record in [&a, &b, &c] {
        assert_eq!(tickets_for(&sim, record).len(), 1);
    }
}

#[tokio::test]
async fn a_request_decided_before_its_ticket_was_recorded_is_left_alone() {
    let (sim, creator, store) = setup(SimConfig::default()).await;
    let record = stored(&store, "pmc-decided").await;
    let cancelled = record
        .cancelled(
            Ticket {
                table: TaskType::Incident,
                number: "INC0000001".into(),
                sys_id: SysId::parse(&"0".repeat(32)).unwrap(),
                url: "u".into(),
            },
            false,
            crate::domain::time::now(),
        )
        .unwrap();
    store.replace(&cancelled).await.unwrap();
    process(&creator, batch_of(&[&record])).await;
    assert!(sim.tickets().is_empty());
    assert_eq!(current(&store, &record).await.status, Status::Cancelled);
}

/// With `grantType` `client_credentials` no user password is sent; a token near expiry is renewed by a new grant
/// of the same kind (ServiceNow issues no refresh token for it), and tickets are created as the OAuth
/// application user.
#[tokio::test]
async fn the_client_credentials_grant_creates_tickets_and_is_renewed_by_a_new_grant() {
    let sim = Simulator::start(SimConfig {
        token_lifetime_secs: 1,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut secret: Value = serde_json::from_str(&simulator_secret(&sim.base_url())).unwrap();
    let sn = secret["servicenow"].as_object_mut().unwrap();
    sn.remove("username");
    sn.remove("password");
    sn.insert("grantType".into(), "client_credentials".into());
    let store = Arc::new(MemoryStore::new());
    let creator = TicketCreator::new(
        Arc::clone(&store),
        StaticSettings::new(secret.to_string()),
        quick_client(),
        quick_pm_cloud(),
    );
    let first = stored(&store, "pmc-cc-1").await;
    assert!(process(&creator, batch_of(&[&first])).await.is_empty());
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let second = stored(&store, "pmc-cc-2").await;
    assert!(process(&creator, batch_of(&[&second])).await.is_empty());
    for record in [&first, &second] {
        assert_eq!(current(&store, record).await.status, Status::Ticketed);
        assert_eq!(tickets_for(&sim, record).len(), 1);
    }
    let stats = sim.stats();
    assert_eq!(
        (
            stats.client_credentials_grants,
            stats.password_grants,
            stats.refresh_grants
        ),
        (2, 0, 0)
    );
}

/// ServiceNow's and PM Cloud's simulators, ticket-creator with `pmCloud` configured, and the store.
async fn setup_with_pm_cloud() -> (Simulator, PmCloudSim, Creator, Store) {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let pm_cloud = PmCloudSim::start(PmCloudConfig::default()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let secret = with_pm_cloud(&simulator_secret(&sim.base_url()), &pm_cloud.base_url());
    let creator = TicketCreator::new(
        Arc::clone(&store),
        StaticSettings::new(secret),
        quick_client(),
        quick_pm_cloud(),
    );
    (sim, pm_cloud, creator, store)
}

fn description(ticket: &Value) -> &str {
    ticket["description"].as_str().unwrap()
}

#[tokio::test]
async fn the_ticket_shows_the_values_pm_cloud_confirms() {
    let (sim, pm_cloud, creator, store) = setup_with_pm_cloud().await;
    let info = json!({"user": "ACME\\jdoe", "hostName": "LT-0099", "productDescription": "Wireshark 4.2",
                      "sha1Hash": "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3", "driveType": "Fixed"});
    pm_cloud.add_authorization_request(
        Some("pmc-confirmed".into()),
        info.as_object().unwrap().clone(),
    );
    let record = stored(&store, "pmc-confirmed").await;
    assert!(process(&creator, batch_of(&[&record])).await.is_empty());

    let ticket = &tickets_for(&sim, &record)[0];
    let text = description(ticket);
    for line in [
        "Confirmed by PM Cloud's Management API: user, computer, application, SHA-1, details;",
        "Computer: LT-0099",
        "Application: Wireshark 4.2",
        "SHA-1: a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
        "driveType: Fixed",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    assert!(
        !text.contains("Computer: LT-0042"),
        "the webhook's value gives way to PM Cloud's"
    );
    assert_eq!(
        ticket["short_description"],
        "Elevation request: Wireshark 4.2 for Jane Doe on LT-0099"
    );
    assert_eq!(
        current(&store, &record).await.details,
        record.details,
        "the request keeps what was submitted"
    );
    assert_eq!(pm_cloud.stats().authorization_request_calls, 1);
}

#[tokio::test]
async fn a_ticket_is_made_from_the_webhooks_values_when_pm_cloud_does_not_confirm_them() {
    let (sim, pm_cloud, creator, store) = setup_with_pm_cloud().await;
    let unknown = stored(&store, "pmc-unknown").await;
    pm_cloud.add_authorization_request(Some("pmc-503".into()), Default::default());
    pm_cloud.inject(PmCloudFault::Status {
        target: PmCloudTarget::AuthorizationRequest,
        status: 503,
        retry_after_secs: None,
        times: 1,
    });
    let unavailable = stored(&store, "pmc-503").await;
    // A 503 for the first read, then a 404 for the request PM Cloud never heard of.
    assert!(
        process(&creator, batch_of(&[&unavailable, &unknown]))
            .await
            .is_empty()
    );
    for (record, why) in [
        (
            &unavailable,
            "503 from PM Cloud's AuthorizationRequest endpoint",
        ),
        (&unknown, "404"),
    ] {
        let tickets = tickets_for(&sim, record);
        assert_eq!(tickets.len(), 1, "the ticket is never held back");
        let text = description(&tickets[0]);
        assert!(
            text.contains("PM Cloud did not confirm these values"),
            "{text}"
        );
        assert!(text.contains(why), "{why} in {text}");
        assert!(text.contains("Computer: LT-0042"), "the webhook's values");
    }

    // Without JIT access (403) or without an answer in time, the same.
    pm_cloud.set_jit_access(PmCloudJit::None);
    let forbidden = stored(&store, "pmc-403").await;
    assert!(process(&creator, batch_of(&[&forbidden])).await.is_empty());
    assert!(description(&tickets_for(&sim, &forbidden)[0]).contains("403"));
    pm_cloud.set_jit_access(PmCloudJit::Full);
    pm_cloud.inject(PmCloudFault::Delay {
        target: PmCloudTarget::AuthorizationRequest,
        millis: 1_500,
        times: 1,
    });
    let slow = stored(&store, "pmc-slow").await;
    assert!(process(&creator, batch_of(&[&slow])).await.is_empty());
    assert!(description(&tickets_for(&sim, &slow)[0]).contains("timed out"));
}

#[tokio::test]
async fn a_pm_cloud_429_on_the_read_back_pauses_pm_cloud_for_every_function() {
    let (sim, pm_cloud, creator, store) = setup_with_pm_cloud().await;
    pm_cloud.inject(PmCloudFault::Status {
        target: PmCloudTarget::AuthorizationRequest,
        status: 429,
        retry_after_secs: Some(30),
        times: 1,
    });
    let first = stored(&store, "pmc-429-a").await;
    let second = stored(&store, "pmc-429-b").await;
    assert!(
        process(&creator, batch_of(&[&first, &second]))
            .await
            .is_empty()
    );
    assert!(store.paused_until(Remote::PmCloud).await.unwrap().is_some());
    assert_eq!(
        pm_cloud.stats().authorization_request_calls,
        1,
        "no call during the pause"
    );
    let text = description(&tickets_for(&sim, &second)[0]).to_owned();
    assert!(
        text.contains("PM Cloud asked the connector to pause until"),
        "{text}"
    );
}
