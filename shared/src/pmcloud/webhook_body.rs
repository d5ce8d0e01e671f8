//! PM Cloud's webhook body, read whether or not PM Cloud JSON-escaped the values it put into the template
//! (CONTRACT §5, "The body as PM Cloud sends it").
//!
//! PM Cloud's webhook settings put each `%%Placeholder%%` value into the administrator's JSON template as it is,
//! and BeyondTrust does not say whether values are escaped. If they are not, a domain user `ACME\jdoe` makes the
//! body invalid JSON, and worse, `ACME\bob` or `C:\tools\new.exe` make it valid JSON that hides a backspace, a tab
//! and a line break. So a body has two readings:
//! 1. **JSON**, when it parses and no identifying field ([`IDENTIFYING_FIELDS`]) holds a control character;
//! 2. **raw** otherwise: the template filled with raw values, where inside a string every backslash is literal,
//!    control characters stay, and a double quote belongs to the value unless the structure of the template
//!    follows it ([`Raw::closes`]).
//!
//! A body neither reading turns into an object is refused with the JSON reading's line and column.

use serde_json::{Map, Value};

/// The fields whose values name the request, its user, computer and application (CONTRACT §5), as JSON paths: a
/// control character in one of them means the JSON reading turned a literal backslash into an escape.
pub const IDENTIFYING_FIELDS: [&[&str]; 7] = [
    &["pmcRequestId"],
    &["user", "name"],
    &["computer", "hostName"],
    &["application", "name"],
    &["application", "path"],
    &["application", "sha256"],
    &["application", "sha1"],
];

/// Which reading gave the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Valid JSON: the values were escaped, or needed no escaping.
    Json,
    /// The template filled with raw values.
    Raw,
}

/// Why a webhook body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Neither reading gives an object, and the JSON reading fails at `line`, `column` (1-based, as serde_json
    /// counts them); `reason` is serde_json's, which quotes no part of the body.
    #[error("the body is not valid JSON: {reason}")]
    Malformed {
        line: usize,
        column: usize,
        reason: String,
    },
    /// Valid JSON, but not an object (an array, a string, a number …).
    #[error("the body must be a JSON object")]
    NotAnObject,
}

/// Reads a webhook body by the first reading that fits (see the module's documentation).
/// Errors: [`BodyError::Malformed`] when neither reading gives an object and the JSON reading fails,
/// [`BodyError::NotAnObject`] when it is JSON but not an object.
pub fn read_webhook_body(body: &[u8]) -> Result<(Map<String, Value>, Reading), BodyError> {
    let json = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) if !holds_control_character(&object) => {
            return Ok((object, Reading::Json));
        }
        other => other,
    };
    if let Some(object) = std::str::from_utf8(body).ok().and_then(raw_object) {
        return Ok((object, Reading::Raw));
    }
    match json {
        // Neither reading is clean: the JSON one is kept (the ticket spells its control character out).
        Ok(Value::Object(object)) => Ok((object, Reading::Json)),
        Ok(_) => Err(BodyError::NotAnObject),
        Err(error) => Err(BodyError::Malformed {
            line: error.line(),
            column: error.column(),
            reason: error.to_string(),
        }),
    }
}

/// Whether any of [`IDENTIFYING_FIELDS`] holds a string with a control character.
fn holds_control_character(object: &Map<String, Value>) -> bool {
    IDENTIFYING_FIELDS.iter().any(|path| {
        let mut value = object.get(path[0]);
        for key in &path[1..] {
            value = value.and_then(|v| v.get(key));
        }
        value
            .and_then(Value::as_str)
            .is_some_and(|text| text.chars().any(char::is_control))
    })
}

/// How deep objects and arrays may nest, as serde_json allows them: deeper, a body is not read at all, so that
/// neither this reader nor anything that walks the value afterwards can overflow the stack.
const MAX_DEPTH: usize = 128;

/// The raw reading of `text` as an object, or `None` when it does not give one.
fn raw_object(text: &str) -> Option<Map<String, Value>> {
    let mut raw = Raw {
        text,
        at: 0,
        depth: 0,
    };
    let value = raw.value(Context::Top)?;
    raw.skip_white_space();
    match value {
        Value::Object(object) if raw.at == text.len() => Some(object),
        _ => None,
    }
}

/// Where a string stands, which decides what may follow its closing quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Top,
    Key,
    ObjectValue,
    ArrayValue,
}

/// A recursive-descent reader of JSON's structure whose strings are raw.
struct Raw<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    at: usize,
    /// Objects and arrays open around the next character.
    depth: usize,
}

