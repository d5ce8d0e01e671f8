//! The "Validate Settings" checks driven through the rules against the ServiceNow and PM Cloud simulators: each
//! check fails for its own cause with its own hint, later checks are skipped, and no secret is ever echoed.

use super::*;
use pmcloud_sim::PmCloudSim;
use serde_json::json;
use servicenow_sim::{Fault, FaultTarget, SimConfig, SimUser, Simulator};
use std::time::Duration;
use test_support::{SIMULATOR_SECRETS, failing_check, simulator_secret, with_pm_cloud};

/// The checks over a stored settings secret, with URLs naming hosts `hosts` admits.
struct Validator {
    rules: SettingsValidator,
    stored: String,
    hosts: Hosts,
}

/// The checks over the stored settings secret `stored`, with URLs naming hosts `hosts` admits.
fn validator_with(stored: String, hosts: Hosts) -> Validator {
    let http =
        crate::outbound::client::http_client_with_timeout(Duration::from_millis(800), Hosts::Local);
    Validator {
        rules: SettingsValidator::new(
            ServiceNowClient::new(http.clone()),
            PmCloudClient::new(http),
        ),
        stored,
        hosts,
    }
}

/// The checks over `secret`, local hosts allowed (the simulators are local).
fn validator(secret: String) -> Validator {
    validator_with(secret, Hosts::Local)
}

/// The body of the candidate fixture (`events/settings-validator/validate-candidate.json`), pointed at
/// `instance_url` and changed by `edit`.
fn candidate(instance_url: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let path = format!(
        "{}/../events/settings-validator/validate-candidate.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut body: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    body["servicenow"]["instanceUrl"] = json!(instance_url);
    edit(&mut body["servicenow"]);
    body
}

/// What the stored-settings fixture asks: no body, so the stored settings are checked.
fn stored() -> Value {
    json!({})
}

/// The report on the settings `body` asks for (`{}`: the stored ones), after checking that it echoes no secret.
async fn report(validator: &Validator, body: Value) -> Value {
    let report = validator
        .rules
        .validate(
            Subject::of(body.as_object().unwrap()),
            &validator.stored,
            validator.hosts,
        )
        .await;
    let text = serde_json::to_string(&report).unwrap();
    for secret in SIMULATOR_SECRETS {
        assert!(!text.contains(secret), "{secret} echoed in {text}");
    }
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn valid_stored_settings_pass_all_five_checks_and_write_nothing() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let pmc = PmCloudSim::start(pmcloud_sim::SimConfig::default())
        .await
        .unwrap();
    let secret = with_pm_cloud(&simulator_secret(&sim.base_url()), &pmc.base_url());
    let report = report(&validator(secret), stored()).await;
    assert_eq!(report["valid"], true, "{report}");
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 5);
    assert!(
        checks
            .iter()
            .all(|c| c["ok"] == true && c.get("skipped").is_none() && c["detail"].is_string())
    );
    let table_access = checks[3]["detail"].as_str().unwrap();
    assert!(table_access.contains("incident"));
    assert!(
        table_access.contains("work notes is not tested"),
        "the detail says write access is not proven (CONTRACT §14): {table_access}"
    );
    assert!(checks[4]["detail"].as_str().unwrap().contains("pmc-client"));
    assert_eq!(sim.stats().creates, 0);
    assert!(sim.tickets().is_empty());
    assert_eq!(pmc.stats().token_grants, 1);
    assert_eq!(pmc.stats().notification_calls, 0, "nothing is pushed");
}

#[tokio::test]
async fn a_valid_candidate_is_checked_against_its_own_instance_and_task_type() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let broken_stored =
        simulator_secret("http://127.0.0.1:9").replace("\"incident\"", "\"problem\"");
    let report = report(
        &validator(broken_stored),
        candidate(&sim.base_url(), |_| {}),
    )
    .await;
    assert_eq!(report["valid"], true, "{report}");
    assert!(
        report["checks"][3]["detail"]
            .as_str()
            .unwrap()
            .contains("sc_task")
    );
}

