//! Routes `POST /v1/settings/validate` to the settings checks (CONTRACT §11) and answers their report.

use http::StatusCode;
use shared::domain::fields::FieldError;
use shared::http::{
    ApiRequest, ApiResponse, Edge, Problem, auth, body, json_response, refuse_unless_post, respond,
};
use shared::rules::settings_validator::{SettingsValidator, Subject};
use shared::secrets::{SettingsError, SettingsSource};

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
    // The caller is let in by the cached keys before anything is read uncached, so that unauthenticated calls
    // cost no Secrets Manager read; only the keys are needed, as the rest of the secret may be what is broken.
    let keys = validator.settings.caller_keys().await?;
    if keys.is_empty() {
        return Err(Problem::settings_invalid(
            &why_no_caller_can_be_let_in(&validator.settings).await,
        ));
    }
    auth::require_pmc_key(request, &keys)?;
    // Read uncached: an administrator who just saved the secret expects that version to be checked.
    let raw = validator.settings.raw().await?;
    let subject = if body::is_blank(request) {
        Subject::Stored
    } else {
        Subject::of(&body::json_object_body(request)?)
    };
    let report = validator
        .rules
        .validate(subject, &raw, validator.settings.hosts())
        .await;
    Ok(json_response(StatusCode::OK, &report))
}

/// What keeps every caller out, from the cached settings: the secret is not JSON, or each `pmcApiKeys` entry
/// breaks a key rule (named field by field, never quoting a key).
async fn why_no_caller_can_be_let_in<C: SettingsSource>(settings: &C) -> Vec<FieldError> {
    let named: Vec<FieldError> = match settings.settings().await {
        Err(SettingsError::Invalid(errors)) => errors
            .into_iter()
            .filter(|e| e.field == "(secret)" || e.field.starts_with("pmcApiKeys"))
            .collect(),
        _ => Vec::new(),
    };
    if named.is_empty() {
        vec![FieldError::new(
            "pmcApiKeys",
            "has no entry that keeps the key rules (at least 32 characters, no REPLACE-ME, no white space at \
             either end), so no caller can be let in",
        )]
    } else {
        named
    }
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod openapi_tests;
