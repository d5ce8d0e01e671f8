//! The ServiceNow ticket a request is tied to: which task table it lives in, and the reference PM Cloud reads
//! (CONTRACT §7 `ticket`).

use crate::domain::base_url::BaseUrl;
use crate::domain::ids::SysId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The four ServiceNow task tables a ticket may live in (CONTRACT §2 `taskType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum TaskType {
    Incident,
    ChangeRequest,
    CatalogTask,
    RequestedItem,
}

impl TaskType {
    pub const ALL: [TaskType; 4] = [
        Self::Incident,
        Self::ChangeRequest,
        Self::CatalogTask,
        Self::RequestedItem,
    ];

    /// The table name, as the Table API and `taskType` spell it.
    pub fn table(self) -> &'static str {
        match self {
            Self::Incident => "incident",
            Self::ChangeRequest => "change_request",
            Self::CatalogTask => "sc_task",
            Self::RequestedItem => "sc_req_item",
        }
    }

    /// Errors: "must be incident, change_request, sc_task or sc_req_item" (table names are case-sensitive).
    pub fn parse(table: &str) -> Result<Self, &'static str> {
        Self::ALL
            .into_iter()
            .find(|t| t.table() == table)
            .ok_or("must be incident, change_request, sc_task or sc_req_item")
    }
}

impl fmt::Display for TaskType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.table())
    }
}

impl TryFrom<String> for TaskType {
    type Error = &'static str;
    fn try_from(table: String) -> Result<Self, Self::Error> {
        Self::parse(&table)
    }
}

impl From<TaskType> for &'static str {
    fn from(task_type: TaskType) -> Self {
        task_type.table()
    }
}

/// The ticket as the request records it: `{"table", "number", "sysId", "url"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub table: TaskType,
    /// ServiceNow's number, such as `INC0010001`.
    pub number: String,
    pub sys_id: SysId,
    /// The link an agent opens to see the ticket.
    pub url: String,
}

impl Ticket {
    /// The ticket in `table` with `number` and `sys_id` on the instance at `instance`, with the link an agent
    /// opens to see it: `<instance>/nav_to.do?uri=<table>.do%3Fsys_id%3D<sys_id>`.
    pub fn new(instance: &BaseUrl, table: TaskType, number: String, sys_id: SysId) -> Self {
        let mut url = instance.join("/nav_to.do");
        url.query_pairs_mut()
            .append_pair("uri", &format!("{table}.do?sys_id={sys_id}"));
        Self {
            table,
            number,
            sys_id,
            url: url.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_types_are_the_four_tables_by_name() {
        for table in ["incident", "change_request", "sc_task", "sc_req_item"] {
            assert_eq!(TaskType::parse(table).unwrap().table(), table);
            assert_eq!(
                serde_json::to_value(TaskType::parse(table).unwrap()).unwrap(),
                table
            );
        }
        for bad in ["problem", "Incident", "sys_user", ""] {
            assert_eq!(
                TaskType::parse(bad),
                Err("must be incident, change_request, sc_task or sc_req_item")
            );
        }
        assert!(serde_json::from_str::<TaskType>("\"problem\"").is_err());
    }

    #[test]
    fn ticket_link_escapes_the_target() {
        let url = BaseUrl::parse(
            "https://acme.service-now.com",
            crate::domain::base_url::Hosts::Public,
        )
        .unwrap();
        let sys_id = SysId::parse("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(
            Ticket::new(&url, TaskType::Incident, "INC0010001".into(), sys_id).url,
            "https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3D0123456789abcdef0123456789abcdef"
        );
    }
}
