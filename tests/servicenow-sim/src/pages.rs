//! The HTML the instance serves to people rather than to the connector: the ticket page behind the link the
//! connector hands out, and the page of a hibernating instance.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::state::{Instance, Record};

/// The fields a person looks at first, in this order; the record's other fields follow by name.
const HEADLINE_FIELDS: [&str; 6] = [
    "number",
    "short_description",
    "description",
    "approval",
    "state",
    "active",
];
const TRAILING_FIELDS: [&str; 6] = [
    "correlation_id",
    "assignment_group",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
];

/// `GET /nav_to.do?uri=<table>.do?sys_id=<sys_id>`: the ticket's form, reduced to a table of its fields. No login:
/// whoever follows the link in a dev run sees the ticket. An unknown ticket (or a `uri` of another form) gets a 404
/// page.
pub(crate) async fn nav_to(
    State(sim): State<Arc<Instance>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let inner = sim.base.lock();
    let record = params
        .get("uri")
        .and_then(|uri| form_target(uri))
        .and_then(|(table, sys_id)| inner.record(table, sys_id));
    match record {
        Some(record) => Html(ticket_page(&sim, record)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Html(page(
                "Record not found",
                "<h1>Record not found</h1>\n<p>The record does not exist or you lack the rights to see it.</p>\n",
            )),
        )
            .into_response(),
    }
}

/// `incident.do?sys_id=abc` (with or without a leading `/`, perhaps with more parameters) → `("incident", "abc")`.
fn form_target(uri: &str) -> Option<(&str, &str)> {
    let (form, parameters) = uri.trim_start_matches('/').split_once('?')?;
    let table = form.strip_suffix(".do")?;
    let sys_id = parameters
        .split('&')
        .find_map(|parameter| parameter.strip_prefix("sys_id="))?;
    Some((table, sys_id))
}

fn ticket_page(sim: &Instance, record: &Record) -> String {
    let config = &sim.base.config;
    let first: Vec<&str> = HEADLINE_FIELDS
        .into_iter()
        .chain([config.duration_field.as_str(), config.notes_field.as_str()])
        .chain(TRAILING_FIELDS)
        .collect();
    let rest = record
        .keys()
        .map(String::as_str)
        .filter(|f| !first.contains(f));
    let mut rows = String::new();
    for field in first.iter().copied().chain(rest) {
        let value = record.get(field).map_or("", String::as_str);
        // Writing to a String cannot fail.
        let _ = writeln!(
            rows,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(field),
            escape(value)
        );
    }
    let field = |name: &str| escape(record.get(name).map_or("", String::as_str));
    let (table, number) = (field("sys_class_name"), field("number"));
    page(
        &format!("{number} | {table}"),
        &format!(
            "<h1>{table} {number}</h1>\n<p>{}</p>\n<table>\n{rows}</table>\n",
            field("short_description")
        ),
    )
}

/// What a client gets from a developer instance that has gone to sleep, whatever it asked for.
pub(crate) fn hibernating(status: StatusCode) -> Response {
    let body = page(
        "Instance Hibernating page",
        "<h1>Your instance is hibernating</h1>\n\
<p>This instance is hibernating: it sleeps while unused. Sign in to the developer portal to wake it up.</p>\n",
    );
    (status, Html(body)).into_response()
}

/// A whole document around `body`; `title` must already be escaped.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title} | ServiceNow (servicenow-sim)</title></head>\n\
<body>\n{body}</body></html>\n"
    )
}

/// Text made safe for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_uri_names_table_and_sys_id() {
        assert_eq!(
            form_target("incident.do?sys_id=abc"),
            Some(("incident", "abc"))
        );
        assert_eq!(
            form_target("/sc_task.do?sysparm_view=x&sys_id=def"),
            Some(("sc_task", "def"))
        );
        assert_eq!(form_target("incident.do"), None);
        assert_eq!(form_target("incident_list.do?sysparm_query=x"), None);
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<b>"A" & 'B'</b>"#),
            "&lt;b&gt;&quot;A&quot; &amp; &#39;B&#39;&lt;/b&gt;"
        );
    }
}
