//! The settings secret parsed: defaults, every bad field named, placeholders and short keys refused, no secret
//! shown.

use super::keys::pmc_api_keys_of;
use super::*;
use secrecy::ExposeSecret;
use serde_json::json;

pub(crate) fn servicenow_json(instance_url: &str) -> Value {
    json!({
        "instanceUrl": instance_url, "username": "svc.pm.connector", "password": "pw-SECRET",
        "clientId": "client-id", "clientSecret": "client-SECRET", "taskType": "incident"
    })
}

/// Keys as long as the rules ask, recognisable in the tests that look for them.
pub(crate) const PMC_KEY_1: &str = "pmc-key-1-000000000000000000000000000";
pub(crate) const PMC_KEY_2: &str = "pmc-key-2-000000000000000000000000000";
pub(crate) const HOOK_SECRET: &str = "hook-secret-1-00000000000000000000000";

pub(crate) fn secret_json(instance_url: &str) -> String {
    json!({
        "servicenow": servicenow_json(instance_url),
        "pmcApiKeys": [PMC_KEY_1, PMC_KEY_2],
        "webhookSecrets": [HOOK_SECRET]
    })
    .to_string()
}

/// Valid settings for acme.service-now.com with the fields of `extra` added or replaced.
pub(crate) fn servicenow_settings_with(extra: Value) -> ServiceNowSettings {
    let mut value = servicenow_json("https://acme.service-now.com");
    value
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    ServiceNowSettings::parse(&value, Hosts::Public).unwrap()
}

fn bad_fields(value: Value) -> Vec<String> {
    let mut fields: Vec<_> = ServiceNowSettings::parse(&value, Hosts::Public)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    fields.sort();
    fields
}

fn with(mut value: Value, key: &str, field: Value) -> Value {
    value[key] = field;
    value
}

#[test]
fn parses_the_secret_with_defaults() {
    let settings =
        Settings::parse(&secret_json("https://acme.service-now.com"), Hosts::Public).unwrap();
    let sn = &settings.servicenow;
    assert_eq!(sn.instance_url.as_str(), "https://acme.service-now.com");
    assert_eq!(sn.task_type, TaskType::Incident);
    assert_eq!(sn.duration_field, "u_pm_duration");
    assert_eq!(sn.notes_field, "u_pm_message");
    assert_eq!(sn.default_duration, Duration::Once);
    assert_eq!(sn.assignment_group, None);
    let ServiceNowGrant::Password { username, password } = &sn.grant else {
        panic!("the password grant is the default");
    };
    assert_eq!(username, "svc.pm.connector");
    assert_eq!(password.expose_secret(), "pw-SECRET");
    assert_eq!(settings.pmc_api_keys.len(), 2);
    assert_eq!(settings.webhook_secrets.len(), 1);
}

#[test]
fn reads_the_optional_fields() {
    let value = json!({
        "instanceUrl": "https://acme.service-now.com/", "username": "u", "password": "p",
        "clientId": "c", "clientSecret": "s", "taskType": "sc_req_item",
        "assignmentGroup": "0123456789abcdef0123456789ABCDEF", "durationField": "u_len",
        "notesField": "work_notes", "defaultDuration": "2 days"
    });
    let sn = ServiceNowSettings::parse(&value, Hosts::Public).unwrap();
    assert_eq!(sn.task_type, TaskType::RequestedItem);
    assert_eq!(sn.instance_url.as_str(), "https://acme.service-now.com");
    assert_eq!(sn.duration_field, "u_len");
    assert_eq!(sn.notes_field, "work_notes");
    assert_eq!(sn.default_duration, Duration::Days(2));
}

#[test]
fn task_types_are_the_four_tables() {
    for table in ["incident", "change_request", "sc_task", "sc_req_item"] {
        let value = with(
            servicenow_json("https://a.service-now.com"),
            "taskType",
            json!(table),
        );
        assert_eq!(
            ServiceNowSettings::parse(&value, Hosts::Public)
                .unwrap()
                .task_type
                .table(),
            table
        );
    }
    for bad in ["problem", "Incident", "sys_user"] {
        assert_eq!(
            bad_fields(with(
                servicenow_json("https://a.example"),
                "taskType",
                json!(bad)
            )),
            ["servicenow.taskType"]
        );
    }
}

