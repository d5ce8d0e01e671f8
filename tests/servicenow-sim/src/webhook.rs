//! An approver's decision and the signed webhook that the customer's business rule sends after it.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::WebhookTarget;
use crate::state::{Instance, now_text};

/// What an approver does to a ticket. Every field is optional; JSON is camelCase.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SimDecision {
    /// `approved`, `rejected`, or any other `approval` value.
    pub approval: Option<String>,
    /// Written verbatim to the configured duration field, e.g. `4 hours`.
    pub duration: Option<String>,
    /// Written to the configured notes field.
    pub notes: Option<String>,
    /// `sys_updated_by`; default `sim.approver`.
    pub by: Option<String>,
    /// `Some(false)` closes the ticket.
    pub active: Option<bool>,
    /// `Some(false)`: update the ticket but send no webhook, as when the business rule does not fire (its condition
    /// is not met, or it is inactive). Default: send it.
    pub send_webhook: Option<bool>,
}

/// The connector's answer to the webhook.
#[derive(Clone, Debug, Serialize)]
pub struct WebhookDelivery {
    pub status: u16,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("no such ticket")]
    NotFound,
    /// The record was updated, but there is nowhere to send the webhook.
    #[error("the ticket was updated, but no webhook target is configured")]
    NoWebhookTarget,
    /// The record was updated and, as the decision asked (`send_webhook: Some(false)`), no webhook was sent. Checked
    /// before the target, so it is the answer whether or not a target is configured.
    #[error("the ticket was updated; the decision asked for no webhook")]
    WebhookSuppressed,
    /// The record was updated, but the webhook did not get an HTTP answer.
    #[error("webhook delivery failed: {0}")]
    Delivery(#[from] reqwest::Error),
}

pub(crate) async fn decide(
    sim: &Instance,
    table: &str,
    sys_id: &str,
    decision: SimDecision,
) -> Result<WebhookDelivery, SimError> {
    let send = decision.send_webhook.unwrap_or(true);
    let target = {
        let mut inner = sim.base.lock();
        let record = inner.record_mut(table, sys_id).ok_or(SimError::NotFound)?;
        let fields = [
            ("approval", decision.approval),
            (sim.base.config.duration_field.as_str(), decision.duration),
            (sim.base.config.notes_field.as_str(), decision.notes),
            ("active", decision.active.map(|a| a.to_string())),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                record.insert(name.to_owned(), value);
            }
        }
        let by = decision.by.unwrap_or_else(|| "sim.approver".into());
        record.insert("sys_updated_by".into(), by);
        record.insert("sys_updated_on".into(), now_text());
        if !send {
            return Err(SimError::WebhookSuppressed);
        }
        inner.webhook.clone().ok_or(SimError::NoWebhookTarget)?
    };
    deliver(&target, table, sys_id).await
}

/// The business rule firing after a Table API update changed a PM Cloud ticket's `approval` or `active`: the
/// signed event is sent in the background (the rule is async), its outcome logged to stderr.
pub(crate) fn fire_business_rule(target: WebhookTarget, table: String, sys_id: String) {
    tokio::spawn(async move {
        match deliver(&target, &table, &sys_id).await {
            Ok(delivery) => eprintln!(
                "servicenow-sim: business rule for {table} {sys_id}: {}",
                delivery.status
            ),
            Err(error) => {
                eprintln!("servicenow-sim: business rule for {table} {sys_id} failed: {error}")
            }
        }
    });
}

/// POST `{"table","sys_id"}` signed the way the business rule signs it.
async fn deliver(
    target: &WebhookTarget,
    table: &str,
    sys_id: &str,
) -> Result<WebhookDelivery, SimError> {
    // Built by hand so that the signed bytes are exactly what is sent, in the business rule's key order.
    let body = format!(
        r#"{{"table":{},"sys_id":{}}}"#,
        serde_json::Value::from(table),
        serde_json::Value::from(sys_id)
    );
    let timestamp = chrono::Utc::now().timestamp();
    let signature = sign(&target.secret, timestamp, body.as_bytes());
    let answer = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?
        .post(&target.url)
        .header("content-type", "application/json")
        .header("x-webhook-timestamp", timestamp.to_string())
        .header("x-webhook-signature", signature)
        .body(body)
        .send()
        .await?;
    Ok(WebhookDelivery {
        status: answer.status().as_u16(),
        body: answer.text().await?,
    })
}

/// `base64(HMAC-SHA256(secret, "<timestamp>.<body>"))`, standard alphabet with padding, as
/// `GlideCertificateEncryption.generateMac(base64(secret), "HmacSHA256", data)` returns it.
fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::sign;

    #[test]
    fn signature_matches_a_known_vector() {
        // printf '1700000000.{"table":"incident","sys_id":"abc"}' | openssl dgst -sha256 -hmac s3cret -binary | base64
        let body = br#"{"table":"incident","sys_id":"abc"}"#;
        assert_eq!(
            sign("s3cret", 1_700_000_000, body),
            "tCUBVn+rwVEVM0KzifTHoUC6rZEJ8o4l6zlnvoy1hzw="
        );
    }
}