/// A candidate whose `servicenow` part is invalid: the ServiceNow checks are not tried, but a `pmCloud` part that
/// keeps its rules is still checked (CONTRACT §11: `pmcloud` runs whatever ServiceNow's checks do); an invalid one
/// is not tried.
#[tokio::test]
async fn a_failed_config_still_checks_a_valid_pm_cloud_part() {
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let pmcloud_check = |pm_cloud: Value| {
        let validator = &validator;
        async move {
            let mut body = candidate("http://acme.service-now.com", |_| {});
            body["pmCloud"] = pm_cloud;
            let report = report(validator, body).await;
            assert_eq!(report["checks"][0]["ok"], false, "config fails");
            report["checks"][4].clone()
        }
    };
    let reachable_only_in_theory = pmcloud_check(json!({"apiUrl": format!("http://{closed}"),
        "clientId": "c", "clientSecret": "pmc-client-secret"}))
    .await;
    assert_eq!(
        (
            reachable_only_in_theory["ok"].clone(),
            reachable_only_in_theory["skipped"].clone()
        ),
        (json!(false), Value::Null),
        "run, and failed: {reachable_only_in_theory}"
    );
    assert!(
        reachable_only_in_theory["detail"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1"),
        "{reachable_only_in_theory}"
    );
    let invalid =
        pmcloud_check(json!({"apiUrl": "nope", "clientId": "c", "clientSecret": "s"})).await;
    assert_eq!(
        (
            invalid["ok"].clone(),
            invalid["skipped"].clone(),
            invalid["detail"].clone()
        ),
        (json!(false), json!(true), json!("not tried: config failed"))
    );
}

#[tokio::test]
async fn config_fails_for_bad_fields_and_names_them() {
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let body = candidate("http://acme.service-now.com", |sn| {
        sn["taskType"] = json!("problem");
        sn.as_object_mut().unwrap().remove("password");
    });
    let failed = failing_check(&report(&validator, body).await, "config");
    let detail = failed["detail"].as_str().unwrap();
    for field in [
        "servicenow.instanceUrl",
        "servicenow.taskType",
        "servicenow.password",
    ] {
        assert!(detail.contains(field), "{field} missing from {detail}");
    }
}

#[tokio::test]
async fn connect_fails_for_an_unreachable_host() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let failed = failing_check(
        &report(&validator, candidate(&format!("http://{closed}"), |_| {})).await,
        "connect",
    );
    assert!(
        failed["detail"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{failed}"
    );
}

#[tokio::test]
async fn connect_fails_for_a_host_that_never_answers() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = silent.local_addr().unwrap();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let failed = failing_check(
        &report(&validator, candidate(&format!("http://{address}"), |_| {})).await,
        "connect",
    );
    assert!(
        failed["detail"]
            .as_str()
            .unwrap()
            .contains("did not answer in time"),
        "{failed}"
    );
}

#[tokio::test]
async fn connect_fails_for_a_tls_failure_with_a_certificate_hint() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let https = sim.base_url().replace("http://", "https://");
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let failed = failing_check(
        &report(&validator, candidate(&https, |_| {})).await,
        "connect",
    );
    assert!(
        failed["detail"].as_str().unwrap().contains("TLS handshake"),
        "{failed}"
    );
    assert!(
        failed["hint"].as_str().unwrap().contains("certificate"),
        "{failed}"
    );
}

#[tokio::test]
async fn oauth_fails_for_a_wrong_password_or_client_with_a_hint_naming_both() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    for edit in [
        ("password", "wrong"),
        ("clientSecret", "wrong"),
        ("clientId", "wrong"),
        ("username", "nobody"),
    ] {
        let body = candidate(&sim.base_url(), |sn| sn[edit.0] = json!(edit.1));
        let failed = failing_check(&report(&validator, body).await, "oauth");
        assert!(
            failed["detail"].as_str().unwrap().contains("401"),
            "{failed}"
        );
        let hint = failed["hint"].as_str().unwrap();
        assert!(
            hint.contains("clientId") && hint.contains("password"),
            "{hint}"
        );
    }
    assert_eq!(sim.stats().password_grants, 0);
}

