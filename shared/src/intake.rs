//! `request-intake`'s rules (CONTRACT §5, §6): accept a submission exactly once, and read requests back.

use crate::api::{self, ApiRequest, ApiResponse};
use crate::problem::{FieldError, Problem};
use crate::record::RequestRecord;
use crate::request::{ContentHash, NewRequest, PmcRequestId};
use crate::secrets::SettingsSource;
use crate::store::{CreateOutcome, RequestStore};
use http::StatusCode;

pub struct Intake<S, C> {
    store: S,
    settings: C,
}

impl<S: RequestStore, C: SettingsSource> Intake<S, C> {
    pub fn new(store: S, settings: C) -> Self {
        Self { store, settings }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// `POST /v1/requests`: 202 for a new request, 200 for a retry of the same content, 409 for a reused id.
    pub async fn submit(&self, request: &ApiRequest) -> ApiResponse {
        self.try_submit(request)
            .await
            .unwrap_or_else(ApiResponse::from)
    }

    async fn try_submit(&self, request: &ApiRequest) -> Result<ApiResponse, Problem> {
        self.authenticate(request).await?;
        let (object, value) = api::json_object_body(request)?;
        let submission = NewRequest::parse(&object).map_err(Problem::validation)?;
        let record = RequestRecord::new(submission, ContentHash::of(&value), crate::time::now());
        match self
            .store
            .create(&record)
            .await
            .map_err(api::store_problem)?
        {
            CreateOutcome::Created => {
                tracing::info!(request_id = %record.id, pmc_request_id = %record.pmc_request_id, "request accepted");
                Ok(api::created_response(
                    &format!("/v1/requests/{}", record.id),
                    &record.resource(),
                ))
            }
            CreateOutcome::Existing(existing) if existing.content_hash == record.content_hash => {
                Ok(api::json_response(StatusCode::OK, &existing.resource()))
            }
            CreateOutcome::Existing(existing) => Err(Problem::conflict(format!(
                "pmcRequestId {} was already used for request {} with different content",
                existing.pmc_request_id, existing.id
            ))),
        }
    }

    /// `GET /v1/requests/{id}`.
    pub async fn get(&self, request: &ApiRequest, id: &str) -> ApiResponse {
        let found = async {
            self.authenticate(request).await?;
            self.store.get(id).await.map_err(api::store_problem)
        };
        match found.await {
            Ok(Some(record)) => api::json_response(StatusCode::OK, &record.resource()),
            Ok(None) => Problem::not_found(format!("no request has id {id}")).into(),
            Err(problem) => problem.into(),
        }
    }

    /// `GET /v1/requests?pmcRequestId=…`.
    pub async fn find(&self, request: &ApiRequest) -> ApiResponse {
        let found = async {
            self.authenticate(request).await?;
            let Some(text) = api::query_param(request, "pmcRequestId") else {
                return Err(Problem::validation(vec![FieldError::new(
                    "pmcRequestId",
                    "is required as a query parameter",
                )]));
            };
            // An id that could never have been accepted cannot name a request.
            let Ok(pmc_request_id) = PmcRequestId::parse(&text) else {
                return Ok((text, None));
            };
            let record = self
                .store
                .find_by_pmc_request_id(&pmc_request_id)
                .await
                .map_err(api::store_problem)?;
            Ok((text, record))
        };
        match found.await {
            Ok((_, Some(record))) => api::json_response(StatusCode::OK, &record.resource()),
            Ok((text, None)) => {
                Problem::not_found(format!("no request has pmcRequestId {text}")).into()
            }
            Err(problem) => problem.into(),
        }
    }

    async fn authenticate(&self, request: &ApiRequest) -> Result<(), Problem> {
        let settings = api::load_settings(&self.settings).await?;
        api::require_pmc_key(request, &settings)
    }
}
