//! The HTML the instance serves to people rather than to the connector: the page of a hibernating instance.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

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
