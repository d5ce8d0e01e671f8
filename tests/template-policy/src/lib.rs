//! What `template.yaml` lets each function's role do to the requests table, item by item (issue 20 "least privilege
//! by key"): every statement of every `AWS::IAM::Role` whose resource is the table, read as the DynamoDB actions it
//! allows and the partition keys (`dynamodb:LeadingKeys`) it allows them on.

use serde_yaml_ng::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What a statement without a `dynamodb:LeadingKeys` condition allows its actions on: every item.
pub const ANY_ITEM: &str = "*";
/// What a statement that bounds a `Scan` to the partition key allows it on: every item's `pk`, nothing else.
pub const PARTITION_KEYS_ONLY: &str = "(pk only)";

/// The DynamoDB actions that change or delete an item.
pub const WRITE_ACTIONS: [&str; 5] = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:*",
];

/// One right on the table: a DynamoDB action (`dynamodb:PutItem`) on the items whose partition key matches `keys`
/// (a `StringLike` pattern such as `request#*`, [`ANY_ITEM`] or [`PARTITION_KEYS_ONLY`]).
pub type Right = (String, String);

/// The repository's `template.yaml`, parsed.
pub fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

/// Each role's rights on the requests table (by logical id, for example `ReconcilerRole`), its statements on the
/// stream and the backlog index left out.
pub fn table_rights(template: &Value) -> BTreeMap<String, BTreeSet<Right>> {
    let resources = template["Resources"]
        .as_mapping()
        .expect("the template has resources");
    resources
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::IAM::Role"))
        .map(|(name, role)| {
            let name = name.as_str().expect("a logical id").to_owned();
            let rights = statements(role)
                .filter(|statement| names_the_table(&statement["Resource"]))
                .flat_map(rights_of)
                .collect();
            (name, rights)
        })
        .collect()
}

/// The rights of `rights` whose action changes or deletes an item.
pub fn writes(rights: &BTreeSet<Right>) -> BTreeSet<Right> {
    rights
        .iter()
        .filter(|(action, _)| WRITE_ACTIONS.contains(&action.as_str()))
        .cloned()
        .collect()
}

/// The statements of every inline policy of `role` (an `AWS::IAM::Role` resource), in order.
pub fn statements(role: &Value) -> impl Iterator<Item = &Value> {
    role["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|policy| {
            policy["PolicyDocument"]["Statement"]
                .as_sequence()
                .into_iter()
                .flatten()
        })
}

/// True for the table itself (so every item) however it is written (`!GetAtt RequestsTable.Arn`, in the list
/// form, or a `!Sub` of `${RequestsTable.Arn}` that names neither the stream nor an index), or a wildcard.
fn names_the_table(resource: &Value) -> bool {
    match resource {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => {
            tagged.value == "RequestsTable.Arn"
                || strings(&tagged.value) == ["RequestsTable", "Arn"]
        }
        Value::Tagged(tagged) if tagged.tag == "Sub" => tagged.value.as_str().is_some_and(|text| {
            text.starts_with("${RequestsTable.Arn}") && !text.contains("/index/")
                || text.ends_with('*')
        }),
        Value::String(text) => text == "*" || text.contains(":table/"),
        Value::Sequence(many) => many.iter().any(names_the_table),
        _ => false,
    }
}

/// A string, or the strings of a list (an `Action` or a `Resource`), as a list; anything else is empty.
pub fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Sequence(many) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn rights_of(statement: &Value) -> Vec<Right> {
    assert_eq!(
        statement["Effect"].as_str(),
        Some("Allow"),
        "only Allow statements are read"
    );
    let actions: Vec<String> = strings(&statement["Action"])
        .into_iter()
        .filter(|action| action.starts_with("dynamodb:") || action == "*")
        .collect();
    let conditions = statement["Condition"].as_mapping();
    // The values `key` must take under an operator starting with `operator` (`ForAnyValue` would widen a right).
    let condition_values = |operator: &str, key: &str| -> Vec<String> {
        conditions
            .into_iter()
            .flatten()
            .filter(|(name, _)| name.as_str().is_some_and(|name| name.starts_with(operator)))
            .flat_map(|(_, values)| values.get(key).map(strings).unwrap_or_default())
            .collect()
    };
    let leading_keys = condition_values("ForAllValues:String", "dynamodb:LeadingKeys");
    let keys = if !leading_keys.is_empty() {
        leading_keys
    } else if condition_values("ForAllValues:StringEquals", "dynamodb:Attributes") == ["pk"]
        && condition_values("StringEquals", "dynamodb:Select") == ["SPECIFIC_ATTRIBUTES"]
    {
        vec![PARTITION_KEYS_ONLY.to_owned()]
    } else {
        vec![ANY_ITEM.to_owned()]
    };
    actions
        .iter()
        .flat_map(|action| keys.iter().map(move |key| (action.clone(), key.clone())))
        .collect()
}
