//! PM Cloud's *JIT Application Access Decision Updated* webhook, as a tenant whose webhook settings name it sends it
//! after a decision in its portal: one attempt in the background, its outcome logged, never retried (PM Cloud
//! documents no retry; CONTRACT §13, `POST /v1/pmcloud/events`).

use std::time::Duration;

use axum::http::header;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sim_kit::Api;

use crate::state::Tenant;

/// The event's name, in the body's `eventType`.
pub const DECISION_UPDATED: &str = "JIT Application Access Decision Updated";

/// Where the webhook goes, and the `Authorization` header it carries (PM Cloud's webhook settings: a URL and a
/// custom token such as `Bearer <key>`; none when `None`). JSON: `{"url": "http://…/v1/pmcloud/events",
/// "authorization": "Bearer k"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionWebhook {
    pub url: String,
    #[serde(default)]
    pub authorization: Option<String>,
}

/// POST `{"pmcRequestId": id, "eventType": DECISION_UPDATED}` to `target` in the background (30 s timeout), and log
/// its answer or failure on stderr. Outside a Tokio runtime nothing is sent, and that is logged.
pub(crate) fn announce(target: DecisionWebhook, id: &str) {
    let name = Tenant::NAME;
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        eprintln!("{name}: decision webhook for {id} not sent: no async runtime");
        return;
    };
    let body = json!({ "pmcRequestId": id, "eventType": DECISION_UPDATED });
    let id = id.to_owned();
    runtime.spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build();
        let sent = match client {
            Ok(client) => {
                let mut request = client.post(&target.url).json(&body);
                if let Some(authorization) = &target.authorization {
                    request = request.header(header::AUTHORIZATION, authorization);
                }
                request.send().await
            }
            Err(error) => Err(error),
        };
        match sent {
            Ok(answer) => eprintln!(
                "{name}: decision webhook for {id} to {}: {}",
                target.url,
                answer.status()
            ),
            Err(error) => eprintln!(
                "{name}: decision webhook for {id} to {} failed: {error}",
                target.url
            ),
        }
    });
}
