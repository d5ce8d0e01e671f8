//! Routes `POST /v1/settings/validate` to the settings checks (CONTRACT §11) and answers their report.

use http::StatusCode;
use shared::domain::settings::pmc_api_keys_of;
use shared::http::{
    ApiRequest, ApiResponse, Edge, Problem, auth, body, json_response, refuse_unless_post, respond,
};
use shared::rules::settings_validator::{SettingsValidator, Subject};
use shared::secrets::SettingsSource;

pub type Validator<C> = Edge<SettingsValidator, C>;

pub async fn handle<C: SettingsSource>(
    validator: &Validator<C>,
    request: ApiRequest,
) -> ApiResponse {
    if let Some(refused) = refuse_unless_post(&request, "/v1/settings/validate") {
        return refused;
    }
    respond(validate(validator, &request).await)
}

async fn validate<C: SettingsSource>(
    validator: &Validator<C>,
    request: &ApiRequest,
) -> Result<ApiResponse, Problem> {
    // Read uncached: an administrator who just saved the secret expects that version to be checked.
    let raw = validator.settings.raw().await.map_err(|error| {
        tracing::error!(%error, "settings secret unavailable");
        Problem::unavailable("the connector cannot read its settings secret")
    })?;
    // Only the keys are needed to let the caller in: the rest of the stored secret may be what is broken.
    auth::require_pmc_key(request, &pmc_api_keys_of(&raw))?;
    let subject = if body::is_blank(request) {
        Subject::Stored
    } else {
        Subject::of(&body::json_object_body(request)?)
    };
    let report = validator.rules.validate(subject, &raw).await;
    Ok(json_response(StatusCode::OK, &report))
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod openapi_tests;
