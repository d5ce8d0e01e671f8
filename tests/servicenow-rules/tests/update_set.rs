//! `servicenow/pm-cloud-connector.xml` as ServiceNow reads it on *Import Update Set from XML*: one well-formed
//! `<unload>`, one `<sys_remote_update_set>`, and `<sys_update_xml>` records whose payloads are `<record_update>`
//! documents of the tables the connector needs, with the shipped script inside, word for word.

use roxmltree::{Document, Node};
use servicenow_rules::shipped;
use servicenow_rules::update_set::{
    APPROVAL_RULE, FIELDS, PROPERTIES, PROPERTIES_FILTER, RULES, SCRIPT_FILE, TICKET_RULE,
    UPDATE_SET_FILE, UPDATE_SET_NAME, duration_choices, update_set_xml,
};
use shared::domain::duration::Duration;
use std::collections::{BTreeMap, HashSet};

/// The text of the child element `name` of `node` ("" when it is empty or missing).
fn text<'a>(node: Node<'a, '_>, name: &str) -> &'a str {
    node.children()
        .find(|child| child.has_tag_name(name))
        .and_then(|child| child.text())
        .unwrap_or("")
}

/// Each `sys_update_xml` by its name, with its payload's text.
fn updates(unload: &Document) -> BTreeMap<String, (String, String)> {
    unload
        .root_element()
        .children()
        .filter(|node| node.has_tag_name("sys_update_xml"))
        .map(|update| {
            (
                text(update, "name").to_owned(),
                (
                    text(update, "type").to_owned(),
                    text(update, "payload").to_owned(),
                ),
            )
        })
        .collect()
}

/// The record element inside a payload's `<record_update>`.
fn record<'a>(payload: &'a Document) -> Node<'a, 'a> {
    let root = payload.root_element();
    assert!(root.has_tag_name("record_update"), "{root:?}");
    root.first_element_child().expect("a record")
}

#[test]
fn the_update_set_is_generated_from_the_shipped_script() {
    assert!(
        shipped(UPDATE_SET_FILE) == update_set_xml(&shipped(SCRIPT_FILE)),
        "{UPDATE_SET_FILE} is not what {SCRIPT_FILE} and servicenow_rules::update_set make: \
         run `cargo run -p servicenow-rules --bin write-update-set` and commit the result"
    );
}

#[test]
fn it_is_one_remote_update_set_whose_every_payload_parses() {
    let xml = shipped(UPDATE_SET_FILE);
    let unload = Document::parse(&xml).expect("well-formed XML");
    let root = unload.root_element();
    assert!(root.has_tag_name("unload"));
    assert!(root.attribute("unload_date").is_some());
    let sets: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("sys_remote_update_set"))
        .collect();
    assert_eq!(sets.len(), 1, "exactly one update set");
    let set = sets[0];
    assert_eq!(set.attribute("action"), Some("INSERT_OR_UPDATE"));
    assert_eq!(text(set, "name"), UPDATE_SET_NAME);
    assert_eq!(text(set, "state"), "loaded");
    assert_eq!(text(set, "application_scope"), "global");
    let set_id = text(set, "sys_id");

    let mut sys_ids = HashSet::new();
    let mut count = 0;
    for update in root.children().filter(|n| n.has_tag_name("sys_update_xml")) {
        count += 1;
        let name = text(update, "name");
        assert_eq!(update.attribute("action"), Some("INSERT_OR_UPDATE"));
        assert_eq!(text(update, "action"), "INSERT_OR_UPDATE", "{name}");
        assert_eq!(text(update, "remote_update_set"), set_id, "{name}");
        assert!(!text(update, "type").is_empty(), "{name}");
        let payload = Document::parse(text(update, "payload"))
            .unwrap_or_else(|e| panic!("the payload of {name} does not parse: {e}"));
        let record = record(&payload);
        let table = record.tag_name().name();
        assert!(
            name.starts_with(&format!("{table}_")),
            "{name} holds a {table} record"
        );
        for id in payload
            .descendants()
            .filter(|n| n.has_tag_name("sys_id"))
            .chain([update
                .children()
                .find(|n| n.has_tag_name("sys_id"))
                .unwrap()])
        {
            let id = id.text().unwrap_or("");
            assert!(
                id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                "{name}: sys_id {id:?}"
            );
            assert!(sys_ids.insert(id.to_owned()), "{name}: sys_id {id} twice");
        }
    }
    assert_eq!(count, updates(&unload).len(), "update names are unique");
}