impl Raw<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn skip_white_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - trim_json_white_space(rest).len();
    }

    fn eat(&mut self, expected: char) -> Option<()> {
        self.skip_white_space();
        self.rest().starts_with(expected).then(|| self.at += 1)
    }

    fn value(&mut self, context: Context) -> Option<Value> {
        self.skip_white_space();
        match self.rest().chars().next()? {
            '{' | '[' if self.depth == MAX_DEPTH => None,
            '{' => self.nested(Self::object),
            '[' => self.nested(Self::array),
            '"' => self.string(context).map(Value::String),
            '-' | '0'..='9' => self.number(),
            _ => self.literal(),
        }
    }

    fn nested(&mut self, read: fn(&mut Self) -> Option<Value>) -> Option<Value> {
        self.depth += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }

    fn object(&mut self) -> Option<Value> {
        self.eat('{')?;
        let mut object = Map::new();
        if self.eat('}').is_some() {
            return Some(Value::Object(object));
        }
        loop {
            self.eat('"')?;
            self.at -= 1;
            let key = self.string(Context::Key)?;
            self.eat(':')?;
            let value = self.value(Context::ObjectValue)?;
            object.insert(key, value);
            if self.eat(',').is_none() {
                self.eat('}')?;
                return Some(Value::Object(object));
            }
        }
    }

    fn array(&mut self) -> Option<Value> {
        self.eat('[')?;
        let mut items = Vec::new();
        if self.eat(']').is_some() {
            return Some(Value::Array(items));
        }
        loop {
            items.push(self.value(Context::ArrayValue)?);
            if self.eat(',').is_none() {
                self.eat(']')?;
                return Some(Value::Array(items));
            }
        }
    }

    /// A string from its opening quote to the first quote that [`Self::closes`] in `context`, taken literally.
    fn string(&mut self, context: Context) -> Option<String> {
        let start = self.at + 1;
        let mut from = start;
        loop {
            let quote = from + self.text[from..].find('"')?;
            if Self::closes(&self.text[quote + 1..], context) {
                self.at = quote + 1;
                return Some(self.text[start..quote].to_owned());
            }
            from = quote + 1;
        }
    }

    /// Whether a quote followed by `after` ends a string in `context`: what follows, after optional white space,
    /// is the structure a template has there (`:` after a key; `,` and the next key, or `}`, after a value in an
    /// object; `,` and a value, or `]`, in an array). A closing bracket must itself be followed by structure or
    /// the end. So a quote inside a value (`He said "now", then left`) stays in the value.
    fn closes(after: &str, context: Context) -> bool {
        let after = trim_json_white_space(after);
        let bracket_ends = |rest: &str| {
            let rest = trim_json_white_space(rest);
            rest.is_empty() || rest.starts_with([',', '}', ']'])
        };
        match context {
            Context::Top => after.is_empty(),
            Context::Key => after.starts_with(':'),
            Context::ObjectValue => match after.strip_prefix(',') {
                Some(rest) => trim_json_white_space(rest).starts_with('"'),
                None => after.strip_prefix('}').is_some_and(bracket_ends),
            },
            Context::ArrayValue => match after.strip_prefix(',') {
                Some(rest) => trim_json_white_space(rest).starts_with(|c: char| {
                    matches!(c, '"' | '{' | '[' | '-' | '0'..='9' | 't' | 'f' | 'n')
                }),
                None => after.strip_prefix(']').is_some_and(bracket_ends),
            },
        }
    }

    fn number(&mut self) -> Option<Value> {
        let rest = self.rest();
        let length = rest
            .find(|c: char| !matches!(c, '0'..='9' | '-' | '+' | '.' | 'e' | 'E'))
            .unwrap_or(rest.len());
        let number = serde_json::from_str::<serde_json::Number>(&rest[..length]).ok()?;
        self.at += length;
        Some(Value::Number(number))
    }

    fn literal(&mut self) -> Option<Value> {
        let (word, value) = [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ]
        .into_iter()
        .find(|(word, _)| self.rest().starts_with(word))?;
        self.at += word.len();
        Some(value)
    }
}

