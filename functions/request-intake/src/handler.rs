//! Routes API Gateway HTTP API requests to the intake rules, and maps their outcomes to responses
//! (CONTRACT §5, §6): a new request `202` with its `Location`, a retry `200`, reads `200` or `404`; and PM
//! Cloud's *Decision Updated* webhook (§13 v3) to the PM Cloud mirror: `202`, `404`, or `503` without `pmCloud`.

use http::{Method, StatusCode};
use serde_json::json;
use shared::domain::fields::FieldError;
use shared::domain::ids::{PmcRequestId, RequestId};
use shared::domain::record::RequestRecord;
use shared::domain::request::Submission;
use shared::http::{
    ApiRequest, ApiResponse, Caller, Edge, Problem, accepted_response, body, json_response,
    method_not_allowed, no_route, query_param, respond,
};
use shared::pmcloud::PmCloudClient;
use shared::rules::pmcloud_mirror::{PmCloudEvent, PmCloudMirror};
use shared::rules::request_intake::{RequestIntake, Submitted};
use shared::secrets::SettingsSource;
use shared::servicenow::ServiceNowClient;
use shared::store::{RequestStore, SharedState};

pub type Intake<S, C> = Edge<Rules<S>, C>;

/// The function's rules: requests as PM Cloud submits and reads them, and PM Cloud's events.
pub struct Rules<S> {
    pub requests: RequestIntake<S>,
    pub events: PmCloudMirror<S>,
}

impl<S: RequestStore + SharedState + Clone> Rules<S> {
    /// Over one store; `servicenow` writes the work note of a decision made in PM Cloud, `pm_cloud` reads it.
    pub fn new(store: S, servicenow: ServiceNowClient, pm_cloud: PmCloudClient) -> Self {
        Self {
            requests: RequestIntake::new(store.clone()),
            events: PmCloudMirror::new(store, servicenow, pm_cloud),
        }
    }
}

/// The route PM Cloud's *JIT Application Access Decision Updated* webhook calls.
const PM_CLOUD_EVENTS: &str = "/v1/pmcloud/events";

pub async fn handle<S: RequestStore + SharedState + Clone, C: SettingsSource>(
    intake: &Intake<S, C>,
    request: ApiRequest,
) -> ApiResponse {
    let path = request.uri().path().trim_end_matches('/').to_owned();
    if path == PM_CLOUD_EVENTS {
        return match *request.method() {
            Method::POST => respond(pm_cloud_event(intake, &request).await),
            _ => method_not_allowed("POST"),
        };
    }
    match path.strip_prefix("/v1/requests") {
        Some("") => match *request.method() {
            Method::POST => respond(submit(intake, &request).await),
            Method::GET => respond(find(intake, &request).await),
            _ => method_not_allowed("GET, POST"),
        },
        Some(rest) => match rest
            .strip_prefix('/')
            .filter(|id| !id.is_empty() && !id.contains('/'))
        {
            Some(id) if request.method() == Method::GET => respond(get(intake, &request, id).await),
            Some(_) => method_not_allowed("GET"),
            None => no_route(&path),
        },
        None => no_route(&path),
    }
}

/// `200` with the request, or `404` saying what named none.
fn found_or_404(record: Option<RequestRecord>, named: &str) -> Result<ApiResponse, Problem> {
    match record {
        Some(record) => Ok(json_response(StatusCode::OK, &record.resource())),
        None => Err(Problem::not_found(format!("no request has {named}"))),
    }
}

/// `POST /v1/requests`.
async fn submit<S: RequestStore + SharedState + Clone, C: SettingsSource>(
    intake: &Intake<S, C>,
    request: &ApiRequest,
) -> Result<ApiResponse, Problem> {
    let settings = intake.settings_for(Caller::PmCloud, request).await?;
    let body = body::webhook_object_body(request)?;
    let submission =
        Submission::parse(&body, settings.servicenow.allow_forever).map_err(Problem::validation)?;
    Ok(match intake.rules.requests.submit(submission).await? {
        Submitted::Created(record) => {
            accepted_response(&format!("/v1/requests/{}", record.id), &record.resource())
        }
        Submitted::Retried(record) => json_response(StatusCode::OK, &record.resource()),
    })
}

/// `GET /v1/requests/{id}`.
async fn get<S: RequestStore + SharedState + Clone, C: SettingsSource>(
    intake: &Intake<S, C>,
    request: &ApiRequest,
    id: &str,
) -> Result<ApiResponse, Problem> {
    intake.settings_for(Caller::PmCloud, request).await?;
    // An id that could never have been issued (for example longer than 100 characters) names no
    // request, and costs no store call; it is not quoted back.
    match RequestId::parse(id) {
        Ok(request_id) => found_or_404(
            intake.rules.requests.get(&request_id).await?,
            &format!("id {id}"),
        ),
        Err(_) => found_or_404(None, "that id"),
    }
}

/// `GET /v1/requests?pmcRequestId=…`.
async fn find<S: RequestStore + SharedState + Clone, C: SettingsSource>(
    intake: &Intake<S, C>,
    request: &ApiRequest,
) -> Result<ApiResponse, Problem> {
    intake.settings_for(Caller::PmCloud, request).await?;
    // Empty or white space counts as absent, as in a body (CONTRACT §5).
    let Some(text) = query_param(request, "pmcRequestId").filter(|t| !t.trim().is_empty()) else {
        return Err(Problem::validation(vec![FieldError::new(
            "pmcRequestId",
            "is required as a query parameter",
        )]));
    };
    // An id that could never have been accepted names no request, costs no store call, and is not quoted back.
    match PmcRequestId::parse(&text) {
        Ok(pmc_request_id) => found_or_404(
            intake.rules.requests.find(&pmc_request_id).await?,
            &format!("pmcRequestId {pmc_request_id}"),
        ),
        Err(_) => found_or_404(None, "that pmcRequestId"),
    }
}

/// `POST /v1/pmcloud/events` (CONTRACT §13 v3): a signal that PM Cloud's record of `pmcRequestId` changed. The
/// request is read back from PM Cloud and applied as the PM Cloud sweep would; `202` with `{"pmcRequestId",
/// "status"}` for a known request whatever PM Cloud said, `404` for an unknown one, `503` without `pmCloud`.
async fn pm_cloud_event<S: RequestStore + SharedState + Clone, C: SettingsSource>(
    intake: &Intake<S, C>,
    request: &ApiRequest,
) -> Result<ApiResponse, Problem> {
    let settings = intake.settings_for(Caller::PmCloud, request).await?;
    let Some(pm_cloud) = &settings.pm_cloud else {
        return Err(Problem::unavailable(
            "pmCloud is not configured in the settings: PM Cloud's events cannot be read back",
        ));
    };
    let body = body::webhook_object_body(request)?;
    let event = PmCloudEvent::parse(&body).map_err(Problem::validation)?;
    let id = &event.pmc_request_id;
    match intake.rules.events.event(id, &settings, pm_cloud).await? {
        Some(record) => Ok(json_response(
            StatusCode::ACCEPTED,
            &json!({"pmcRequestId": record.pmc_request_id, "status": record.status}),
        )),
        None => Err(Problem::not_found(format!(
            "no request has pmcRequestId {id}"
        ))),
    }
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod openapi_tests;

#[cfg(test)]
#[path = "events_tests.rs"]
mod events_tests;
