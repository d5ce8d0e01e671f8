//! A small walker over a JSON object that collects every invalid field by its JSON path, so that one 422
//! names them all (CONTRACT §4).

use crate::problem::FieldError;
use serde_json::{Map, Value};

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

    pub fn len(&self) -> usize {
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

    /// The object at `key`; a missing optional one reads as absent, anything else than an object is an error.
    pub fn object<'a>(
        &mut self,
        parent: &ObjectReader<'a>,
        key: &str,
        required: bool,
    ) -> Option<ObjectReader<'a>> {
        let path = parent.child_path(key);
        match parent.get(key) {
            Some(Value::Object(object)) => Some(ObjectReader {
                object: Some(object),
                path,
            }),
            None => {
                if required {
                    self.push(path, "is required");
                }
                None
            }
            Some(_) => {
                self.push(path, "must be an object");
                None
            }
        }
    }

    /// A string at `key`, trimmed of nothing (the value is kept as sent). Empty counts as absent.
    pub fn string(
        &mut self,
        parent: &ObjectReader<'_>,
        key: &str,
        required: bool,
        max: usize,
    ) -> Option<String> {
        let path = parent.child_path(key);
        match parent.get(key) {
            Some(Value::String(text)) if text.trim().is_empty() => {
                if required {
                    self.push(path, "must not be empty");
                }
                None
            }
            Some(Value::String(text)) => {
                if text.chars().count() > max {
                    self.push(path, format!("must be at most {max} characters"));
                    None
                } else {
                    Some(text.clone())
                }
            }
            None => {
                if required {
                    self.push(path, "is required");
                }
                None
            }
            Some(_) => {
                self.push(path, "must be a string");
                None
            }
        }
    }

    /// A string that must also pass `check`, which says what is wrong with it.
    pub fn string_with(
        &mut self,
        parent: &ObjectReader<'_>,
        key: &str,
        required: bool,
        max: usize,
        check: impl FnOnce(&str) -> Result<(), &'static str>,
    ) -> Option<String> {
        let text = self.string(parent, key, required, max)?;
        match check(&text) {
            Ok(()) => Some(text),
            Err(message) => {
                self.push(parent.child_path(key), message);
                None
            }
        }
    }
}

impl<'a> ObjectReader<'a> {
    /// A present `null` reads as absent: optional fields may be sent as null.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.object
            .and_then(|o| o.get(key))
            .filter(|v| !v.is_null())
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
