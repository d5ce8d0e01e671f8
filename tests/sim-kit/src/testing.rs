//! Helpers for the simulators' tests (feature `testing`): a simulator started with its default setup, and the
//! requests a test sends it. Each panics on a failure to start or to get an HTTP answer, as a test would.

use serde_json::Value;

use crate::{Api, Sim};

impl<A: Api> Sim<A> {
    /// A simulator with its default setup, on a free port of 127.0.0.1.
    pub async fn started() -> Self {
        Self::start(A::Config::default())
            .await
            .unwrap_or_else(|e| panic!("{} does not start: {e}", A::NAME))
    }

    /// `path` (`/…`) under [`Sim::base_url`].
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// `GET path`, its answer read as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        answered(reqwest::get(self.url(path)).await)
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// `POST path` with `form` as the form body.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.post(path, |request| request.form(form)).await
    }

    /// `POST path` with `body` as JSON.
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.post(path, |request| request.json(body)).await
    }

    async fn post(
        &self,
        path: &str,
        body: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> reqwest::Response {
        answered(
            body(reqwest::Client::new().post(self.url(path)))
                .send()
                .await,
        )
    }
}

fn answered(answer: reqwest::Result<reqwest::Response>) -> reqwest::Response {
    answer.unwrap_or_else(|e| panic!("no HTTP answer: {e}"))
}
