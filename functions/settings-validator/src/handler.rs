//! Routes `POST /v1/settings/validate` to the settings checks in `shared`.

use http::Method;
use lambda_http::Request;
use shared::api::{self, ApiRequest, ApiResponse};
use shared::problem::Problem;
use shared::secrets::SettingsSource;
use shared::validation::SettingsValidator;

pub fn api_request(event: Request) -> ApiRequest {
    let (parts, body) = event.into_parts();
    ApiRequest::from_parts(parts, body.to_vec())
}

pub async fn handle<C: SettingsSource>(
    validator: &SettingsValidator<C>,
    request: ApiRequest,
) -> ApiResponse {
    let path = request.uri().path().trim_end_matches('/');
    if path != "/v1/settings/validate" {
        return Problem::not_found(format!("no route {path}")).into();
    }
    if request.method() != Method::POST {
        return api::method_not_allowed("POST");
    }
    validator.handle(&request).await
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod openapi_tests;
