use super::*;
use serde_json::json;
use test_support::sample_body;

/// The shared sample with every optional field filled in, so that each rule has a field to break.
fn valid() -> Value {
    let mut body = sample_body("3c5e2a8e-0d2b-4f7e-9a51-1f0b6f0f4e21");
    body["application"]["commandLine"] = json!("wireshark.exe -i 1");
    body["application"]["sha1"] = json!("a94a8fe5ccb19ba61c4c0873d391e987982fbbd3");
    body["details"] = json!({"ApplicationType": "exe"});
    body["policy"] =
        json!({"workstyle": "Developers", "applicationGroup": "Tools", "rule": "On-demand"});
    body
}

fn parse(body: Value) -> Result<NewRequest, Vec<FieldError>> {
    NewRequest::parse(body.as_object().unwrap(), false)
}

/// The bad fields of `body`, by path, sorted.
fn bad_fields(body: Value) -> Vec<String> {
    let mut fields: Vec<String> = parse(body)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    fields.sort();
    fields
}

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    *body.pointer_mut(pointer).unwrap() = value;
    body
}

fn without(mut body: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() {
        &mut body
    } else {
        body.pointer_mut(parent).unwrap()
    };
    parent.as_object_mut().unwrap().remove(key);
    body
}

#[test]
fn parses_a_full_request() {
    let request = parse(valid()).unwrap();
    assert_eq!(
        request.pmc_request_id.as_str(),
        "3c5e2a8e-0d2b-4f7e-9a51-1f0b6f0f4e21"
    );
    assert_eq!(request.request_type, RequestType::Application);
    assert_eq!(
        request.user.unwrap().display_name.as_deref(),
        Some("Jane Doe")
    );
    assert_eq!(
        request.application.unwrap().name.as_deref(),
        Some("Wireshark")
    );
    assert_eq!(request.requested_duration, Some(Duration::Hours(4)));
    assert_eq!(request.policy.unwrap().rule.as_deref(), Some("On-demand"));
}

#[test]
fn parses_a_minimal_admin_request_and_ignores_unknown_fields() {
    let body = json!({
        "pmcRequestId": "a", "requestType": "admin", "user": {"name": "jdoe"},
        "computer": {"hostName": "LT-1"}, "reason": {"text": "patching"},
        "somethingNew": {"x": 1}, "policy": null, "requestedDuration": null
    });
    let request = parse(body).unwrap();
    assert_eq!(request.request_type, RequestType::Admin);
    assert_eq!(request.application, None);
    assert_eq!(request.requested_duration, None);
}

#[test]
fn only_the_pmc_request_id_is_required() {
    assert_eq!(bad_fields(json!({})), ["pmcRequestId"]);
    let body = json!({"pmcRequestId": "x", "user": {}, "computer": {"hostName": " "},
                      "application": {"name": "%%ProductDescription%%"}, "reason": {}, "policy": {}});
    let request = parse(body).unwrap();
    assert_eq!(
        request.request_type,
        RequestType::Application,
        "the default type"
    );
    assert_eq!(
        (
            request.user,
            request.computer,
            request.application,
            request.reason,
            request.policy
        ),
        (None, None, None, None, None),
        "parts whose every field is absent are absent"
    );
    let admin = with(
        without(valid(), "/application/path"),
        "/requestType",
        json!("admin"),
    );
    assert!(parse(admin).is_ok());
    assert!(
        parse(without(valid(), "/application/path")).is_ok(),
        "v3: no path placeholder exists"
    );
}

#[test]
fn hashes_are_hexadecimal_of_their_length_and_stored_lower_case() {
    let request = parse(with(
        with(valid(), "/application/sha1", json!("ABCDEF0123".repeat(4))),
        "/application/sha256",
        json!("ABCDEF0123".repeat(6) + "ABCD"),
    ))
    .unwrap();
    let app = request.application.unwrap();
    assert_eq!(app.sha1, Some("abcdef0123".repeat(4)));
    assert_eq!(app.sha256, Some("abcdef0123".repeat(6) + "abcd"));
    for bad in ["a".repeat(39), "a".repeat(41), "g".repeat(40)] {
        assert_eq!(
            bad_fields(with(valid(), "/application/sha1", json!(bad))),
            ["application.sha1"]
        );
    }
}

