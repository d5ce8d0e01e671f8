//! The OpenAPI document (`openapi.json` at the workspace root) as a test oracle: the HTTP functions' tests send
//! the document's own request examples and check that every answer is one the document describes.
//!
//! [`assert_conforms`] finds the operation and the documented response for the answer's status (failing loudly
//! when the status is not documented), then checks the `Content-Type` against the documented media type, the
//! documented required headers (and the values of every documented header that is present) and the body
//! against the response's JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1), with the document's
//! `#/components/schemas` in reach of its `$ref`s.

use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Where the document lives: the workspace root, next to `Cargo.toml`.
pub const DOCUMENT_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.json");

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The parsed document, read once per test binary.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let text = std::fs::read_to_string(DOCUMENT_PATH)
            .unwrap_or_else(|e| panic!("cannot read {DOCUMENT_PATH}: {e}"));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{DOCUMENT_PATH} is not valid JSON: {e}"))
    })
}

/// The value a local reference (`#/components/...`) points at.
fn pointed_at(reference: &str) -> &'static Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local references are supported, not {reference}"));
    document()
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} points at nothing in {DOCUMENT_PATH}"))
}

/// `value`, or what its `$ref` (followed through any chain of references) points at.
fn resolved(value: &'static Value) -> &'static Value {
    let mut current = value;
    for _ in 0..16 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(reference) => current = pointed_at(reference),
            None => return current,
        }
    }
    panic!("a reference chain in {DOCUMENT_PATH} does not end: {value}")
}

fn path_item(path_template: &str) -> &'static Map<String, Value> {
    document()["paths"]
        .get(path_template)
        .and_then(Value::as_object)
        .unwrap_or_else(|| {
            let known: Vec<&String> = document()["paths"]
                .as_object()
                .map(|paths| paths.keys().collect())
                .unwrap_or_default();
            panic!("{path_template} is not a path of {DOCUMENT_PATH}; its paths are {known:?}")
        })
}

/// The upper-case methods the document has operations for on `path_template`.
pub fn documented_methods(path_template: &str) -> BTreeSet<String> {
    let item = path_item(path_template);
    METHODS
        .iter()
        .filter(|m| item.contains_key(**m))
        .map(|m| m.to_ascii_uppercase())
        .collect()
}

fn operation(method: &str, path_template: &str) -> Option<&'static Value> {
    path_item(path_template).get(&method.to_ascii_lowercase())
}

fn required_operation(method: &str, path_template: &str) -> &'static Value {
    operation(method, path_template).unwrap_or_else(|| {
        panic!(
            "{DOCUMENT_PATH} has no operation {method} {path_template}; it documents {:?} there",
            documented_methods(path_template)
        )
    })
}

/// The statuses the document lists for an operation, for tests that check they cover them all.
pub fn documented_statuses(method: &str, path_template: &str) -> BTreeSet<u16> {
    required_operation(method, path_template)["responses"]
        .as_object()
        .into_iter()
        .flat_map(|responses| responses.keys())
        .map(|code| {
            code.parse().unwrap_or_else(|_| {
                panic!("{method} {path_template}: response key {code} is not a status code")
            })
        })
        .collect()
}

/// The examples of an operation's JSON request body, by name, in the document's order. Panics when the
/// operation has no request body or its body has no examples.
pub fn request_examples(method: &str, path_template: &str) -> Vec<(String, Value)> {
    let operation = required_operation(method, path_template);
    let body = operation
        .get("requestBody")
        .map(resolved)
        .unwrap_or_else(|| panic!("{method} {path_template} documents no request body"));
    let media = body["content"]
        .get("application/json")
        .unwrap_or_else(|| panic!("{method} {path_template} documents no application/json body"));
    let examples: Vec<(String, Value)> = media
        .get("examples")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, example)| (name.clone(), resolved(example)["value"].clone()))
        .chain(
            media
                .get("example")
                .map(|v| ("example".to_owned(), v.clone())),
        )
        .collect();
    assert!(
        !examples.is_empty(),
        "{method} {path_template}: the request body has no examples"
    );
    examples
}

