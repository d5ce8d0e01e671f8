//! `servicenow/pm-cloud-connector.xml`, the update set an administrator imports (README, "Setting up ServiceNow"),
//! built from the records below and the shipped `servicenow/business-rule.js`.
//!
//! The format is ServiceNow's XML export of a retrieved update set: an `<unload>` holding one
//! `<sys_remote_update_set>` and one `<sys_update_xml>` per change, whose `<payload>` holds, as escaped text, a
//! `<record_update>` document with the record. ServiceNow documents the import path (Retrieved Update Sets → Import
//! Update Set from XML → Preview → Commit) but not this schema: the shapes follow exported update sets and
//! source-control exports in public repositories (the README says which parts are confirmed and which are not).
//! Everything is in the global scope: the properties keep the names `pmc_connector.*` that the rule reads (in a scoped
//! app they would take the scope's prefix), and the rule uses global-only APIs (`gs.sleep`,
//! `GlideCertificateEncryption`, `GlideStringUtil`).

use quick_xml::escape::{escape, partial_escape};
use sha2::{Digest, Sha256};
use shared::domain::duration::{Duration, DurationError};

/// The update set, relative to the repository's root.
pub const UPDATE_SET_FILE: &str = "servicenow/pm-cloud-connector.xml";
/// The business rules' script, relative to the repository's root: one script for both rules.
pub const SCRIPT_FILE: &str = "servicenow/business-rule.js";
/// The update set's name, as *Retrieved Update Sets* lists it.
pub const UPDATE_SET_NAME: &str = "PM Cloud connector";
/// When the records say they were made (ServiceNow's `YYYY-MM-DD HH:MM:SS`, UTC): fixed, so that the generated file
/// changes only when its content does.
const RECORDED_ON: &str = "2026-12-07 12:00:00";

/// A business rule of the update set: async, on update, advanced, with [`SCRIPT_FILE`] as its script.
pub struct BusinessRule {
    pub name: &'static str,
    /// The table it runs on (`collection`); `task` covers incident, change_request, sc_task and sc_req_item.
    pub table: &'static str,
    /// Its condition, a server-side JavaScript expression over `current`.
    pub condition: &'static str,
    pub description: &'static str,
}

/// The rule on the task tables (CONTRACT §10): a PM Cloud ticket's approval, active flag or duration changed. The
/// duration is in the condition so that an approval refused (`422`) for an unreadable duration is sent again once
/// the approver corrects it.
pub const TICKET_RULE: BusinessRule = BusinessRule {
    name: "PM Cloud connector: ticket changed",
    table: "task",
    condition: "current.correlation_display == 'PM Cloud' && (current.approval.changes() || current.active.changes() || current.u_pm_duration.changes())",
    description: "Sends the signed event of the PM Cloud connector (CONTRACT §10) when a PM Cloud ticket's approval, active flag or duration changes.",
};

/// The rule on approval records (CONTRACT §15): an approval of a PM Cloud ticket changed state.
pub const APPROVAL_RULE: BusinessRule = BusinessRule {
    name: "PM Cloud connector: approval changed",
    table: "sysapproval_approver",
    condition: "current.sysapproval.correlation_display == 'PM Cloud' && current.state.changes()",
    description: "Sends the signed event of the PM Cloud connector (CONTRACT §15) when an approval record of a PM Cloud ticket changes state.",
};

/// The encoded query of the module "Properties": the connector's system properties.
pub const PROPERTIES_FILTER: &str = "nameSTARTSWITHpmc_connector.";

/// Both rules.
pub const RULES: [&BusinessRule; 2] = [&TICKET_RULE, &APPROVAL_RULE];

/// A system property (`sys_properties`) the rule reads; readable and writable by `admin` only.
pub struct Property {
    pub name: &'static str,
    /// `string`, `password2` (stored encrypted, shown masked) or `boolean`.
    pub kind: &'static str,
    /// Its value as installed.
    pub value: &'static str,
    pub description: &'static str,
}

