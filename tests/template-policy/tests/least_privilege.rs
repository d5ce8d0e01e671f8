//! Least privilege by key (issue 20): each function's role may read and write only the items of the requests table
//! it owns or needs, as the code uses them (functions/*/src/main.rs → shared/src/rules → shared/src/store). A change
//! to template.yaml that widens a role, or a new item the code writes without a right for it, fails here.

use std::collections::{BTreeMap, BTreeSet};
use template_policy::{ANY_ITEM, PARTITION_KEYS_ONLY, Right, table_rights, template, writes};

const GET: &str = "dynamodb:GetItem";
const PUT: &str = "dynamodb:PutItem";
const UPDATE: &str = "dynamodb:UpdateItem";
const DELETE: &str = "dynamodb:DeleteItem";
const SCAN: &str = "dynamodb:Scan";

const REQUESTS: &str = "request#*";
const LEGACY_ALIASES: &str = "pmcRequestId#*";
const ID_KEY: &str = "state#request-id-key";
const SERVICENOW_PAUSE: &str = "state#servicenow-pause";
const PM_CLOUD_PAUSE: &str = "state#pmcloud-pause";
const WATERMARK: &str = "state#reconciler-watermark";
const SETTINGS_INVALID: &str = "state#settings-invalid";

fn rights(pairs: &[(&str, &[&str])]) -> BTreeSet<Right> {
    pairs
        .iter()
        .flat_map(|(action, keys)| {
            keys.iter()
                .map(move |key| (action.to_string(), key.to_string()))
        })
        .collect()
}

/// Every role's rights on the table, exactly.
fn expected() -> BTreeMap<String, BTreeSet<Right>> {
    BTreeMap::from([
        (
            // Submissions and reads by id or pmcRequestId; PM Cloud's Decision Updated event (a read of PM Cloud,
            // so its pause); the request id key, made once on a table without derived requests.
            "RequestIntakeRole".to_owned(),
            rights(&[
                (GET, &[REQUESTS, LEGACY_ALIASES, ID_KEY, PM_CLOUD_PAUSE]),
                (PUT, &[REQUESTS, PM_CLOUD_PAUSE, ID_KEY]),
                (SCAN, &[PARTITION_KEYS_ONLY]),
            ]),
        ),
        (
            // Creates tickets (ServiceNow's pause), reads PM Cloud's record of the request first (PM Cloud's pause),
            // and notes invalid settings.
            "TicketCreatorRole".to_owned(),
            rights(&[
                (GET, &[REQUESTS, SERVICENOW_PAUSE, PM_CLOUD_PAUSE]),
                (PUT, &[REQUESTS, SERVICENOW_PAUSE, PM_CLOUD_PAUSE]),
                (UPDATE, &[SETTINGS_INVALID]),
            ]),
        ),
        (
            // Validate Settings heeds PM Cloud's pause and writes nothing.
            "SettingsValidatorRole".to_owned(),
            rights(&[(GET, &[PM_CLOUD_PAUSE])]),
        ),
        (
            // A ticket's decision on its request: requests only.
            "TicketCallbackRole".to_owned(),
            rights(&[(GET, &[REQUESTS]), (PUT, &[REQUESTS])]),
        ),
        (
            // Pushes to PM Cloud: PM Cloud's pause.
            "DecisionNotifierRole".to_owned(),
            rights(&[
                (GET, &[REQUESTS, PM_CLOUD_PAUSE]),
                (PUT, &[REQUESTS, PM_CLOUD_PAUSE]),
            ]),
        ),
        (
            // Drives every other function's rules, and owns its watermark.
            "ReconcilerRole".to_owned(),
            rights(&[
                (
                    GET,
                    &[
                        REQUESTS,
                        LEGACY_ALIASES,
                        ID_KEY,
                        SERVICENOW_PAUSE,
                        PM_CLOUD_PAUSE,
                        WATERMARK,
                    ],
                ),
                (
                    PUT,
                    &[
                        REQUESTS,
                        SERVICENOW_PAUSE,
                        PM_CLOUD_PAUSE,
                        WATERMARK,
                        ID_KEY,
                    ],
                ),
                (UPDATE, &[SETTINGS_INVALID]),
                (DELETE, &[SETTINGS_INVALID]),
                (SCAN, &[PARTITION_KEYS_ONLY]),
            ]),
        ),
    ])
}

#[test]
fn each_role_may_touch_only_the_items_it_owns_or_needs() {
    assert_eq!(table_rights(&template()), expected());
}

/// The writes alone, the part a widening would hurt most: who may change which item.
#[test]
fn each_role_writes_only_its_own_items() {
    let actual = table_rights(&template());
    for (role, rights) in expected() {
        assert_eq!(
            writes(&actual[&role]),
            writes(&rights),
            "{role} may write other items than its own"
        );
    }
    let writers_of = |key: &str| -> BTreeSet<String> {
        actual
            .iter()
            .filter(|(_, rights)| {
                writes(rights)
                    .iter()
                    .any(|(_, k)| k == key || k == ANY_ITEM)
            })
            .map(|(role, _)| role.clone())
            .collect()
    };
    assert_eq!(
        writers_of(WATERMARK),
        BTreeSet::from(["ReconcilerRole".to_owned()])
    );
    assert_eq!(
        writers_of(ID_KEY),
        BTreeSet::from(["ReconcilerRole".to_owned(), "RequestIntakeRole".to_owned()]),
        "only the functions that make ids may make the key"
    );
    assert!(
        actual
            .values()
            .flatten()
            .all(|(action, key)| action != DELETE || key == SETTINGS_INVALID),
        "nothing but the settings note is ever deleted"
    );
    assert!(
        actual.values().flatten().all(|(_, key)| key != ANY_ITEM),
        "every right on the table is bounded by key"
    );
}

/// Every item the template names is one the store writes (shared/src/store/dynamo.rs), so that a renamed key
/// cannot leave a right that matches nothing while the code is refused.
#[test]
fn the_keys_are_the_stores() {
    let store = include_str!("../../../shared/src/store/dynamo.rs");
    for (_, key) in expected().values().flatten() {
        if key == PARTITION_KEYS_ONLY {
            continue;
        }
        let named = match key.strip_suffix('*') {
            Some(prefix) => format!("\"{prefix}{{"),
            None => format!("\"{key}\""),
        };
        assert!(
            store.contains(&named),
            "{key} ({named}) is not a key of the store"
        );
    }
}