#[tokio::test]
async fn oauth_fails_when_the_token_endpoint_is_missing() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.inject(Fault::Status {
        target: FaultTarget::Oauth,
        status: 404,
        retry_after_secs: None,
        times: 1,
    });
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let failed = failing_check(
        &report(&validator, candidate(&sim.base_url(), |_| {})).await,
        "oauth",
    );
    assert!(
        failed["hint"]
            .as_str()
            .unwrap()
            .contains("OAuth 2.0 plugin"),
        "{failed}"
    );
}

#[tokio::test]
async fn table_access_fails_for_a_missing_role_with_a_role_hint() {
    let config = SimConfig {
        users: vec![SimUser {
            username: "svc.pm.connector".into(),
            password: "sim-password".into(),
            tables: Some(vec!["incident".into()]),
        }],
        ..SimConfig::default()
    };
    let sim = Simulator::start(config).await.unwrap();
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let failed = failing_check(
        &report(&validator, candidate(&sim.base_url(), |_| {})).await,
        "table_access",
    );
    assert!(
        failed["detail"].as_str().unwrap().starts_with("403"),
        "{failed}"
    );
    assert!(
        failed["hint"].as_str().unwrap().contains("role"),
        "{failed}"
    );
}

#[tokio::test]
async fn table_access_fails_for_an_unknown_table_with_a_plugin_hint() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.inject(Fault::Status {
        target: FaultTarget::TableRead,
        status: 400,
        retry_after_secs: None,
        times: 1,
    });
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let failed = failing_check(
        &report(&validator, candidate(&sim.base_url(), |_| {})).await,
        "table_access",
    );
    assert!(
        failed["hint"].as_str().unwrap().contains("plugin"),
        "{failed}"
    );
}

#[tokio::test]
async fn pmcloud_is_ok_and_skipped_without_pm_cloud() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let report = report(&validator(simulator_secret(&sim.base_url())), stored()).await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(
        report["checks"][4],
        json!({"name": "pmcloud", "ok": true, "skipped": true,
               "detail": "pmCloud is not configured: decisions are not pushed to PM Cloud, which reads them with GET"})
    );
}

#[tokio::test]
async fn pmcloud_fails_for_a_wrong_client_secret_even_when_servicenow_passes() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let pmc = PmCloudSim::start(pmcloud_sim::SimConfig::default())
        .await
        .unwrap();
    let secret = with_pm_cloud(&simulator_secret(&sim.base_url()), &pmc.base_url())
        .replace("pmc-client-secret", "wrong-secret");
    let report = report(&validator(secret), stored()).await;
    assert_eq!(report["valid"], false);
    let checks = report["checks"].as_array().unwrap();
    assert!(checks[..4].iter().all(|c| c["ok"] == true), "{report}");
    let pmcloud = &checks[4];
    assert_eq!(pmcloud["ok"], false);
    assert!(
        pmcloud["detail"]
            .as_str()
            .unwrap()
            .contains("client ID or secret"),
        "{pmcloud}"
    );
    assert!(
        pmcloud["hint"].as_str().unwrap().contains("API Settings"),
        "{pmcloud}"
    );
    assert!(!report.to_string().contains("wrong-secret"));
}