/// The three properties the administrator sets after the import.
pub const PROPERTIES: [Property; 3] = [
    Property {
        name: "pmc_connector.webhook_url",
        kind: "string",
        value: "",
        description: "The connector's WebhookUrl (its POST /v1/servicenow/events), where the business rules send each event.",
    },
    Property {
        name: "pmc_connector.webhook_secret",
        kind: "password2",
        value: "",
        description: "The first entry of the connector's webhookSecrets: the HMAC-SHA256 key that signs each event.",
    },
    Property {
        name: "pmc_connector.enabled",
        kind: "boolean",
        value: "false",
        description: "true turns the integration on; while it is false the business rules send nothing.",
    },
];

/// A String field added to `task`, so that every task table has it.
pub struct Field {
    pub element: &'static str,
    pub label: &'static str,
    pub max_length: u16,
    pub hint: &'static str,
    /// Whether it gets the choice list of [`duration_choices`].
    pub durations: bool,
}

/// The approver's fields: the connector's default `durationField` and `notesField`.
pub const FIELDS: [Field; 2] = [
    Field {
        element: "u_pm_duration",
        label: "PM Cloud duration",
        max_length: 40,
        hint: "How long the access lasts: once, 30 minutes, 4 hours, 2 days, 1 month ...",
        durations: true,
    },
    Field {
        element: "u_pm_message",
        label: "Message to the user",
        max_length: 1000,
        hint: "Shown to the end user with the decision",
        durations: false,
    },
];

/// The duration field's choices, as the connector writes and reads them (CONTRACT §8): once, 30 minutes, 1–24 hours,
/// 1–31 days, 1–12 months.
pub fn duration_choices() -> Vec<String> {
    let valid = |d: Result<Duration, DurationError>| d.expect("in range").to_string();
    let mut choices = vec![Duration::Once.to_string(), valid(Duration::minutes(30))];
    choices.extend((1..=24).map(|n| valid(Duration::hours(n))));
    choices.extend((1..=31).map(|n| valid(Duration::days(n))));
    choices.extend((1..=12).map(|n| valid(Duration::months(n))));
    choices
}

/// The update set's XML, with `script` (the text of [`SCRIPT_FILE`]) as both rules' script.
pub fn update_set_xml(script: &str) -> String {
    let set_id = sys_id("sys_remote_update_set");
    let mut xml = Xml::default();
    xml.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.open("unload", &[("unload_date", RECORDED_ON)]);
    xml.open("sys_remote_update_set", &[("action", "INSERT_OR_UPDATE")]);
    global_application(&mut xml);
    xml.field(
        "description",
        "The PM Cloud connector's business rules, system properties and approver fields.",
    );
    xml.field("name", UPDATE_SET_NAME);
    xml.field("remote_sys_id", &set_id);
    xml.field("state", "loaded");
    xml.field("sys_class_name", "sys_remote_update_set");
    stamps(&mut xml, &set_id);
    xml.close("sys_remote_update_set");
    for update in updates(script) {
        update.write(&mut xml, &set_id);
    }
    xml.close("unload");
    xml.0
}

/// A deterministic 32-hex-digit `sys_id` for the record named `key`, so that importing a newer version updates the
/// same records instead of adding copies.
pub fn sys_id(key: &str) -> String {
    let digest = Sha256::digest(format!("pm-cloud-connector/{key}"));
    hex::encode(&digest[..16])
}

/// One `sys_update_xml`: a change to one record (or, for a choice list, to one field's choices).
struct Update {
    /// `sys_update_xml.name`: the table and the record's key, e.g. `sys_script_<sys_id>`.
    name: String,
    /// As the update set's list shows it: `Business Rule`, `System Property`, `Dictionary`, …
    kind: &'static str,
    target_name: String,
    /// The table the change is about (`task` for a field), empty for a property.
    table: &'static str,
    /// The `<record_update>` document.
    payload: String,
}

