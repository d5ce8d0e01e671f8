//! The tables the instance serves and what a query or an answer may name in them: their fields, their reference
//! fields, and a referenced record's fields reached through a reference (dot-walking, one level:
//! `sysapproval.correlation_display`, `user.active`; shared/DESIGN.md, "ServiceNow approvals and journals").

use std::collections::{BTreeMap, BTreeSet};

use crate::config::SimConfig;
use crate::journal::WORK_NOTES;
use crate::query::Fields;
use crate::state::{Memory, Record};

/// Fields every record of every table has.
const SYSTEM_FIELDS: [&str; 6] = [
    "sys_id",
    "sys_created_on",
    "sys_updated_on",
    "sys_created_by",
    "sys_updated_by",
    "sys_class_name",
];

/// Fields every task table has, besides the system ones and the configured duration and notes fields.
const TASK_FIELDS: [&str; 10] = [
    "number",
    "active",
    "state",
    "approval",
    "short_description",
    "description",
    "correlation_id",
    "correlation_display",
    "assignment_group",
    // A journal field: always read as empty ([`crate::journal`]).
    WORK_NOTES,
];

/// The approval record table (CONTRACT §15).
pub(crate) const APPROVALS: &str = "sysapproval_approver";
/// Users: `user_name`, `name`, `active` (`"true"`/`"false"`).
pub(crate) const USERS: &str = "sys_user";
/// Groups: `name`.
pub(crate) const GROUPS: &str = "sys_user_group";
/// Group memberships: `group` and `user`, both sys_ids.
pub(crate) const GROUP_MEMBERS: &str = "sys_user_grmember";

/// What a reference field points at.
#[derive(Clone, Copy)]
enum Referenced {
    /// A record of this table.
    Table(&'static str),
    /// A record of any of the task tables (ServiceNow's `task`, which they extend).
    Task,
}

impl Referenced {
    /// The table named in the reference's link.
    fn link_table(self) -> &'static str {
        match self {
            Referenced::Table(table) => table,
            Referenced::Task => "task",
        }
    }
}

/// How a task table numbers its records (`INC0010001`, …).
pub(crate) struct Numbering {
    pub prefix: &'static str,
    pub first: u64,
}

/// A table the instance serves.
pub(crate) struct Table {
    pub name: &'static str,
    /// `Some` for the task tables, which number their records and have the configured duration and notes fields.
    pub numbering: Option<Numbering>,
    /// Its own fields, besides [`SYSTEM_FIELDS`]; a new record carries all of them (empty when not set), as
    /// ServiceNow's answers do.
    fields: &'static [&'static str],
    /// What a new record holds unless the create gives it.
    pub defaults: &'static [(&'static str, &'static str)],
    references: &'static [(&'static str, Referenced)],
    /// The README's business rule for this table: an update that changes one of these fields of a PM Cloud ticket's
    /// record sends the signed event. Empty: no rule.
    pub watched: &'static [&'static str],
    /// The field, perhaps dot-walked, that reads `PM Cloud` on a record of a PM Cloud ticket.
    pub pm_cloud_field: &'static str,
}

const fn task_table(name: &'static str, prefix: &'static str, first: u64) -> Table {
    Table {
        name,
        numbering: Some(Numbering { prefix, first }),
        fields: &TASK_FIELDS,
        defaults: &[
            ("active", "true"),
            ("state", "1"),
            ("approval", "not requested"),
        ],
        references: &[("assignment_group", Referenced::Table(GROUPS))],
        watched: &["approval", "active"],
        pm_cloud_field: "correlation_display",
    }
}

const fn plain_table(
    name: &'static str,
    fields: &'static [&'static str],
    defaults: &'static [(&'static str, &'static str)],
    references: &'static [(&'static str, Referenced)],
) -> Table {
    Table {
        name,
        numbering: None,
        fields,
        defaults,
        references,
        watched: &[],
        pm_cloud_field: "",
    }
}

const TABLES: [Table; 8] = [
    task_table("incident", "INC", 10001),
    task_table("change_request", "CHG", 30001),
    task_table("sc_task", "SCTASK", 10001),
    task_table("sc_req_item", "RITM", 10001),
    plain_table(
        USERS,
        &["user_name", "name", "active"],
        &[("active", "true")],
        &[],
    ),
    plain_table(GROUPS, &["name"], &[], &[]),
    plain_table(
        GROUP_MEMBERS,
        &["group", "user"],
        &[],
        &[
            ("group", Referenced::Table(GROUPS)),
            ("user", Referenced::Table(USERS)),
        ],
    ),
    Table {
        watched: &["state"],
        pm_cloud_field: "sysapproval.correlation_display",
        ..plain_table(
            APPROVALS,
            &[
                "sysapproval",
                "document_id",
                "source_table",
                "approver",
                "state",
                "comments",
                "due_date",
            ],
            &[("state", "requested")],
            &[
                ("sysapproval", Referenced::Task),
                ("document_id", Referenced::Task),
                ("approver", Referenced::Table(USERS)),
            ],
        )
    },
];