#[tokio::test]
async fn pmcloud_lists_authorization_requests_and_fails_with_a_jit_hint_without_jit_access() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let pmc = PmCloudSim::start(pmcloud_sim::SimConfig::default())
        .await
        .unwrap();
    let secret = with_pm_cloud(&simulator_secret(&sim.base_url()), &pmc.base_url());
    let passed = report(&validator(secret.clone()), stored()).await;
    let pmcloud = &passed["checks"][4];
    assert_eq!(pmcloud["ok"], true, "{passed}");
    let detail = pmcloud["detail"].as_str().unwrap();
    assert!(detail.contains("listed authorization requests"), "{detail}");
    assert!(detail.contains("only a pushed decision proves"), "{detail}");
    assert_eq!(pmc.stats().authorization_request_calls, 1);

    pmc.set_jit_access(pmcloud_sim::JitAccess::None);
    let refused = report(&validator(secret), stored()).await;
    let pmcloud = &refused["checks"][4];
    assert_eq!(
        (refused["valid"].as_bool(), pmcloud["ok"].as_bool()),
        (Some(false), Some(false))
    );
    assert!(
        pmcloud["detail"].as_str().unwrap().contains("403"),
        "{pmcloud}"
    );
    assert!(
        pmcloud["hint"]
            .as_str()
            .unwrap()
            .contains("Full Access to JIT"),
        "{pmcloud}"
    );
}

/// CONTRACT §12: after PM Cloud's `429`, no function calls it before the time it named, Validate Settings included.
#[tokio::test]
async fn pmcloud_is_not_called_while_pm_cloud_asked_every_function_to_pause() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let pmc = PmCloudSim::start(pmcloud_sim::SimConfig::default())
        .await
        .unwrap();
    let secret = with_pm_cloud(&simulator_secret(&sim.base_url()), &pmc.base_url());
    let paused_for = |seconds: i64| {
        let mut validator = validator(secret.clone());
        let until = now() + chrono::Duration::seconds(seconds);
        validator.rules = validator
            .rules
            .with_pm_cloud_pause(Box::new(move || Box::pin(async move { Some(until) })));
        validator
    };
    let during = report(&paused_for(60), stored()).await;
    let pmcloud = &during["checks"][4];
    assert_eq!(pmcloud["ok"], false, "{during}");
    let detail = pmcloud["detail"].as_str().unwrap();
    assert!(detail.contains("pause until"), "{detail}");
    assert!(
        pmcloud["hint"]
            .as_str()
            .unwrap()
            .contains("Try again after"),
        "{pmcloud}"
    );
    assert_eq!(
        (
            pmc.stats().token_grants,
            pmc.stats().authorization_request_calls
        ),
        (0, 0),
        "no call, no grant"
    );

    let ended = report(&paused_for(-1), stored()).await;
    assert_eq!(
        ended["checks"][4]["ok"], true,
        "a pause that ended holds nothing back: {ended}"
    );
}

#[tokio::test]
async fn pmcloud_runs_even_when_a_servicenow_check_failed() {
    let pmc = PmCloudSim::start(pmcloud_sim::SimConfig::default())
        .await
        .unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let secret = with_pm_cloud(
        &simulator_secret(&format!("http://{closed}")),
        &pmc.base_url(),
    );
    let report = report(&validator(secret), stored()).await;
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks[1]["ok"], false, "connect failed: {report}");
    assert_eq!(
        (checks[4]["ok"].clone(), checks[4].get("skipped")),
        (json!(true), None)
    );
    assert_eq!(pmc.stats().token_grants, 1);
}

#[tokio::test]
async fn pmcloud_fails_for_an_unreachable_api_url_naming_the_field() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let secret = with_pm_cloud(
        &simulator_secret(&sim.base_url()),
        &format!("http://{closed}"),
    );
    let report = report(&validator(secret), stored()).await;
    let pmcloud = &report["checks"][4];
    assert_eq!(pmcloud["ok"], false);
    assert!(
        pmcloud["detail"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{pmcloud}"
    );
}