#[test]
fn keys_are_long_and_not_the_templates_placeholders() {
    let secret = |keys: Value, secrets: Value| {
        json!({"servicenow": servicenow_json("https://a.example"), "pmcApiKeys": keys, "webhookSecrets": secrets})
            .to_string()
    };
    let errors = Settings::parse(
        &secret(
            json!(["REPLACE-ME-WITH-A-LONG-RANDOM-KEY", "short"]),
            json!(["x".repeat(31), "y".repeat(32)]),
        ),
        Hosts::Public,
    )
    .unwrap_err();
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["pmcApiKeys[0]", "pmcApiKeys[1]", "webhookSecrets[0]"]
    );
    assert!(errors[0].message.contains("REPLACE-ME"));
    assert!(errors[1].message.contains("32 characters"));
    assert!(
        errors
            .iter()
            .all(|e| !e.message.contains("short") && !e.message.contains("xxx"))
    );

    // A bearer token is compared trimmed, so a key with white space at either end could never let anyone in.
    let padded = format!(" {} ", "k".repeat(40));
    let errors = Settings::parse(
        &secret(json!([padded]), json!(["y".repeat(32)])),
        Hosts::Public,
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "pmcApiKeys[0]");
    assert!(errors[0].message.contains("white space"));
    assert!(pmc_api_keys_of(&secret(json!([padded]), json!([]))).is_empty());
}

#[test]
fn names_are_free_of_pasting_slips() {
    for (field, value) in [
        ("clientId", " abc"),
        ("clientId", "abc\t"),
        ("username", "svc\nconnector"),
        ("username", "svc\u{7}"),
        ("username", "svc\u{2028}connector"),
        ("clientId", "abc\u{200B}"),
    ] {
        let errors = ServiceNowSettings::parse(
            &with(servicenow_json("https://a.example"), field, json!(value)),
            Hosts::Public,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 1, "{field}={value:?}");
        assert_eq!(errors[0].field, format!("servicenow.{field}"));
    }
    // A secret is the operator's to choose: only its placeholder is refused.
    assert!(
        ServiceNowSettings::parse(
            &with(
                servicenow_json("https://a.example"),
                "password",
                json!(" spaced out ")
            ),
            Hosts::Public,
        )
        .is_ok()
    );
}

#[test]
fn the_templates_placeholders_are_not_settings() {
    let servicenow = json!({"instanceUrl": "https://REPLACE-ME.service-now.com", "username": "REPLACE-ME",
        "password": "REPLACE-ME", "clientId": "REPLACE-ME", "clientSecret": "REPLACE-ME", "taskType": "incident"});
    assert_eq!(
        bad_fields(servicenow.clone()),
        [
            "servicenow.clientId",
            "servicenow.clientSecret",
            "servicenow.instanceUrl",
            "servicenow.password",
            "servicenow.username"
        ]
    );
    // With the client-credentials grant the user and password are not read, so their placeholders do no harm.
    assert_eq!(
        bad_fields(with(servicenow, "grantType", json!("client_credentials"))),
        [
            "servicenow.clientId",
            "servicenow.clientSecret",
            "servicenow.instanceUrl"
        ]
    );
    let pm_cloud = Settings::parse(
        &json!({"servicenow": servicenow_json("https://a.example"),
            "pmCloud": {"apiUrl": "https://REPLACE-ME.pm.beyondtrustcloud.com", "clientId": "REPLACE-ME",
                "clientSecret": "REPLACE-ME"},
            "pmcApiKeys": ["k".repeat(32)], "webhookSecrets": ["w".repeat(32)]})
        .to_string(),
        Hosts::Public,
    )
    .unwrap_err();
    let mut fields: Vec<_> = pm_cloud.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    assert_eq!(
        fields,
        ["pmCloud.apiUrl", "pmCloud.clientId", "pmCloud.clientSecret"]
    );
    assert!(pm_cloud.iter().all(|e| e.message.contains("REPLACE-ME")));
}

#[test]
fn allow_forever_is_a_boolean_and_the_default_duration_suits_application_requests() {
    let parsed = |fields: Value| {
        let mut value = servicenow_json("https://acme.service-now.com");
        value
            .as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        ServiceNowSettings::parse(&value, Hosts::Public)
    };
    assert!(!parsed(json!({})).unwrap().allow_forever, "default false");
    assert!(parsed(json!({"allowForever": true})).unwrap().allow_forever);
    let field = |fields: Value| parsed(fields).unwrap_err()[0].field.clone();
    assert_eq!(
        field(json!({"allowForever": "yes"})),
        "servicenow.allowForever"
    );
    assert_eq!(
        field(json!({"defaultDuration": "forever"})),
        "servicenow.defaultDuration"
    );
    assert_eq!(
        field(json!({"defaultDuration": "90 minutes"})),
        "servicenow.defaultDuration"
    );
    let forever = parsed(json!({"defaultDuration": "forever", "allowForever": true})).unwrap();
    assert_eq!(forever.default_duration, Duration::Forever);
}

