//! Invalid fields named by their JSON path, and a small walker over a JSON object that collects them all, so that
//! one answer names every bad field (CONTRACT §4: `"errors": [{"field": "application.sha256", "message": …}]`).

use serde::Serialize;
use serde_json::{Map, Value};

/// One invalid field, named by its JSON path (for example `application.sha256`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Invalid fields as one line of text (`a is required; b must be a string`), for logs and check details.
pub fn describe_fields(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether `c` is a control character (line breaks and tabs included) or one that shows nothing or reorders what
/// follows: bidirectional marks, embeddings, overrides and isolates, zero-width space and word joiners, the byte
/// order mark, the line and paragraph separators. Such characters can make text read otherwise than it is.
pub fn is_hidden_or_control(c: char) -> bool {
    c.is_control()
        || matches!(
            u32::from(c),
            0x061C
                | 0x200B
                | 0x200E
                | 0x200F
                | 0x2028..=0x202E
                | 0x2060..=0x2064
                | 0x2066..=0x2069
                | 0xFEFF
                | 0xFFF9..=0xFFFB
        )
}

/// Plain strings are at most this long unless a rule says otherwise (CONTRACT §5).
pub const MAX_STRING: usize = 1024;

#[derive(Default)]
pub struct Collector {
    errors: Vec<FieldError>,
}

/// One JSON object being read, with the path that names its fields.
pub struct ObjectReader<'a> {
    object: Option<&'a Map<String, Value>>,
    path: String,
}

impl Collector {
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// How many invalid fields have been reported so far.
    pub fn error_count(&self) -> usize {
        self.errors.len()
    }

    pub fn extend(&mut self, errors: Vec<FieldError>) {
        self.errors.extend(errors);
    }

    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value())
        } else {
            Err(self.errors)
        }
    }

    pub fn root<'a>(&self, object: &'a Map<String, Value>) -> ObjectReader<'a> {
        ObjectReader {
            object: Some(object),
            path: String::new(),
        }
    }

    /// The value at `key`; `None` when absent (or `null`), after reporting it when it is required.
    fn present<'a>(
        &mut self,
        parent: &ObjectReader<'a>,
        key: &str,
        required: bool,
    ) -> Option<&'a Value> {
        let value = parent.get(key);
        if value.is_none() && required {
            self.push(parent.child_path(key), "is required");
        }
        value
    }

    /// The object at `key`; a missing optional one reads as absent, anything else than an object is an error.
    pub fn object<'a>(
        &mut self,
        parent: &ObjectReader<'a>,
        key: &str,
        required: bool,
    ) -> Option<ObjectReader<'a>> {
        let path = parent.child_path(key);
        let Value::Object(object) = self.present(parent, key, required)? else {
            self.push(path, "must be an object");
            return None;
        };
        Some(ObjectReader {
            object: Some(object),
            path,
        })
    }

    /// A string at `key`, kept as sent (not trimmed). Empty or white space counts as absent (CONTRACT §5), and so
    /// does, in an optional field, a webhook placeholder PM Cloud left unreplaced (`%%Name%%`).
    pub fn string(
        &mut self,
        parent: &ObjectReader<'_>,
        key: &str,
        required: bool,
        max: usize,
    ) -> Option<String> {
        let path = parent.child_path(key);
        let Value::String(text) = self.present(parent, key, required)? else {
            self.push(path, "must be a string");
            return None;
        };
        if text.trim().is_empty() {
            if required {
                self.push(path, "must not be empty");
            }
            return None;
        }
        if !required && is_unreplaced_placeholder(text) {
            return None;
        }
        if text.chars().count() > max {
            self.push(path, format!("must be at most {max} characters"));
            return None;
        }
        Some(text.clone())
    }

    /// A boolean at `key`; absent reads as `None`, anything but `true` or `false` is an error.
    pub fn boolean(&mut self, parent: &ObjectReader<'_>, key: &str) -> Option<bool> {
        match self.present(parent, key, false)? {
            Value::Bool(value) => Some(*value),
            _ => {
                self.push(parent.child_path(key), "must be true or false");
                None
            }
        }
    }

    /// A string at `key` turned into a `T` by `parse`, whose error says what is wrong with the text.
    pub fn parsed<T>(
        &mut self,
        parent: &ObjectReader<'_>,
        key: &str,
        required: bool,
        max: usize,
        parse: impl FnOnce(&str) -> Result<T, &'static str>,
    ) -> Option<T> {
        let text = self.string(parent, key, required, max)?;
        parse(&text)
            .map_err(|message| self.push(parent.child_path(key), message))
            .ok()
    }
}

/// `%%Name%%` (letters, digits, `_`): a placeholder of PM Cloud's webhook template that it did not replace.
fn is_unreplaced_placeholder(text: &str) -> bool {
    text.trim()
        .strip_prefix("%%")
        .and_then(|rest| rest.strip_suffix("%%"))
        .is_some_and(|name| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

impl<'a> ObjectReader<'a> {
    /// A present `null` reads as absent: optional fields may be sent as null.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.object
            .and_then(|o| o.get(key))
            .filter(|v| !v.is_null())
    }

    /// The object's keys, in the order received.
    pub fn keys(&self) -> Vec<&'a str> {
        self.object
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    pub fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(value: Value, required: bool) -> (Option<String>, Vec<FieldError>) {
        let body = json!({ "field": value });
        let mut c = Collector::default();
        let root = c.root(body.as_object().unwrap());
        let text = c.string(&root, "field", required, MAX_STRING);
        (text, c.errors)
    }

    #[test]
    fn empty_and_unreplaced_optional_strings_are_absent() {
        for absent in ["", "   ", "%%Sha256Hash%%", " %%File_Path2%% "] {
            assert_eq!(read(json!(absent), false), (None, vec![]), "{absent:?}");
        }
        for kept in ["%%", "%%%%", "100%% sure", "%%not a name%%", "x%%Y%%"] {
            assert_eq!(
                read(json!(kept), false).0.as_deref(),
                Some(kept),
                "{kept:?}"
            );
        }
    }

    #[test]
    fn a_required_string_keeps_an_unreplaced_placeholder_and_refuses_empty() {
        assert_eq!(
            read(json!("%%FilePath%%"), true).0.as_deref(),
            Some("%%FilePath%%")
        );
        let (text, errors) = read(json!(" "), true);
        assert_eq!(text, None);
        assert_eq!(errors, [FieldError::new("field", "must not be empty")]);
    }
}