impl Update {
    fn write(&self, xml: &mut Xml, set_id: &str) {
        let id = sys_id(&format!("sys_update_xml/{}", self.name));
        xml.open("sys_update_xml", &[("action", "INSERT_OR_UPDATE")]);
        xml.field("action", "INSERT_OR_UPDATE");
        xml.field_with("application", &[("display_value", "Global")], "global");
        xml.field("category", "customer");
        xml.field("name", &self.name);
        xml.field("payload", &self.payload);
        xml.field_with(
            "remote_update_set",
            &[("display_value", UPDATE_SET_NAME)],
            set_id,
        );
        xml.field("replace_on_upgrade", "false");
        stamps(xml, &id);
        xml.field("table", self.table);
        xml.field("target_name", &self.target_name);
        xml.field("type", self.kind);
        xml.field("update_domain", "global");
        xml.field("update_guid", &id);
        xml.field("update_guid_history", &format!("{id}:0"));
        xml.close("sys_update_xml");
    }
}

fn updates(script: &str) -> Vec<Update> {
    let mut updates: Vec<Update> = PROPERTIES.iter().map(property).collect();
    for field in &FIELDS {
        updates.push(dictionary(field));
        updates.push(documentation(field));
        if field.durations {
            updates.push(choices(field));
        }
    }
    updates.extend(RULES.iter().map(|rule| business_rule(rule, script)));
    updates.push(menu());
    updates.push(properties_module());
    updates
}

/// The application menu "PM Cloud connector" in the navigator, for `admin`: the configuration screen the seed
/// describes ("Go to Configuration").
fn menu() -> Update {
    let id = menu_id();
    let mut record = Xml::default();
    record.open("sys_app_application", &[("action", "INSERT_OR_UPDATE")]);
    record.field("active", "true");
    record.field("device_type", "browser");
    record.field("hint", "The PM Cloud connector's settings in ServiceNow");
    record.field("order", "1000");
    record.field("roles", "admin");
    record.field("sys_class_name", "sys_app_application");
    stamps(&mut record, &id);
    record.field("sys_name", UPDATE_SET_NAME);
    global_scope(&mut record);
    record.field("sys_update_name", &format!("sys_app_application_{id}"));
    record.field("title", UPDATE_SET_NAME);
    record.close("sys_app_application");
    Update {
        name: format!("sys_app_application_{id}"),
        kind: "Application Menu",
        target_name: UPDATE_SET_NAME.to_owned(),
        table: "",
        payload: record_update(Some("sys_app_application"), &record.0),
    }
}

fn menu_id() -> String {
    sys_id("sys_app_application/PM Cloud connector")
}

/// The menu's module "Properties": the list of the `pmc_connector.*` properties, where the administrator sets them.
fn properties_module() -> Update {
    let id = sys_id("sys_app_module/Properties");
    let mut record = Xml::default();
    record.open("sys_app_module", &[("action", "INSERT_OR_UPDATE")]);
    record.field("active", "true");
    record.field_with(
        "application",
        &[("display_value", UPDATE_SET_NAME)],
        &menu_id(),
    );
    record.field("device_type", "browser");
    record.field("filter", PROPERTIES_FILTER);
    record.field(
        "hint",
        "pmc_connector.webhook_url, pmc_connector.webhook_secret and pmc_connector.enabled",
    );
    record.field("link_type", "LIST");
    record.field("name", "sys_properties");
    record.field("order", "100");
    record.field("roles", "admin");
    record.field("sys_class_name", "sys_app_module");
    stamps(&mut record, &id);
    record.field("sys_name", "Properties");
    global_scope(&mut record);
    record.field("sys_update_name", &format!("sys_app_module_{id}"));
    record.field("title", "Properties");
    record.close("sys_app_module");
    Update {
        name: format!("sys_app_module_{id}"),
        kind: "Module",
        target_name: "Properties".to_owned(),
        table: "",
        payload: record_update(Some("sys_app_module"), &record.0),
    }
}

fn property(property: &Property) -> Update {
    let id = sys_id(&format!("sys_properties/{}", property.name));
    let mut record = Xml::default();
    record.open("sys_properties", &[("action", "INSERT_OR_UPDATE")]);
    record.field("choices", "");
    record.field("description", property.description);
    record.field("ignore_cache", "false");
    record.field("is_private", "false");
    record.field("name", property.name);
    record.field("read_roles", "admin");
    record.field("suffix", property.name.trim_start_matches("pmc_connector."));
    record.field("sys_class_name", "sys_properties");
    stamps(&mut record, &id);
    global_scope(&mut record);
    record.field("sys_update_name", &format!("sys_properties_{id}"));
    record.field_with("type", &[("display_value", property.kind)], property.kind);
    record.field("value", property.value);
    record.field("write_roles", "admin");
    record.close("sys_properties");
    Update {
        name: format!("sys_properties_{id}"),
        kind: "System Property",
        target_name: property.name.to_owned(),
        table: "",
        payload: record_update(Some("sys_properties"), &record.0),
    }
}

