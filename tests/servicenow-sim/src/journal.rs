//! Work notes as ServiceNow keeps them: `work_notes` is a journal field, so writing it appends an entry (in
//! `sys_journal_field`) instead of storing a value, and a plain read of the record gives it empty
//! (shared/DESIGN.md, "ServiceNow approvals and journals").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The journal field the connector writes (CONTRACT §14).
pub(crate) const WORK_NOTES: &str = "work_notes";

/// One work note, oldest first in [`crate::Instance::work_notes`]. JSON keeps ServiceNow's names:
/// `{"value": "text", "sys_created_by": "svc.pm.connector", "sys_created_on": "2026-12-07 15:04:05"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkNote {
    /// The text as written.
    pub value: String,
    /// The writer's `user_name`: the token's user for a Table API write.
    pub sys_created_by: String,
    /// When it was written, `YYYY-MM-DD HH:MM:SS` UTC.
    pub sys_created_on: String,
}

/// Every record's work notes, oldest first, by `(table, sys_id)`.
pub(crate) type Journal = BTreeMap<(String, String), Vec<WorkNote>>;
