//! What the template owns of the settings and what the operator does (issue 20 "settings the template can never
//! overwrite", CONTRACT §2): the secret the functions read gets no value from the template, so no stack update has
//! one to write over the operator's settings; nothing the stack makes may write it; the starting point the operator
//! copies once holds only keys generated at deploy, in secrets no function reads; and every secret that may hold a key
//! in use is retained.

use serde_yaml_ng::Value;
use template_policy::{statements, strings, template};

/// The properties of an `AWS::SecretsManager::Secret` that carry no value: changing one makes CloudFormation update
/// the secret's metadata (or replace it, `Name`: a new secret), never put a new value in it. `SecretString` and
/// `GenerateSecretString` are the two that do ("when you make a change to this property, a new secret version is
/// created", AWS::SecretsManager::Secret in the CloudFormation reference).
const PROPERTIES_WITHOUT_A_VALUE: [&str; 5] =
    ["Name", "Description", "KmsKeyId", "Tags", "ReplicaRegions"];

/// The Secrets Manager actions that read a secret and change nothing.
const READ_ACTIONS: [&str; 2] = [
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
];

/// The logical id of the secret every function reads: what the functions' `SETTINGS_SECRET_ID` refers to.
fn settings_secret(template: &Value) -> String {
    let variables = &template["Globals"]["Function"]["Environment"]["Variables"];
    match &variables["SETTINGS_SECRET_ID"] {
        Value::Tagged(reference) if reference.tag == "Ref" => {
            reference.value.as_str().expect("a logical id").to_owned()
        }
        other => panic!("SETTINGS_SECRET_ID is a !Ref of the settings secret, not {other:?}"),
    }
}

fn resources(template: &Value) -> impl Iterator<Item = (&str, &Value)> {
    template["Resources"]
        .as_mapping()
        .expect("the template has resources")
        .iter()
        .map(|(id, resource)| (id.as_str().expect("a logical id"), resource))
}

fn of_type<'a>(template: &'a Value, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> {
    resources(template).filter(move |(_, resource)| resource["Type"].as_str() == Some(kind))
}

/// True when `value` refers to resource `id` anywhere in it: `!Ref`, `!GetAtt`, `${id}` in a `!Sub`, or the long forms.
fn mentions(value: &Value, id: &str) -> bool {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str() == Some(id),
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => get_att_names(&tagged.value, id),
        Value::Tagged(tagged) if tagged.tag == "Sub" => {
            sub_mentions(&tagged.value, id) || mentions(&tagged.value, id)
        }
        Value::Tagged(tagged) => mentions(&tagged.value, id),
        Value::Mapping(mapping) => mapping.iter().any(|(key, value)| match key.as_str() {
            Some("Ref") => value.as_str() == Some(id),
            Some("Fn::GetAtt") => get_att_names(value, id),
            Some("Fn::Sub") => sub_mentions(value, id) || mentions(value, id),
            _ => mentions(value, id),
        }),
        Value::Sequence(many) => many.iter().any(|value| mentions(value, id)),
        _ => false,
    }
}