fn dictionary(field: &Field) -> Update {
    let name = format!("sys_dictionary_task_{}", field.element);
    let id = sys_id(&name);
    let mut record = Xml::default();
    record.open(
        "sys_dictionary",
        &[
            ("action", "INSERT_OR_UPDATE"),
            ("element", field.element),
            ("table", "task"),
        ],
    );
    record.field("active", "true");
    record.field("array", "false");
    record.field("attributes", "");
    record.field("audit", "false");
    // 1 is "Dropdown with -- None --"; a value outside the list (an admin session's "90 minutes") still shows.
    record.field("choice", if field.durations { "1" } else { "0" });
    record.field("column_label", field.label);
    record.field("comments", field.hint);
    record.field("default_value", "");
    record.field("display", "false");
    record.field("element", field.element);
    record.field_with("internal_type", &[("display_value", "String")], "string");
    record.field("mandatory", "false");
    record.field("max_length", &field.max_length.to_string());
    record.field("name", "task");
    record.field("read_only", "false");
    record.field("sys_class_name", "sys_dictionary");
    stamps(&mut record, &id);
    record.field("sys_name", field.label);
    global_scope(&mut record);
    record.field("sys_update_name", &name);
    record.field("text_index", "false");
    record.field("unique", "false");
    record.field("virtual", "false");
    record.field("xml_view", "false");
    record.close("sys_dictionary");
    Update {
        name,
        kind: "Dictionary",
        target_name: format!("task.{}", field.element),
        table: "task",
        payload: record_update(None, &record.0),
    }
}

/// The field's label and hint (`sys_documentation`, in English), which forms and lists show.
fn documentation(field: &Field) -> Update {
    let name = format!("sys_documentation_task_{}_en", field.element);
    let id = sys_id(&name);
    let mut record = Xml::default();
    record.open(
        "sys_documentation",
        &[
            ("element", field.element),
            ("label", field.label),
            ("language", "en"),
            ("table", "task"),
        ],
    );
    record.open("sys_documentation", &[("action", "INSERT_OR_UPDATE")]);
    record.field("element", field.element);
    record.field("help", "");
    record.field("hint", field.hint);
    record.field("label", field.label);
    record.field("language", "en");
    record.field("name", "task");
    record.field("plural", field.label);
    record.field("sys_class_name", "sys_documentation");
    stamps(&mut record, &id);
    record.field("sys_name", field.label);
    global_scope(&mut record);
    record.field("sys_update_name", &name);
    record.close("sys_documentation");
    record.close("sys_documentation");
    Update {
        name,
        kind: "Field Label",
        target_name: format!("task.{}", field.element),
        table: "task",
        payload: record_update(None, &record.0),
    }
}

/// The field's choice list: one update holding every choice, as ServiceNow records a choice list.
fn choices(field: &Field) -> Update {
    let name = format!("sys_choice_task_{}", field.element);
    let mut record = Xml::default();
    record.open(
        "sys_choice",
        &[
            ("action", "INSERT_OR_UPDATE"),
            ("field", field.element),
            ("table", "task"),
        ],
    );
    for (index, value) in duration_choices().iter().enumerate() {
        let id = sys_id(&format!("{name}/{value}"));
        record.open("sys_choice", &[("action", "INSERT_OR_UPDATE")]);
        record.field("dependent_value", "");
        record.field("element", field.element);
        record.field("hint", "");
        record.field("inactive", "false");
        record.field("label", value);
        record.field("language", "en");
        record.field("name", "task");
        record.field("sequence", &((index + 1) * 10).to_string());
        stamps(&mut record, &id);
        global_scope(&mut record);
        record.field("value", value);
        record.close("sys_choice");
    }
    record.close("sys_choice");
    Update {
        name,
        kind: "Choice list",
        target_name: format!("task.{}", field.element),
        table: "task",
        payload: record_update(Some("task"), &record.0),
    }
}

