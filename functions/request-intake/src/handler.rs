//! Routes an API Gateway HTTP API request to the intake rules in `shared`.

use http::Method;
use lambda_http::Request;
use shared::api::{self, ApiRequest, ApiResponse};
use shared::intake::Intake;
use shared::problem::Problem;
use shared::secrets::SettingsSource;
use shared::store::RequestStore;

pub fn api_request(event: Request) -> ApiRequest {
    let (parts, body) = event.into_parts();
    ApiRequest::from_parts(parts, body.to_vec())
}

pub async fn handle<S: RequestStore, C: SettingsSource>(
    intake: &Intake<S, C>,
    request: ApiRequest,
) -> ApiResponse {
    let path = request.uri().path().trim_end_matches('/').to_owned();
    match path.strip_prefix("/v1/requests") {
        Some("") => match *request.method() {
            Method::POST => intake.submit(&request).await,
            Method::GET => intake.find(&request).await,
            _ => api::method_not_allowed("GET, POST"),
        },
        Some(rest) => match rest
            .strip_prefix('/')
            .filter(|id| !id.is_empty() && !id.contains('/'))
        {
            Some(id) if request.method() == Method::GET => intake.get(&request, id).await,
            Some(_) => api::method_not_allowed("GET"),
            None => Problem::not_found(format!("no route {path}")).into(),
        },
        None => Problem::not_found(format!("no route {path}")).into(),
    }
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod openapi_tests;
