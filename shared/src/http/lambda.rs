//! The Lambda side of the HTTP edge: an API Gateway HTTP API event becomes an [`ApiRequest`], and the handler's
//! [`ApiResponse`] goes back, so that handlers and their tests never see Lambda types.

use super::{ApiRequest, ApiResponse};
use std::convert::Infallible;
use std::future::Future;

/// The event as a plain `http` request with its raw body bytes.
pub fn api_request(event: lambda_http::Request) -> ApiRequest {
    let (parts, body) = event.into_parts();
    ApiRequest::from_parts(parts, body.to_vec())
}

/// Serves `handler` on the Lambda Runtime API until the execution environment ends.
pub async fn serve<H, F>(handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(ApiRequest) -> F,
    F: Future<Output = ApiResponse> + Send,
{
    lambda_http::run(lambda_http::service_fn(
        move |event: lambda_http::Request| {
            let response = handler(api_request(event));
            async move { Ok::<_, Infallible>(response.await.map(lambda_http::Body::from)) }
        },
    ))
    .await
}