/// The table called `name`, if the instance has it.
pub(crate) fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|table| table.name == name)
}

/// Whether `name` is one of the four task tables.
pub(crate) fn is_task_table(name: &str) -> bool {
    table(name).is_some_and(Table::is_task)
}

impl Table {
    pub fn is_task(&self) -> bool {
        self.numbering.is_some()
    }

    /// Every field a new record of this table carries, the configured ones of a task table included.
    pub fn field_names<'c>(
        &self,
        config: &'c SimConfig,
    ) -> impl Iterator<Item = &'c str> + use<'c> {
        let configured = self
            .numbering
            .as_ref()
            .map(|_| [config.duration_field.as_str(), config.notes_field.as_str()]);
        SYSTEM_FIELDS
            .iter()
            .chain(self.fields)
            .copied()
            .chain(configured.into_iter().flatten())
    }

    fn reference(&self, field: &str) -> Option<Referenced> {
        self.references
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, to)| *to)
    }

    /// The table a reference field's `link` names, or `None` when `field` is no reference.
    pub fn link_table(&self, field: &str) -> Option<&'static str> {
        self.reference(field).map(Referenced::link_table)
    }
}

/// A table as a query or an answer sees it: which fields it knows (its own, the configured ones of a task table,
/// any a stored record of it carries, and `reference.field` for a field the referenced table knows), and what a
/// record holds in one of them.
pub(crate) struct View<'m> {
    memory: &'m Memory,
    pub table: &'static Table,
    known: BTreeSet<String>,
    /// What each reference field's table knows.
    referenced: BTreeMap<&'static str, BTreeSet<String>>,
}

impl<'m> View<'m> {
    pub fn new(memory: &'m Memory, config: &SimConfig, table: &'static Table) -> Self {
        let referenced = table
            .references
            .iter()
            .map(|(field, to)| {
                let known = match to {
                    Referenced::Table(name) => known_fields(memory, config, [*name]),
                    Referenced::Task => known_fields(
                        memory,
                        config,
                        TABLES.iter().filter(|t| t.is_task()).map(|t| t.name),
                    ),
                };
                (*field, known)
            })
            .collect();
        View {
            memory,
            table,
            known: known_fields(memory, config, [table.name]),
            referenced,
        }
    }

    /// The record `record`'s reference field `field` points at, if it is a reference and the record exists.
    fn referenced_record(&self, record: &Record, field: &str) -> Option<&'m Record> {
        let sys_id = record.get(field)?;
        match self.table.reference(field)? {
            Referenced::Table(table) => self.memory.record(table, sys_id),
            Referenced::Task => self.memory.records.iter().find(|candidate| {
                candidate.get("sys_id") == Some(sys_id)
                    && candidate
                        .get("sys_class_name")
                        .is_some_and(|table| is_task_table(table))
            }),
        }
    }
}

impl Fields for View<'_> {
    fn knows(&self, field: &str) -> bool {
        match field.split_once('.') {
            None => self.known.contains(field),
            Some((reference, field)) => self
                .referenced
                .get(reference)
                .is_some_and(|known| known.contains(field)),
        }
    }

    /// A dot-walked field of a reference that is empty, or points at no record, reads as empty.
    fn text<'r>(&'r self, record: &'r Record, field: &str) -> &'r str {
        let value = match field.split_once('.') {
            None => record.get(field),
            Some((reference, field)) => self
                .referenced_record(record, reference)
                .and_then(|referenced| referenced.get(field)),
        };
        value.map_or("", String::as_str)
    }
}

/// The fields `tables` know between them: their own, the configured ones of task tables, and any a stored record
/// of them carries.
fn known_fields<'t>(
    memory: &Memory,
    config: &SimConfig,
    tables: impl IntoIterator<Item = &'t str>,
) -> BTreeSet<String> {
    let mut known = BTreeSet::new();
    for name in tables {
        if let Some(table) = table(name) {
            known.extend(table.field_names(config).map(str::to_owned));
        }
        known.extend(memory.table(name).flat_map(|record| record.keys().cloned()));
    }
    known
}
