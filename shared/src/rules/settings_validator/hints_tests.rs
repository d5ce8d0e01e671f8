//! Each failure in, its detail and hint out: the hints tested on their own, one row per kind of failure.

use super::*;
use crate::domain::record::FailureCode;
use crate::domain::settings::tests::servicenow_settings_with;
use serde_json::json;

fn permanent(status: u16) -> ServiceNowError {
    ServiceNowError::Permanent {
        code: FailureCode::Rejected,
        status,
        detail: format!("{status} from the Table API"),
    }
}

fn transient(detail: &str) -> ServiceNowError {
    ServiceNowError::Transient(Transient::new(detail))
}

/// `failure` says `detail`, and its hint begins with `hint`.
fn assert_said(failure: Failed, detail: &str, hint: &str) {
    assert_eq!(failure.detail, detail);
    assert!(failure.hint.starts_with(hint), "{detail}: {}", failure.hint);
}

#[test]
fn a_table_api_failure_gets_the_hint_for_its_status() {
    for (error, hint) in [
        (permanent(400), "The instance has no table sc_task"),
        (permanent(401), "The Table API refused a fresh token"),
        (permanent(403), "The user lacks the role to use sc_task"),
        (permanent(404), "The user lacks the role to use sc_task"),
        (permanent(409), "The Table API did not answer normally"),
        (
            transient("503 from the Table API"),
            "The Table API did not answer normally",
        ),
        (
            transient(&format!("200 with {HTML_PAGE} (Instance Hibernating)")),
            "ServiceNow answered a web page, not JSON",
        ),
    ] {
        let detail = error.to_string();
        assert_said(table_failed("sc_task", error), &detail, hint);
    }
}

#[test]
fn a_token_endpoint_without_a_usable_answer_gets_its_hint() {
    let settings = servicenow_settings_with(json!({}));
    for (error, hint) in [
        (permanent(404), "The OAuth token endpoint is not available"),
        (
            transient("502 from the token endpoint"),
            "ServiceNow's token endpoint did not give a usable answer",
        ),
        (
            transient(&format!("200 with {HTML_PAGE}")),
            "ServiceNow answered a web page, not JSON",
        ),
    ] {
        let detail = error.to_string();
        assert_said(
            grant_failed(&settings, GrantError::Failed(error)),
            &detail,
            hint,
        );
    }
}

#[test]
fn a_pm_cloud_failure_gets_the_hint_for_its_kind() {
    let refused = |status: u16, error: &str| TokenError::Refused {
        status,
        error: error.to_owned(),
    };
    let failed = |detail: &str| TokenError::Failed(Failure::Transient(Transient::new(detail)));
    let unreachable = |failure| {
        TokenError::Unreachable(TransportError {
            failure,
            reason: "Connection Refused".to_owned(),
        })
    };
    for (error, detail, hint) in [
        (
            refused(400, "invalid_client"),
            "PM Cloud rejected the API account's client ID or secret (400 invalid_client)",
            "Check pmCloud.clientId and pmCloud.clientSecret",
        ),
        (
            refused(401, "unauthorized"),
            "PM Cloud rejected the API account's client ID or secret (401 unauthorized)",
            "Check pmCloud.clientId and pmCloud.clientSecret",
        ),
        (
            refused(400, "unauthorized_client"),
            "PM Cloud refused the grant (400 unauthorized_client)",
            "The API account must be active",
        ),
        (
            failed(&format!("200 with {HTML_PAGE}")),
            "200 with an HTML page",
            "PM Cloud answered a web page instead of a token",
        ),
        (
            failed("503 from the token endpoint"),
            "503 from the token endpoint",
            "PM Cloud's token endpoint did not give a usable answer",
        ),
        (
            unreachable(TransportFailure::Refused),
            "pm.example could not be reached: connection refused",
            "Check the host name and port",
        ),
    ] {
        assert_said(pmcloud_failed("pm.example", error), detail, hint);
    }
}

