//! A task record as the Table API returns it: every value a string, reference fields possibly `{link, value}`.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
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

    pub fn sys_id(&self) -> Option<&str> {
        self.text("sys_id")
    }

    pub fn number(&self) -> Option<&str> {
        self.text("number")
    }

    pub fn correlation_id(&self) -> Option<&str> {
        self.text("correlation_id")
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
}