/// The request body example called `name`.
pub fn request_example(method: &str, path_template: &str, name: &str) -> Value {
    let examples = request_examples(method, path_template);
    let names: Vec<&String> = examples.iter().map(|(n, _)| n).collect();
    examples
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.clone())
        .unwrap_or_else(|| {
            panic!("{method} {path_template} has no request example {name}; it has {names:?}")
        })
}

/// The documented response of `operation` for `status`: the exact code, else its range (`4XX`).
fn documented_response(operation: &'static Value, status: u16) -> Option<&'static Value> {
    let responses = operation.get("responses")?;
    responses
        .get(status.to_string())
        .or_else(|| responses.get(format!("{}XX", status / 100)))
        .map(resolved)
}

/// Panics unless `response` is an answer the document describes for `method path_template`.
///
/// A method that the document has no operation for on a documented path must be answered `405`, as the
/// path's operations document it, with an `Allow` header naming exactly the documented methods.
#[track_caller]
pub fn assert_conforms(method: &str, path_template: &str, response: &http::Response<String>) {
    let status = response.status().as_u16();
    let context = format!("{method} {path_template} answered {status}");
    let documented = match operation(method, path_template) {
        Some(operation) => documented_response(operation, status).unwrap_or_else(|| {
            panic!(
                "{context}, which {DOCUMENT_PATH} does not document (it documents {:?}); body: {}",
                documented_statuses(method, path_template),
                response.body()
            )
        }),
        None => {
            assert_eq!(
                status,
                405,
                "{context}: the document has no {method} operation there, so only 405 conforms; body: {}",
                response.body()
            );
            let methods = documented_methods(path_template);
            let answers: Vec<&Value> = methods
                .iter()
                .map(|m| {
                    documented_response(required_operation(m, path_template), 405).unwrap_or_else(
                        || panic!("{m} {path_template} does not document the route's 405"),
                    )
                })
                .collect();
            answers[0]
        }
    };
    if status == 405 {
        let allow = header(response, "allow")
            .unwrap_or_else(|| panic!("{context} without an Allow header"));
        let allowed: BTreeSet<String> = allow
            .split(',')
            .map(|m| m.trim().to_ascii_uppercase())
            .filter(|m| !m.is_empty())
            .collect();
        assert_eq!(
            allowed,
            documented_methods(path_template),
            "{context}: Allow ({allow}) must name exactly the documented methods"
        );
    }
    check_headers(&context, documented, response);
    check_body(&context, documented, response);
}

/// The answers a test checked, by operation, so that it can show it provoked every status the document lists.
#[derive(Debug, Default)]
pub struct Coverage {
    seen: BTreeSet<(String, String, u16)>,
}

impl Coverage {
    pub fn new() -> Self {
        Self::default()
    }

    /// [`assert_conforms`], remembering the status. A `405` for a method the document has no operation for
    /// counts for every operation of the path, since each documents it.
    #[track_caller]
    pub fn check(&mut self, method: &str, path_template: &str, response: &http::Response<String>) {
        assert_conforms(method, path_template, response);
        let status = response.status().as_u16();
        let method = method.to_ascii_uppercase();
        let operations = if operation(&method, path_template).is_some() {
            BTreeSet::from([method])
        } else {
            documented_methods(path_template)
        };
        for method in operations {
            self.seen.insert((method, path_template.to_owned(), status));
        }
    }

    /// Panics unless every status the document lists for the operation was checked, except `exempt` (statuses
    /// the test cannot provoke, which must be documented and must not have been seen, so the list stays true).
    #[track_caller]
    pub fn assert_covers(&self, method: &str, path_template: &str, exempt: &[u16]) {
        let method = method.to_ascii_uppercase();
        let documented = documented_statuses(&method, path_template);
        let seen: BTreeSet<u16> = self
            .seen
            .iter()
            .filter(|(m, p, _)| *m == method && p == path_template)
            .map(|(_, _, status)| *status)
            .collect();
        for status in exempt {
            assert!(
                documented.contains(status),
                "{method} {path_template}: exempt status {status} is not documented"
            );
            assert!(
                !seen.contains(status),
                "{method} {path_template}: status {status} was provoked, so it need not be exempt"
            );
        }
        let missing: Vec<&u16> = documented
            .iter()
            .filter(|s| !seen.contains(s) && !exempt.contains(s))
            .collect();
        assert!(
            missing.is_empty(),
            "{method} {path_template}: the document lists {missing:?}, which no check provoked (checked {seen:?})"
        );
    }
}

fn header<'a>(response: &'a http::Response<String>, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name.to_ascii_lowercase())
        .map(|value| {
            value
                .to_str()
                .unwrap_or_else(|_| panic!("the {name} header is not visible ASCII"))
        })
}