#[test]
fn the_business_rules_hold_the_shipped_script() {
    let xml = shipped(UPDATE_SET_FILE);
    let unload = Document::parse(&xml).unwrap();
    let script = shipped(SCRIPT_FILE);
    let mut rules = BTreeMap::new();
    for (name, (kind, payload)) in updates(&unload) {
        if !name.starts_with("sys_script_") {
            continue;
        }
        assert_eq!(kind, "Business Rule");
        let payload = Document::parse(&payload).unwrap();
        assert_eq!(
            payload.root_element().attribute("table"),
            Some("sys_script")
        );
        let rule = record(&payload);
        assert_eq!(text(rule, "sys_update_name"), name);
        assert_eq!(text(rule, "when"), "async");
        assert_eq!(text(rule, "action_update"), "true");
        assert_eq!(text(rule, "action_insert"), "false");
        assert_eq!(text(rule, "action_delete"), "false");
        assert_eq!(text(rule, "advanced"), "true");
        assert_eq!(text(rule, "active"), "true");
        assert!(
            text(rule, "script") == script,
            "the script of {} is not {SCRIPT_FILE}",
            text(rule, "name")
        );
        rules.insert(
            text(rule, "collection").to_owned(),
            text(rule, "condition").to_owned(),
        );
    }
    assert_eq!(
        rules,
        BTreeMap::from([
            ("task".to_owned(), TICKET_RULE.condition.to_owned()),
            (
                "sysapproval_approver".to_owned(),
                APPROVAL_RULE.condition.to_owned()
            ),
        ])
    );
}

#[test]
fn the_properties_are_admin_only_and_the_secret_is_a_password() {
    let xml = shipped(UPDATE_SET_FILE);
    let unload = Document::parse(&xml).unwrap();
    let mut properties = BTreeMap::new();
    for (name, (kind, payload)) in updates(&unload) {
        if !name.starts_with("sys_properties_") {
            continue;
        }
        assert_eq!(kind, "System Property");
        let payload = Document::parse(&payload).unwrap();
        let property = record(&payload);
        assert_eq!(text(property, "read_roles"), "admin");
        assert_eq!(text(property, "write_roles"), "admin");
        properties.insert(
            text(property, "name").to_owned(),
            (
                text(property, "type").to_owned(),
                text(property, "value").to_owned(),
            ),
        );
    }
    let expected = BTreeMap::from([
        (
            "pmc_connector.webhook_url".to_owned(),
            ("string".to_owned(), String::new()),
        ),
        (
            "pmc_connector.webhook_secret".to_owned(),
            ("password2".to_owned(), String::new()),
        ),
        (
            "pmc_connector.enabled".to_owned(),
            ("boolean".to_owned(), "false".to_owned()),
        ),
    ]);
    assert_eq!(properties, expected);
    assert_eq!(PROPERTIES.len(), expected.len());
}

#[test]
fn the_task_table_gets_the_duration_and_message_fields() {
    let xml = shipped(UPDATE_SET_FILE);
    let unload = Document::parse(&xml).unwrap();
    let updates = updates(&unload);
    let mut fields = BTreeMap::new();
    for (name, (kind, payload)) in &updates {
        if !name.starts_with("sys_dictionary_") {
            continue;
        }
        assert_eq!(kind, "Dictionary");
        let payload = Document::parse(payload).unwrap();
        let field = record(&payload);
        assert_eq!(field.attribute("table"), Some("task"));
        assert_eq!(text(field, "name"), "task");
        assert_eq!(field.attribute("element"), Some(text(field, "element")));
        assert_eq!(text(field, "internal_type"), "string");
        assert_eq!(
            name,
            &format!("sys_dictionary_task_{}", text(field, "element"))
        );
        fields.insert(
            text(field, "element").to_owned(),
            (
                text(field, "max_length").to_owned(),
                text(field, "choice").to_owned(),
            ),
        );
        let label = &updates[&format!("sys_documentation_task_{}_en", text(field, "element"))];
        assert_eq!(label.0, "Field Label");
    }
    assert_eq!(
        fields,
        BTreeMap::from([
            (
                "u_pm_duration".to_owned(),
                ("40".to_owned(), "1".to_owned())
            ),
            (
                "u_pm_message".to_owned(),
                ("1000".to_owned(), "0".to_owned())
            ),
        ])
    );
    assert_eq!(FIELDS.len(), fields.len());
}