/// `text` without the white space JSON allows between tokens (RFC 8259 §2: space, tab, line feed, carriage return).
fn trim_json_white_space(text: &str) -> &str {
    text.trim_start_matches([' ', '\t', '\n', '\r'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: &str) -> (Value, Reading) {
        let (object, reading) = read_webhook_body(body.as_bytes()).expect(body);
        (Value::Object(object), reading)
    }

    #[test]
    fn the_contracts_examples_are_stored_as_pm_cloud_put_them_in() {
        for (body, expected, reading) in [
            (
                r#"{"pmcRequestId": "r-1", "user": {"name": "ACME\jdoe"}}"#,
                json!({"pmcRequestId": "r-1", "user": {"name": "ACME\\jdoe"}}),
                Reading::Raw,
            ),
            (
                r#"{"pmcRequestId": "r-1", "application": {"path": "C:\Program Files\Wireshark\Wireshark.exe"}}"#,
                json!({"pmcRequestId": "r-1", "application": {"path": "C:\\Program Files\\Wireshark\\Wireshark.exe"}}),
                Reading::Raw,
            ),
            (
                r#"{"pmcRequestId": "r-1", "user": {"name": "ACME\bob"}}"#,
                json!({"pmcRequestId": "r-1", "user": {"name": "ACME\\bob"}}),
                Reading::Raw,
            ),
            (
                r#"{"pmcRequestId": "r-1", "application": {"path": "C:\tools\new.exe"}}"#,
                json!({"pmcRequestId": "r-1", "application": {"path": "C:\\tools\\new.exe"}}),
                Reading::Raw,
            ),
            (
                "{\"pmcRequestId\": \"r-1\", \"user\": {\"name\": \"ACME\\bob\"}, \"reason\": {\"text\": \"He said \"now\"\nsecond line\"}}",
                json!({"pmcRequestId": "r-1", "user": {"name": "ACME\\bob"},
                       "reason": {"text": "He said \"now\"\nsecond line"}}),
                Reading::Raw,
            ),
            (
                "{\"pmcRequestId\": \"r-1\", \"reason\": {\"text\": \"He said \"now\"\nsecond line\"}}",
                json!({"pmcRequestId": "r-1", "reason": {"text": "He said \"now\"\nsecond line"}}),
                Reading::Raw,
            ),
        ] {
            assert_eq!(read(body), (expected, reading), "{body}");
        }
    }

    #[test]
    fn escaped_bodies_stay_as_json_meant_them() {
        for (body, expected) in [
            (
                r#"{"pmcRequestId": "r-1", "user": {"name": "ACME\\bob"}}"#,
                json!({"pmcRequestId": "r-1", "user": {"name": "ACME\\bob"}}),
            ),
            (
                r#"{"pmcRequestId": "r-1", "application": {"path": "C:\\tools\\new.exe"}}"#,
                json!({"pmcRequestId": "r-1", "application": {"path": "C:\\tools\\new.exe"}}),
            ),
            (
                r#"{"pmcRequestId": "r-1", "reason": {"text": "He said \"now\"\nsecond line \u00e9"}}"#,
                json!({"pmcRequestId": "r-1", "reason": {"text": "He said \"now\"\nsecond line é"}}),
            ),
            (
                r#"{"pmcRequestId": "r-1", "n": [1, -2.5e3, true, null, {"a": "b"}]}"#,
                json!({"pmcRequestId": "r-1", "n": [1, -2.5e3, true, null, {"a": "b"}]}),
            ),
        ] {
            assert_eq!(read(body), (expected, Reading::Json), "{body}");
        }
    }

    #[test]
    fn the_raw_reading_keeps_numbers_literals_arrays_and_quotes_that_look_like_structure() {
        let body = r#"{"pmcRequestId": "r-1", "user": {"name": "ACME\bob"}, "n": [1, "a\b", true, null],
                       "reason": {"text": "Needed "now", urgently"}, "x": {}}"#;
        assert_eq!(
            read(body),
            (
                json!({"pmcRequestId": "r-1", "user": {"name": "ACME\\bob"}, "n": [1, "a\\b", true, null],
                       "reason": {"text": "Needed \"now\", urgently"}, "x": {}}),
                Reading::Raw
            )
        );
    }

    #[test]
    fn a_body_neither_reading_accepts_names_the_line_and_column_and_never_the_body() {
        for (body, line, column) in [
            ("{\"pmcRequestId\": \"r-1\",\n \"user\": }", 2, 10),
            ("{\"pmcRequestId\": \"secret-ish", 1, 28),
            ("", 1, 0),
        ] {
            let error = read_webhook_body(body.as_bytes()).unwrap_err();
            let BodyError::Malformed {
                line: l, column: c, ..
            } = &error
            else {
                panic!("{error:?}");
            };
            assert_eq!((*l, *c), (line, column), "{body}");
            assert!(!error.to_string().contains("secret-ish"), "{error}");
        }
        for body in ["[1]", "\"text\"", "null", "42"] {
            assert_eq!(
                read_webhook_body(body.as_bytes()),
                Err(BodyError::NotAnObject),
                "{body}"
            );
        }
        assert!(matches!(
            read_webhook_body(b"{\"a\": \"\xff\"}"),
            Err(BodyError::Malformed { .. })
        ));
    }

    #[test]
    fn a_body_nested_deeper_than_json_allows_is_refused_without_overflowing() {
        for depth in [129, 20_000] {
            let body = format!(
                r#"{{"pmcRequestId": "r-1", "user": {{"name": "A\b"}}, "x": {}{}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            );
            assert!(
                matches!(
                    read_webhook_body(body.as_bytes()),
                    Err(BodyError::Malformed { .. })
                ),
                "{depth}"
            );
        }
        let within = format!(
            r#"{{"pmcRequestId": "r-1", "user": {{"name": "A"}}, "x": {}{}}}"#,
            "[".repeat(126),
            "]".repeat(126)
        );
        assert_eq!(read(&within).1, Reading::Raw);
    }

    #[test]
    fn json_whose_identifying_field_holds_a_real_control_character_and_no_raw_reading_stays_json() {
        // Escaped `\b` in the name, and an unescaped quote run that no raw reading can close: the JSON reading is
        // kept rather than losing the request; the ticket spells the control character out.
        let body = r#"{"pmcRequestId": "r-1", "user": {"name": "A\bB"}, "z": "\","}"#;
        let (value, reading) = read(body);
        assert_eq!(reading, Reading::Json);
        assert_eq!(value["user"]["name"], "A\u{8}B");
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        const TEMPLATE: &str = r#"{"pmcRequestId": "%%RequestId%%", "user": {"name": "%%User%%"},
  "computer": {"hostName": "%%HostName%%"}, "application": {"name": "%%ProductDescription%%"},
  "reason": {"text": "%%Reason%%"}, "details": {"Workstyle": "%%Workstyle%%"}}"#;

        fn fill(values: &[(&str, String)], escape: bool) -> String {
            values
                .iter()
                .fold(TEMPLATE.to_owned(), |body, (placeholder, value)| {
                    let text = if escape {
                        let quoted = serde_json::to_string(value).unwrap();
                        quoted[1..quoted.len() - 1].to_owned()
                    } else {
                        value.clone()
                    };
                    body.replace(placeholder, &text)
                })
        }

        /// A quote followed by what the contract calls structure makes the raw reading ambiguous.
        fn quote_before_structure(value: &str) -> bool {
            value.match_indices('"').any(|(at, _)| {
                trim_json_white_space(&value[at + 1..]).starts_with([',', '}', ']', ':'])
                    || trim_json_white_space(&value[at + 1..]).is_empty()
            })
        }

        proptest! {
            #[test]
            fn escaping_the_values_or_not_gives_the_same_object_when_the_raw_reading_is_unambiguous(
                id in "[A-Za-z0-9._:-]{1,20}",
                user in r#"[A-Za-z0-9 \\."'éß]{1,20}"#,
                host in r#"[A-Za-z0-9\\-]{1,15}"#,
                product in r#"[A-Za-z0-9 \\(){}"'.:,]{1,30}"#,
                reason in "[A-Za-z0-9 \\\\\"',.:\n\t]{0,60}",
                workstyle in "[A-Za-z0-9 \\\\]{0,20}",
            ) {
                let values = [
                    ("%%RequestId%%", id.clone()), ("%%User%%", user.clone()), ("%%HostName%%", host.clone()),
                    ("%%ProductDescription%%", product.clone()), ("%%Reason%%", reason.clone()),
                    ("%%Workstyle%%", workstyle.clone()),
                ];
                prop_assume!(!values.iter().any(|(_, v)| quote_before_structure(v)));
                let raw = fill(&values, false);
                let expected = json!({"pmcRequestId": id, "user": {"name": user}, "computer": {"hostName": host},
                    "application": {"name": product}, "reason": {"text": reason},
                    "details": {"Workstyle": workstyle}});
                // Where the raw body is itself valid JSON meaning something else, and no identifying field shows
                // it, the JSON reading rightly applies: that is the ambiguity the contract accepts.
                let json_meaning_else = serde_json::from_str::<Value>(&raw)
                    .is_ok_and(|v| v.as_object().is_some_and(|o| !holds_control_character(o)) && v != expected);
                prop_assume!(!json_meaning_else);
                prop_assert_eq!(read(&fill(&values, true)).0, expected.clone());
                prop_assert_eq!(read(&raw).0, expected);
            }
        }
    }
}