#[track_caller]
fn check_headers(context: &str, documented: &'static Value, response: &http::Response<String>) {
    let Some(headers) = documented.get("headers").and_then(Value::as_object) else {
        return;
    };
    for (name, spec) in headers {
        let spec = resolved(spec);
        match header(response, name) {
            Some(value) => {
                if let Some(schema) = spec.get("schema") {
                    validate(
                        &format!("{context}, header {name}"),
                        schema,
                        &Value::String(value.to_owned()),
                    );
                }
            }
            None => assert!(
                !spec["required"].as_bool().unwrap_or(false),
                "{context} without the documented required header {name}"
            ),
        }
    }
}

#[track_caller]
fn check_body(context: &str, documented: &'static Value, response: &http::Response<String>) {
    let content = documented.get("content").and_then(Value::as_object);
    let Some(content) = content.filter(|c| !c.is_empty()) else {
        assert!(
            response.body().is_empty(),
            "{context} with a body, but the document describes none: {}",
            response.body()
        );
        return;
    };
    let content_type = header(response, "content-type").unwrap_or_else(|| {
        panic!(
            "{context} without a Content-Type; the document says {:?}",
            content.keys()
        )
    });
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let media = content.get(&essence).unwrap_or_else(|| {
        panic!(
            "{context} as {content_type}, but the document says {:?}",
            content.keys()
        )
    });
    let Some(schema) = media.get("schema") else {
        return;
    };
    assert!(
        essence == "application/json" || essence.ends_with("+json"),
        "{context}: only JSON bodies can be checked, not {essence}"
    );
    let body: Value = serde_json::from_str(response.body()).unwrap_or_else(|e| {
        panic!(
            "{context} with a body that is not JSON ({e}): {}",
            response.body()
        )
    });
    validate(context, schema, &body);
}

/// The JSON Schema of `schema`, with the document's components in reach of its `$ref`s.
fn compiled(schema: &Value) -> jsonschema::Validator {
    let mut root = match schema {
        Value::Object(object) => object.clone(),
        other => Map::from_iter([("allOf".to_owned(), Value::Array(vec![other.clone()]))]),
    };
    root.insert(
        "components".to_owned(),
        serde_json::json!({"schemas": document()["components"]["schemas"]}),
    );
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap_or_else(|e| panic!("a schema of {DOCUMENT_PATH} does not compile: {e}: {schema}"))
}

/// The reasons `instance` does not match `schema`, one line each; empty when it matches.
pub fn schema_errors(schema: &Value, instance: &Value) -> Vec<String> {
    compiled(schema)
        .iter_errors(instance)
        .map(|error| {
            let at = error.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("at {at}: {error}")
        })
        .collect()
}

/// The reasons `instance` does not match the document's `#/components/schemas/<name>`; empty when it matches.
pub fn component_errors(name: &str, instance: &Value) -> Vec<String> {
    assert!(
        document()["components"]["schemas"].get(name).is_some(),
        "{DOCUMENT_PATH} has no schema {name}"
    );
    schema_errors(
        &serde_json::json!({"$ref": format!("#/components/schemas/{name}")}),
        instance,
    )
}

#[track_caller]
fn validate(context: &str, schema: &Value, instance: &Value) {
    let errors = schema_errors(schema, instance);
    assert!(
        errors.is_empty(),
        "{context}, which does not match the document:\n  {}\nthe answer: {instance}",
        errors.join("\n  ")
    );
}

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod tests;