#[test]
fn the_admin_decision_path_is_a_path_on_the_api_host() {
    let pm_cloud = |path: Value| {
        Settings::parse(
            &json!({"servicenow": servicenow_json("https://a.example"),
                "pmCloud": {"apiUrl": "https://acme-services.pm.beyondtrustcloud.com", "clientId": "id",
                    "clientSecret": "secret", "adminDecisionPath": path},
                "pmcApiKeys": ["k".repeat(32)], "webhookSecrets": ["w".repeat(32)]})
            .to_string(),
            Hosts::Public,
        )
    };
    let settings = pm_cloud(json!("/management-api/v2/AdminAccessRequest/decision")).unwrap();
    assert_eq!(
        settings.pm_cloud.unwrap().admin_decision_path.as_deref(),
        Some("/management-api/v2/AdminAccessRequest/decision")
    );
    assert_eq!(
        pm_cloud(Value::Null)
            .unwrap()
            .pm_cloud
            .unwrap()
            .admin_decision_path,
        None
    );
    for bad in [
        "management-api/x",
        "//evil.example/x",
        "/a/../b",
        "/a?b=c",
        "/a b",
        "https://x.example/a",
    ] {
        let errors = pm_cloud(json!(bad)).unwrap_err();
        assert_eq!(errors[0].field, "pmCloud.adminDecisionPath", "{bad}");
    }
}

#[test]
fn the_client_credentials_grant_needs_no_user() {
    let mut value = servicenow_json("https://acme.service-now.com");
    let object = value.as_object_mut().unwrap();
    object.remove("username");
    object.remove("password");
    object.insert("grantType".into(), json!("client_credentials"));
    let sn = ServiceNowSettings::parse(&value, Hosts::Public).unwrap();
    assert!(matches!(sn.grant, ServiceNowGrant::ClientCredentials));
    assert_eq!(sn.acting_user(), "the OAuth application user");
    assert_eq!(
        sn.connector_user(),
        None,
        "who creates tickets is not known"
    );
    // A username beside client_credentials names the OAuth Application User (CONTRACT §10 v3); a placeholder or a
    // pasting slip there is ignored, as the grant does not read it.
    for (username, expected) in [
        ("oauth.app.user", Some("oauth.app.user")),
        ("REPLACE-ME", None),
        (" padded ", None),
    ] {
        let mut named = value.clone();
        named["username"] = json!(username);
        let sn = ServiceNowSettings::parse(&named, Hosts::Public).unwrap();
        assert_eq!(sn.connector_user(), expected, "{username}");
    }
    value["grantType"] = json!("jwt");
    assert_eq!(bad_fields(value), ["servicenow.grantType"]);
    let mut password = servicenow_json("https://acme.service-now.com");
    password["grantType"] = json!("password");
    password.as_object_mut().unwrap().remove("password");
    assert_eq!(bad_fields(password), ["servicenow.password"]);
}

#[test]
fn names_every_bad_field() {
    assert_eq!(
        bad_fields(
            json!({"instanceUrl": "http://acme.example", "taskType": "x", "durationField": "u pm", "defaultDuration": "25 hours"})
        ),
        [
            "servicenow.clientId",
            "servicenow.clientSecret",
            "servicenow.defaultDuration",
            "servicenow.durationField",
            "servicenow.instanceUrl",
            "servicenow.password",
            "servicenow.taskType",
            "servicenow.username"
        ]
    );
    assert_eq!(bad_fields(json!("nope")), ["servicenow"]);
    // Problems name fields, never values.
    let unreadable = ServiceNowSettings::parse(
        &with(
            servicenow_json("https://a.example"),
            "defaultDuration",
            json!("sometime-soon"),
        ),
        Hosts::Public,
    )
    .unwrap_err();
    assert_eq!(unreadable[0].field, "servicenow.defaultDuration");
    assert!(unreadable[0].message.starts_with("is not a duration"));
    assert!(!unreadable[0].message.contains("sometime"));
    assert_eq!(
        bad_fields(with(
            servicenow_json("https://a.example"),
            "assignmentGroup",
            json!("Service Desk")
        )),
        ["servicenow.assignmentGroup"]
    );
}

#[test]
fn the_secret_needs_keys_and_webhook_secrets() {
    let errors = Settings::parse(&json!({"servicenow": servicenow_json("https://a.example"), "pmcApiKeys": [], "webhookSecrets": ["", 5]}).to_string(), Hosts::Public).unwrap_err();
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["pmcApiKeys", "webhookSecrets[0]", "webhookSecrets[1]"]
    );
    assert_eq!(
        Settings::parse("not json", Hosts::Public).unwrap_err()[0].message,
        "is not valid JSON"
    );
}

#[test]
fn debug_output_reveals_no_secret() {
    let settings =
        Settings::parse(&secret_json("https://acme.service-now.com"), Hosts::Public).unwrap();
    let debug = format!("{settings:?}");
    for secret in ["pw-SECRET", "client-SECRET", PMC_KEY_1, HOOK_SECRET] {
        assert!(!debug.contains(secret), "{secret} leaked into {debug}");
    }
    let errors = Settings::parse(&secret_json("http://acme.example"), Hosts::Public).unwrap_err();
    assert!(!format!("{errors:?}").contains("SECRET"));
}
