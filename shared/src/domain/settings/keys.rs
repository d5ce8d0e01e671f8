//! The key rules of `pmcApiKeys` and `webhookSecrets` (CONTRACT §2): long, not a placeholder, no white space at
//! either end.

use super::PLACEHOLDER;
use crate::domain::fields::{Collector, ObjectReader};
use secrecy::SecretString;
use serde_json::Value;

/// The `pmcApiKeys` entries of a secret's text that keep the key rules, read on their own (empty when there are
/// none), so that a caller can be let in to see what is wrong with the rest of it. A placeholder or short key
/// never lets anyone in.
pub fn pmc_api_keys_of(raw: &str) -> Vec<SecretString> {
    let value: Value = serde_json::from_str(raw).unwrap_or_default();
    value
        .get("pmcApiKeys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(Value::as_str)
                .filter(|k| key_problem(k).is_none())
                .map(|k| SecretString::from(k.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Keys shorter than this are refused: a key is a shared secret, and a short one can be guessed.
pub const MIN_KEY_CHARS: usize = 32;

/// What is wrong with a key, if anything; the message never quotes it.
fn key_problem(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        Some("must be a non-empty string")
    } else if text.contains(PLACEHOLDER) {
        Some("is still the template's placeholder (REPLACE-ME): put a long random key of your own")
    } else if text.trim() != text {
        // Callers' bearer tokens arrive trimmed, so such a key could never match.
        Some("must not begin or end with white space")
    } else if text.chars().count() < MIN_KEY_CHARS {
        Some("must be at least 32 characters (for example: openssl rand -base64 32)")
    } else {
        None
    }
}

/// A non-empty list of keys, for keys that are rotated by holding two at once; each at least [`MIN_KEY_CHARS`]
/// long and not a placeholder (CONTRACT §2).
pub(super) fn read_key_list(
    c: &mut Collector,
    root: &ObjectReader<'_>,
    key: &str,
) -> Vec<SecretString> {
    match root.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let problem = match item.as_str() {
                    Some(text) => key_problem(text),
                    None => Some("must be a non-empty string"),
                };
                match problem {
                    None => Some(SecretString::from(item.as_str()?.to_owned())),
                    Some(message) => {
                        c.push(format!("{key}[{i}]"), message);
                        None
                    }
                }
            })
            .collect(),
        None => {
            c.push(key, "is required");
            Vec::new()
        }
        Some(_) => {
            c.push(key, "must be a non-empty list of strings");
            Vec::new()
        }
    }
}