#[test]
fn details_keep_their_order_and_drop_absent_values() {
    let body: Value = serde_json::from_str(
        r#"{"pmcRequestId": "x", "details": {"UacTriggered": "true", "DriveType": "Fixed",
            "ProductCode": "%%ProductCode%%", "ApplicationType": "exe", "Token": " "}}"#,
    )
    .unwrap();
    let details = parse(body).unwrap().details;
    assert_eq!(
        details,
        [
            ("UacTriggered", "true"),
            ("DriveType", "Fixed"),
            ("ApplicationType", "exe")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

#[test]
fn details_refuse_non_strings_bad_keys_long_values_and_more_than_40_entries() {
    let details = |value: Value| with(valid(), "/details", value);
    assert_eq!(bad_fields(details(json!({"A": 1}))), ["details.A"]);
    assert_eq!(
        bad_fields(details(json!({"A": "x".repeat(1025)}))),
        ["details.A"]
    );
    assert_eq!(bad_fields(details(json!({"bad key": "x"}))), ["details"]);
    assert_eq!(
        bad_fields(details(json!({"k".repeat(65): "x"}))),
        ["details"]
    );
    assert_eq!(bad_fields(details(json!(["x"]))), ["details"]);
    let forty: Map<String, Value> = (0..40).map(|i| (format!("k{i}"), json!("v"))).collect();
    assert!(parse(details(Value::Object(forty.clone()))).is_ok());
    let mut forty_one = forty;
    forty_one.insert("k40".into(), json!("v"));
    assert_eq!(bad_fields(details(Value::Object(forty_one))), ["details"]);
}

#[test]
fn a_requested_duration_must_suit_the_request_type() {
    let admin = |duration: Value| {
        with(
            with(valid(), "/requestType", json!("admin")),
            "/requestedDuration",
            duration,
        )
    };
    assert!(parse(admin(json!({"type": "minutes", "value": 90}))).is_ok());
    assert!(parse(admin(json!({"type": "hours", "value": 24}))).is_ok());
    for bad in [
        json!({"type": "once"}),
        json!({"type": "forever"}),
        json!({"type": "days", "value": 1}),
        json!({"type": "months", "value": 1}),
    ] {
        assert_eq!(
            bad_fields(admin(bad.clone())),
            ["requestedDuration"],
            "{bad}"
        );
    }
    let app = |duration: Value| with(valid(), "/requestedDuration", duration);
    assert_eq!(
        bad_fields(app(json!({"type": "minutes", "value": 90}))),
        ["requestedDuration"]
    );
    assert_eq!(
        bad_fields(app(json!({"type": "forever"}))),
        ["requestedDuration"]
    );
    let forever = app(json!({"type": "forever"}));
    assert!(
        NewRequest::parse(forever.as_object().unwrap(), true).is_ok(),
        "allowForever"
    );
}

#[test]
fn pmc_request_id_rules() {
    for good in ["a", "A-b_c.d:e", &"x".repeat(100)] {
        assert!(
            parse(with(valid(), "/pmcRequestId", json!(good))).is_ok(),
            "{good}"
        );
    }
    for bad in [
        json!(""),
        json!("x".repeat(101)),
        json!("has space"),
        json!("slash/no"),
        json!("é"),
        json!(42),
    ] {
        assert_eq!(
            bad_fields(with(valid(), "/pmcRequestId", bad.clone())),
            ["pmcRequestId"],
            "{bad}"
        );
    }
}

#[test]
fn request_type_must_be_known() {
    assert_eq!(
        bad_fields(with(valid(), "/requestType", json!("root"))),
        ["requestType"]
    );
    assert_eq!(
        bad_fields(with(valid(), "/requestType", json!(1))),
        ["requestType"]
    );
}

#[test]
fn email_when_given_is_an_address() {
    for bad in [
        "jdoe",
        "jdoe@",
        "@acme.example",
        "j doe@acme.example",
        "a@b@c.d",
        "jdoe@localhost",
        "jdoe@acme..example",
    ] {
        assert_eq!(
            bad_fields(with(valid(), "/user/email", json!(bad))),
            ["user.email"],
            "{bad}"
        );
    }
}

#[test]
fn sha256_when_given_is_64_hex_digits() {
    assert!(
        parse(with(
            valid(),
            "/application/sha256",
            json!("ABCDEF0123".repeat(6) + "abcd")
        ))
        .is_ok()
    );
    for bad in [
        "abc".to_owned(),
        "g".repeat(64),
        "a".repeat(65),
        "a".repeat(63),
    ] {
        assert_eq!(
            bad_fields(with(valid(), "/application/sha256", json!(bad))),
            ["application.sha256"]
        );
    }
}

#[test]
fn reason_limits_lengths() {
    assert!(parse(with(valid(), "/reason", json!({"choice": "Other"}))).is_ok());
    assert!(parse(with(valid(), "/reason/text", json!("t".repeat(4000)))).is_ok());
    assert_eq!(
        bad_fields(with(valid(), "/reason/text", json!("t".repeat(4001)))),
        ["reason.text"]
    );
    assert_eq!(
        bad_fields(with(valid(), "/reason/choice", json!("c".repeat(1025)))),
        ["reason.choice"]
    );
    assert_eq!(
        bad_fields(with(valid(), "/reason", json!({"text": 5}))),
        ["reason.text"]
    );
}

#[test]
fn other_strings_are_at_most_1024_characters() {
    for pointer in [
        "/user/name",
        "/user/displayName",
        "/computer/hostName",
        "/computer/os",
        "/application/publisher",
        "/application/commandLine",
        "/policy/rule",
    ] {
        assert!(
            parse(with(valid(), pointer, json!("é".repeat(1024)))).is_ok(),
            "{pointer}"
        );
        let field = pointer.trim_start_matches('/').replace('/', ".");
        assert_eq!(
            bad_fields(with(valid(), pointer, json!("x".repeat(1025)))),
            [field],
            "{pointer}"
        );
    }
}

#[test]
fn wrong_types_are_named() {
    let body = with(
        with(
            with(valid(), "/user", json!("jdoe")),
            "/computer/os",
            json!(11),
        ),
        "/policy",
        json!([]),
    );
    assert_eq!(bad_fields(body), ["computer.os", "policy", "user"]);
}

#[test]
fn bad_durations_are_named_by_path() {
    assert_eq!(
        bad_fields(with(valid(), "/requestedDuration/value", json!(25))),
        ["requestedDuration.value"]
    );
    assert_eq!(
        bad_fields(with(
            valid(),
            "/requestedDuration",
            json!({"type": "years", "value": 1})
        )),
        ["requestedDuration.type"]
    );
}

#[test]
fn content_hash_ignores_key_order_and_white_space() {
    let a: Map<String, Value> = serde_json::from_str(r#"{"a": 1, "b": {"c": [1, 2]}}"#).unwrap();
    let b: Map<String, Value> = serde_json::from_str(r#"{ "b":{"c":[1,2]},"a":1 }"#).unwrap();
    let c: Map<String, Value> = serde_json::from_str(r#"{"a": 2, "b": {"c": [1, 2]}}"#).unwrap();
    assert_eq!(ContentHash::of(&a), ContentHash::of(&b));
    assert_ne!(ContentHash::of(&a), ContentHash::of(&c));
}

/// The fingerprint is SHA-256 over the body with keys sorted at every level and no white space, byte for byte as
/// before the maps kept their order: a request stored by an earlier version is recognised when PM Cloud retries it
/// (the hex was computed independently, with Python's `json.dumps(sort_keys=True, separators=(",", ":"))`).
#[test]
fn content_hash_is_the_same_canonical_form_as_before_the_maps_kept_their_order() {
    let body: Map<String, Value> = serde_json::from_str(
        r#"{"pmcRequestId": "p-1", "user": {"name": "ACME\\jdoe", "displayName": "Jané"},
            "details": {"Z": "1", "A": "2"}, "n": [3, 1]}"#,
    )
    .unwrap();
    assert_eq!(
        ContentHash::of(&body),
        ContentHash("a248a835f5b00ea1b6f1fbc23860ea1ed377a1f0cd6468365e83ac324f3eacac".into())
    );
}
