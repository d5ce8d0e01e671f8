//! Routes `POST /v1/servicenow/events` to the callback rules in `shared`.

use http::Method;
use lambda_http::Request;
use shared::api::{self, ApiRequest, ApiResponse};
use shared::callback::Callback;
use shared::problem::Problem;
use shared::secrets::SettingsSource;
use shared::store::RequestStore;

pub fn api_request(event: Request) -> ApiRequest {
    let (parts, body) = event.into_parts();
    ApiRequest::from_parts(parts, body.to_vec())
}

pub async fn handle<S: RequestStore, C: SettingsSource>(
    callback: &Callback<S, C>,
    request: ApiRequest,
) -> ApiResponse {
    let path = request.uri().path().trim_end_matches('/');
    if path != "/v1/servicenow/events" {
        return Problem::not_found(format!("no route {path}")).into();
    }
    if request.method() != Method::POST {
        return api::method_not_allowed("POST");
    }
    callback.handle(&request).await
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod openapi_tests;