#[test]
fn the_duration_choices_are_what_the_connector_reads() {
    let xml = shipped(UPDATE_SET_FILE);
    let unload = Document::parse(&xml).unwrap();
    let (kind, payload) = &updates(&unload)["sys_choice_task_u_pm_duration"];
    assert_eq!(kind, "Choice list");
    let payload = Document::parse(payload).unwrap();
    let list = record(&payload);
    assert_eq!(list.attribute("table"), Some("task"));
    assert_eq!(list.attribute("field"), Some("u_pm_duration"));
    let choices: Vec<&str> = list
        .children()
        .filter(|n| n.has_tag_name("sys_choice"))
        .map(|choice| {
            assert_eq!(text(choice, "name"), "task");
            assert_eq!(text(choice, "element"), "u_pm_duration");
            text(choice, "value")
        })
        .collect();
    assert_eq!(choices, duration_choices());
    assert_eq!(choices.len(), 2 + 24 + 31 + 12);
    for expected in [
        "once",
        "30 minutes",
        "1 hour",
        "24 hours",
        "1 day",
        "31 days",
        "12 months",
    ] {
        assert!(choices.contains(&expected), "{expected}");
    }
    for choice in choices {
        let read = Duration::from_servicenow_text(choice)
            .unwrap_or_else(|e| panic!("{choice}: {e}"))
            .expect("not empty");
        assert_eq!(read.to_string(), choice);
    }
}

#[test]
fn the_menu_pm_cloud_connector_lists_the_properties_for_admins() {
    let xml = shipped(UPDATE_SET_FILE);
    let unload = Document::parse(&xml).unwrap();
    let updates = updates(&unload);
    let of_kind = |kind: &str| -> Vec<String> {
        updates
            .values()
            .filter(|(k, _)| k == kind)
            .map(|(_, payload)| payload.clone())
            .collect()
    };
    let menus = of_kind("Application Menu");
    assert_eq!(menus.len(), 1);
    let menu = Document::parse(&menus[0]).unwrap();
    let menu = record(&menu);
    assert_eq!(text(menu, "title"), "PM Cloud connector");
    assert_eq!(text(menu, "roles"), "admin");
    let modules = of_kind("Module");
    assert_eq!(modules.len(), 1);
    let module = Document::parse(&modules[0]).unwrap();
    let module = record(&module);
    assert_eq!(text(module, "application"), text(menu, "sys_id"));
    assert_eq!(text(module, "link_type"), "LIST");
    assert_eq!(text(module, "name"), "sys_properties");
    assert_eq!(text(module, "roles"), "admin");
    assert_eq!(text(module, "filter"), PROPERTIES_FILTER);
    for property in &PROPERTIES {
        assert!(property.name.starts_with("pmc_connector."));
    }
}

#[test]
fn the_readme_gives_the_update_set_and_each_rule_for_pasting() {
    let readme = shipped("README.md");
    assert!(readme.contains(&format!("]({UPDATE_SET_FILE})")));
    assert!(readme.contains(&format!("]({SCRIPT_FILE})")));
    for rule in RULES {
        assert!(
            readme.contains(rule.condition),
            "the README's manual steps give the condition of {}",
            rule.name
        );
        assert!(readme.contains(rule.table));
    }
    for property in &PROPERTIES {
        assert!(readme.contains(property.name));
    }
}
