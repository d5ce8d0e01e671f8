//! A task record as the Table API returns it: every value a string, reference fields possibly `{link, value}`.

use super::error::ServiceNowError;
use crate::domain::base_url::BaseUrl;
use crate::domain::ids::{RequestId, SysId};
use crate::domain::ticket::{TaskType, Ticket};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct TaskRecord(pub Map<String, Value>);

impl TaskRecord {
    /// The field's value as text; `None` when absent or empty. Reads `{"value": …}` reference shapes too.
    pub fn text(&self, field: &str) -> Option<&str> {
        let value = match self.0.get(field)? {
            Value::Object(reference) => reference.get("value")?,
            other => other,
        };
        value.as_str().map(str::trim).filter(|s| !s.is_empty())
    }

    /// `sys_id`, when it is one.
    pub fn sys_id(&self) -> Option<SysId> {
        self.text("sys_id").and_then(|t| SysId::parse(t).ok())
    }

    pub fn number(&self) -> Option<&str> {
        self.text("number")
    }

    /// `correlation_id`, when it could name a request of this connector.
    pub fn correlation_id(&self) -> Option<RequestId> {
        self.text("correlation_id")
            .and_then(|t| RequestId::parse(t).ok())
    }

    /// The reference the request records. Errors: transient when ServiceNow answered a record without its
    /// `sys_id` or number (a retry reads it again).
    pub fn ticket(
        &self,
        table: TaskType,
        instance_url: &BaseUrl,
    ) -> Result<Ticket, ServiceNowError> {
        let (Some(sys_id), Some(number)) = (self.sys_id(), self.number()) else {
            return Err(ServiceNowError::transient(
                "ServiceNow returned a ticket without its sys_id or number",
            ));
        };
        Ok(Ticket::new(instance_url, table, number.to_owned(), sys_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_strings_and_reference_values() {
        let record = TaskRecord(
            json!({
                "number": "INC0010001", "empty": "", "active": "false",
                "assignment_group": {"link": "https://x/api/now/table/sys_user_group/abc", "value": "abc"},
                "odd": 5
            })
            .as_object()
            .unwrap()
            .clone(),
        );
        assert_eq!(record.number(), Some("INC0010001"));
        assert_eq!(record.text("assignment_group"), Some("abc"));
        assert_eq!(record.text("active"), Some("false"));
        assert_eq!(record.text("empty"), None);
        assert_eq!(record.text("missing"), None);
        assert_eq!(record.text("odd"), None);
    }

    #[test]
    fn a_ticket_needs_a_sys_id_and_a_number() {
        let url = BaseUrl::parse(
            "https://acme.service-now.com",
            crate::domain::base_url::Hosts::Public,
        )
        .unwrap();
        let record = |fields: Value| TaskRecord(fields.as_object().unwrap().clone());
        let sys_id = "0123456789abcdef0123456789abcdef";
        let ticket = record(json!({"sys_id": sys_id, "number": "INC0010001"}))
            .ticket(TaskType::Incident, &url)
            .unwrap();
        assert_eq!(ticket.number, "INC0010001");
        assert_eq!(ticket.sys_id, sys_id);
        assert!(ticket.url.ends_with(sys_id));
        for incomplete in [
            json!({"number": "INC0010001"}),
            json!({"sys_id": sys_id}),
            json!({"sys_id": "not-a-sys-id", "number": "INC0010001"}),
        ] {
            assert!(matches!(
                record(incomplete).ticket(TaskType::Incident, &url),
                Err(ServiceNowError::Transient { .. })
            ));
        }
    }
}