#[test]
fn a_pm_cloud_list_failure_gets_the_hint_for_its_status() {
    let permanent = |status: u16| Failure::Permanent {
        status,
        detail: format!("{status} from PM Cloud's AuthorizationRequest endpoint"),
    };
    for (failure, detail, hint) in [
        (
            permanent(403),
            "PM Cloud refused API account pmc the list of authorization requests: 403 from PM Cloud's \
             AuthorizationRequest endpoint",
            "Give the API account Full Access to JIT Application Access",
        ),
        (
            permanent(404),
            "404 from PM Cloud's AuthorizationRequest endpoint",
            "pmCloud.apiUrl answers, but not as PM Cloud's Management API v2",
        ),
        (
            Failure::Transient(Transient::new(format!("200 with {HTML_PAGE}"))),
            "200 with an HTML page",
            "PM Cloud answered a web page instead of JSON",
        ),
        (
            Failure::Transient(Transient::new("503 from PM Cloud")),
            "503 from PM Cloud",
            "PM Cloud granted a token but did not list",
        ),
    ] {
        assert_said(list_failed("pmc", failure), detail, hint);
    }
}

#[test]
fn an_unreachable_host_gets_the_hint_for_how_it_failed() {
    for (failure, detail, hint) in [
        (
            TransportFailure::TimedOut,
            "acme.example did not answer in time",
            "Check the host name, and that it is reachable",
        ),
        (
            TransportFailure::Tls,
            "the TLS handshake with acme.example failed: it failed",
            "The host must present a certificate trusted by the public CA bundle for its name. Check that \
             instanceUrl names the host itself",
        ),
        (
            TransportFailure::NameNotFound,
            "acme.example could not be found: it failed",
            "Check the host name in instanceUrl",
        ),
        (
            TransportFailure::Dropped,
            "acme.example could not be reached: it failed",
            "Check the host name and port",
        ),
    ] {
        let error = TransportError {
            failure,
            reason: "It failed".to_owned(),
        };
        assert_said(
            unreachable("acme.example", "instanceUrl", &error),
            detail,
            hint,
        );
    }
}

#[test]
fn invalid_settings_name_the_fields_and_the_rules() {
    let Failed { detail, hint } = invalid(
        "the stored settings secret",
        &[FieldError::new(
            "servicenow.taskType",
            "must be incident, change_request, sc_task or sc_req_item",
        )],
    );
    assert!(
        detail.starts_with("In the stored settings secret: "),
        "{detail}"
    );
    assert!(detail.contains("servicenow.taskType"), "{detail}");
    assert!(hint.starts_with("Correct the named fields."), "{hint}");
}

#[test]
fn a_refused_grant_gets_the_hint_for_the_grant_asked_for() {
    let password = servicenow_settings_with(json!({}));
    let client_credentials = servicenow_settings_with(json!({"grantType": "client_credentials"}));
    for (settings, detail, hint) in [
        (
            &password,
            "ServiceNow rejected the OAuth client or the user's credentials (401 access_denied)",
            "ServiceNow answers alike for a wrong client and a wrong user",
        ),
        (
            &client_credentials,
            "ServiceNow refused the client-credentials grant (401 access_denied)",
            "The client-credentials grant needs ServiceNow Washington DC or later",
        ),
    ] {
        assert_said(refused(settings, 401, "access_denied"), detail, hint);
    }
}

#[test]
fn an_approval_table_that_refuses_names_the_role() {
    for status in [401, 403, 404] {
        let failure = approvals_failed("sys_user_grmember", permanent(status));
        assert_eq!(failure.detail, format!("{status} from the Table API"));
        assert!(failure.hint.contains("approval_admin"), "{}", failure.hint);
        assert!(
            failure.hint.contains("sys_user_grmember refused it"),
            "{}",
            failure.hint
        );
    }
    let busy = approvals_failed("sysapproval_approver", transient("503 from the Table API"));
    assert!(
        busy.hint
            .starts_with("The Table API did not answer normally"),
        "{}",
        busy.hint
    );
}
