//! Routes `POST /v1/servicenow/events` to the callback rules (CONTRACT §10): the size limit and the signature
//! on the raw bytes first, then the body, then the ticket read back from ServiceNow.

use http::StatusCode;
use shared::http::{
    ApiRequest, ApiResponse, Caller, Edge, Problem, body, json_response, refuse_unless_post,
    respond,
};
use shared::rules::ticket_callback::{TicketCallback, TicketEvent};
use shared::secrets::SettingsSource;
use shared::store::RequestStore;

pub type Callback<S, C> = Edge<TicketCallback<S>, C>;

pub async fn handle<S: RequestStore + Clone, C: SettingsSource>(
    callback: &Callback<S, C>,
    request: ApiRequest,
) -> ApiResponse {
    if let Some(refused) = refuse_unless_post(&request, "/v1/servicenow/events") {
        return refused;
    }
    respond(ticket_changed(callback, &request).await)
}

async fn ticket_changed<S: RequestStore + Clone, C: SettingsSource>(
    callback: &Callback<S, C>,
    request: &ApiRequest,
) -> Result<ApiResponse, Problem> {
    if request.body().len() > body::MAX_BODY_BYTES {
        return Err(Problem::payload_too_large(body::MAX_BODY_BYTES));
    }
    let settings = callback.settings_for(Caller::ServiceNow, request).await?;
    let event =
        TicketEvent::parse(&body::json_object_body(request)?).map_err(Problem::validation)?;
    let recorded = callback.rules.apply_event(event, &settings).await?;
    Ok(json_response(StatusCode::OK, &recorded))
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod openapi_tests;