#[tokio::test]
async fn a_candidate_may_carry_pm_cloud_alone_and_takes_servicenow_from_the_stored_settings() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let pmc = PmCloudSim::start(pmcloud_sim::SimConfig::default())
        .await
        .unwrap();
    let body = json!({"pmCloud": {
        "apiUrl": pmc.base_url(), "clientId": "pmc-client", "clientSecret": "pmc-client-secret"
    }});
    let report = report(&validator(simulator_secret(&sim.base_url())), body).await;
    assert_eq!(report["valid"], true, "{report}");
    assert!(
        report["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains(&pmc.base_url())
    );
    assert_eq!(pmc.stats().token_grants, 1);
}

#[tokio::test]
async fn a_hibernating_instance_fails_oauth_with_a_hibernation_hint() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    sim.inject(Fault::Html {
        target: FaultTarget::Oauth,
        status: 200,
        times: 1,
    });
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let failed = failing_check(
        &report(&validator, candidate(&sim.base_url(), |_| {})).await,
        "oauth",
    );
    assert!(
        failed["detail"].as_str().unwrap().contains("HTML page"),
        "{failed}"
    );
    assert!(
        failed["hint"].as_str().unwrap().contains("hibernating"),
        "{failed}"
    );
}

#[tokio::test]
async fn the_client_credentials_grant_is_checked_without_a_user() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let validator = validator(simulator_secret("http://127.0.0.1:9"));
    let client_credentials = |sn: &mut Value| {
        let sn = sn.as_object_mut().unwrap();
        sn.remove("username");
        sn.remove("password");
        sn.insert("grantType".into(), json!("client_credentials"));
    };
    let passed = report(&validator, candidate(&sim.base_url(), client_credentials)).await;
    assert_eq!(passed["valid"], json!(true), "{passed}");
    let oauth = &passed["checks"][2];
    assert!(
        oauth["detail"]
            .as_str()
            .unwrap()
            .contains("client-credentials grant succeeded"),
        "{oauth}"
    );
    assert_eq!(sim.stats().client_credentials_grants, 1);
    assert_eq!(sim.stats().password_grants, 0);

    let disabled = Simulator::start(SimConfig {
        client_credentials: servicenow_sim::ClientCredentials {
            enabled: false,
            application_user: None,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let failed = failing_check(
        &report(
            &validator,
            candidate(&disabled.base_url(), client_credentials),
        )
        .await,
        "oauth",
    );
    let hint = failed["hint"].as_str().unwrap();
    assert!(
        hint.contains("glide.oauth.inbound.client.credential.grant_type.enabled")
            && hint.contains("OAuth Application User"),
        "{hint}"
    );
}

/// A name the system resolver maps to a local address without being `localhost` (this machine's own name, from
/// /etc/hosts), so that only resolving it can tell.
fn a_local_name() -> String {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap();
    hosts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('#').next()?.split_whitespace();
            let ip: std::net::IpAddr = fields.next()?.parse().ok()?;
            crate::domain::base_url::is_local_address(ip).then(|| fields.collect::<Vec<_>>())
        })
        .flatten()
        .find(|name| *name != "localhost" && !name.ends_with(".localhost"))
        .expect("/etc/hosts names a local address other than localhost (this machine's name)")
        .to_owned()
}

#[tokio::test]
async fn a_local_host_is_refused_unless_local_urls_are_allowed() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let public = validator_with(
        simulator_secret("https://acme.service-now.com"),
        Hosts::Public,
    );
    for url in [
        sim.base_url(),
        "https://169.254.169.254".to_owned(),
        "https://10.0.0.1".to_owned(),
        "https://[::1]".to_owned(),
        "https://localhost".to_owned(),
        // Only resolving it tells that this name is local.
        format!("https://{}", a_local_name()),
    ] {
        let failed = failing_check(&report(&public, candidate(&url, |_| {})).await, "config");
        let detail = failed["detail"].as_str().unwrap();
        assert!(
            detail.contains("servicenow.instanceUrl") && detail.contains("ALLOW_LOCAL_URLS"),
            "{url}: {failed}"
        );
    }
    assert_eq!(sim.stats().password_grants, 0);
}