/// True when a `GetAtt`'s argument (`Id.Attribute`, or `[Id, Attribute]`) names resource `id`.
fn get_att_names(argument: &Value, id: &str) -> bool {
    strings(argument).first().is_some_and(|first| {
        first == id
            || first
                .strip_prefix(id)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// True when `value` is exactly `!Ref id`.
fn is_ref(value: &Value, id: &str) -> bool {
    matches!(value, Value::Tagged(tagged) if tagged.tag == "Ref" && tagged.value.as_str() == Some(id))
}

/// True when the text of a `!Sub` (alone, or first in its list form) names `${id}` or `${id.Attribute}`.
fn sub_mentions(sub: &Value, id: &str) -> bool {
    let text = match sub {
        Value::Sequence(parts) => parts.first().and_then(Value::as_str),
        other => other.as_str(),
    };
    text.is_some_and(|text| {
        text.contains(&format!("${{{id}}}")) || text.contains(&format!("${{{id}."))
    })
}

#[test]
fn the_settings_secret_gets_no_value_from_the_template() {
    let template = template();
    let id = settings_secret(&template);
    let secret = &template["Resources"][id.as_str()];
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    let properties = secret["Properties"]
        .as_mapping()
        .map(|properties| {
            properties
                .keys()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for property in properties {
        assert!(
            PROPERTIES_WITHOUT_A_VALUE.contains(&property),
            "{id} has {property}: a stack update that changes it would write a value over the operator's settings"
        );
    }
}

#[test]
fn every_function_reads_that_secret_and_no_other() {
    let template = template();
    let settings = settings_secret(&template);
    for (id, function) in of_type(&template, "AWS::Serverless::Function") {
        let own = &function["Properties"]["Environment"]["Variables"]["SETTINGS_SECRET_ID"];
        assert!(own.is_null(), "{id} reads its own settings secret: {own:?}");
    }
    for (role, resource) in of_type(&template, "AWS::IAM::Role") {
        for statement in statements(resource) {
            let reads_a_secret = strings(&statement["Action"])
                .iter()
                .any(|action| action.starts_with("secretsmanager:"));
            if reads_a_secret {
                assert!(
                    is_ref(&statement["Resource"], &settings),
                    "{role} reads a secret other than {settings} ({:?}): the functions take their settings, keys \
                     included, from it alone",
                    statement["Resource"]
                );
            }
        }
    }
}

#[test]
fn nothing_the_stack_makes_may_write_the_settings() {
    let template = template();
    let settings = settings_secret(&template);
    for (role, resource) in of_type(&template, "AWS::IAM::Role") {
        for statement in statements(resource) {
            for action in strings(&statement["Action"]) {
                let changes_a_secret = action == "*"
                    || action.starts_with("secretsmanager:")
                        && !READ_ACTIONS.contains(&action.as_str());
                assert!(!changes_a_secret, "{role} may {action}");
            }
        }
    }
    // A rotation schedule, a target attachment or a custom resource given the secret would write it.
    for (id, resource) in resources(&template) {
        let kind = resource["Type"].as_str().unwrap_or_default();
        if id != settings && mentions(resource, &settings) {
            assert_eq!(
                kind, "AWS::IAM::Role",
                "{id} ({kind}) names {settings}: only the roles that read it may"
            );
        }
    }
}

#[test]
fn the_starting_point_holds_only_keys_generated_at_deploy_in_secrets_no_function_reads() {
    let template = template();
    let starting_point = &template["Resources"]["InitialSettings"];
    assert_eq!(
        starting_point["Type"].as_str(),
        Some("AWS::SecretsManager::Secret")
    );
    let text = match &starting_point["Properties"]["SecretString"] {
        Value::Tagged(sub) if sub.tag == "Sub" => sub.value.as_str().expect("a !Sub of one text"),
        other => panic!("InitialSettings' SecretString is a !Sub, not {other:?}"),
    };
    let settings: serde_json::Value =
        serde_json::from_str(text).expect("the starting point is JSON");
    let mut generated = Vec::new();
    for list in ["pmcApiKeys", "webhookSecrets"] {
        let entries = settings[list].as_array().expect("a list of keys");
        assert_eq!(entries.len(), 1, "{list}: one key to start with");
        let entry = entries[0].as_str().expect("a key");
        let secret = entry
            .strip_prefix("{{resolve:secretsmanager:${")
            .and_then(|rest| rest.strip_suffix("}:SecretString:key}}"))
            .unwrap_or_else(|| panic!("{list}[0] is a generated secret's key, not {entry}"));
        let generator = &template["Resources"][secret]["Properties"]["GenerateSecretString"];
        assert_eq!(
            generator["GenerateStringKey"].as_str(),
            Some("key"),
            "{secret}"
        );
        assert!(
            generator["PasswordLength"]
                .as_u64()
                .is_some_and(|length| length >= 32),
            "{secret} generates a key of at least 32 characters (CONTRACT §2)"
        );
        generated.push(secret.to_owned());
    }
    assert_ne!(generated[0], generated[1], "two keys, not one used twice");
    // What no function reads, a stack update may rewrite without changing what the connector does.
    for (role, resource) in of_type(&template, "AWS::IAM::Role") {
        for secret in generated
            .iter()
            .map(String::as_str)
            .chain(["InitialSettings"])
        {
            assert!(!mentions(resource, secret), "{role} names {secret}");
        }
    }
}

#[test]
fn every_secret_that_may_hold_a_key_in_use_is_retained() {
    let template = template();
    let settings = settings_secret(&template);
    let generated = of_type(&template, "AWS::SecretsManager::Secret")
        .filter(|(_, secret)| !secret["Properties"]["GenerateSecretString"].is_null())
        .map(|(id, _)| id.to_owned());
    for id in [settings].into_iter().chain(generated) {
        let secret = &template["Resources"][id.as_str()];
        for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
            assert_eq!(
                secret[policy].as_str(),
                Some("Retain"),
                "{id}'s {policy}: a key PM Cloud or ServiceNow holds may be in it"
            );
        }
    }
}