fn business_rule(rule: &BusinessRule, script: &str) -> Update {
    let id = sys_id(&format!("sys_script/{}", rule.name));
    let mut record = Xml::default();
    record.open("sys_script", &[("action", "INSERT_OR_UPDATE")]);
    record.field("abort_action", "false");
    record.field("access", "package_private");
    record.field("action_delete", "false");
    record.field("action_insert", "false");
    record.field("action_query", "false");
    record.field("action_update", "true");
    record.field("active", "true");
    record.field("add_message", "false");
    record.field("advanced", "true");
    record.field("change_fields", "false");
    record.field("client_callable", "false");
    record.field("collection", rule.table);
    record.field("condition", rule.condition);
    record.field("description", rule.description);
    record.field("execute_function", "false");
    record.field_with("filter_condition", &[("table", rule.table)], "");
    record.field("is_rest", "false");
    record.field("name", rule.name);
    record.field("order", "100");
    record.field("priority", "100");
    record.field("script", script);
    record.field("sys_class_name", "sys_script");
    stamps(&mut record, &id);
    record.field("sys_name", rule.name);
    record.field("sys_overrides", "");
    global_scope(&mut record);
    record.field("sys_update_name", &format!("sys_script_{id}"));
    record.field("template", "");
    record.field("when", "async");
    record.close("sys_script");
    Update {
        name: format!("sys_script_{id}"),
        kind: "Business Rule",
        target_name: rule.name.to_owned(),
        table: rule.table,
        payload: record_update(Some("sys_script"), &record.0),
    }
}

/// A `<record_update>` document around `record`, with the `table` attribute where ServiceNow's exports carry one.
fn record_update(table: Option<&str>, record: &str) -> String {
    let mut xml = Xml::default();
    xml.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    match table {
        Some(table) => xml.open("record_update", &[("table", table)]),
        None => xml.open("record_update", &[]),
    }
    xml.raw(record);
    xml.close("record_update");
    xml.0
}

fn global_application(xml: &mut Xml) {
    xml.field_with("application", &[("display_value", "Global")], "global");
    xml.field("application_name", "Global");
    xml.field("application_scope", "global");
}

fn global_scope(xml: &mut Xml) {
    xml.field_with(
        "sys_package",
        &[("display_value", "Global"), ("source", "global")],
        "global",
    );
    xml.field_with("sys_scope", &[("display_value", "Global")], "global");
}

/// The audit fields every record carries.
fn stamps(xml: &mut Xml, id: &str) {
    xml.field("sys_created_by", "admin");
    xml.field("sys_created_on", RECORDED_ON);
    xml.field("sys_id", id);
    xml.field("sys_mod_count", "0");
    xml.field("sys_updated_by", "admin");
    xml.field("sys_updated_on", RECORDED_ON);
}

/// XML text written element by element, one per line, escaped by quick-xml: `<`, `>` and `&` in text (as ServiceNow's
/// exports do), quotes too in attribute values.
#[derive(Default)]
struct Xml(String);

impl Xml {
    fn raw(&mut self, text: &str) {
        self.0.push_str(text);
    }

    fn start(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.0.push('<');
        self.0.push_str(name);
        for (key, value) in attributes {
            self.0.push_str(&format!(" {key}=\"{}\"", escape(*value)));
        }
    }

    fn open(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.start(name, attributes);
        self.0.push_str(">\n");
    }

    fn close(&mut self, name: &str) {
        self.0.push_str(&format!("</{name}>\n"));
    }

    /// `<name>value</name>`, or `<name/>` when `value` is empty (as ServiceNow exports an empty field).
    fn field(&mut self, name: &str, value: &str) {
        self.field_with(name, &[], value);
    }

    fn field_with(&mut self, name: &str, attributes: &[(&str, &str)], value: &str) {
        self.start(name, attributes);
        if value.is_empty() {
            self.0.push_str("/>\n");
        } else {
            self.0
                .push_str(&format!(">{}</{name}>\n", partial_escape(value)));
        }
    }
}
