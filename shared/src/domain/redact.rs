//! Secrets kept out of what the connector stores or answers: remote answers quoted in `failure.detail`, in
//! `pmCloudNotification.detail` and in the settings check's details may echo what was sent (CONTRACT §4: no
//! error body or log line contains a password, client secret, API key, webhook secret or token).

use secrecy::{ExposeSecret, SecretString};

/// What stands in for a secret.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not searched for: they would redact ordinary words, and the settings refuse
/// keys that short anyway.
const MIN_REDACTED_CHARS: usize = 4;

/// `text` with every occurrence of each of `secrets` replaced by [`REDACTED`], as sent and as an answer may echo
/// it encoded (JSON-escaped, form- or percent-encoded), longest first (so that a secret containing another is
/// removed whole).
pub fn redact<'a>(text: &str, secrets: impl IntoIterator<Item = &'a SecretString>) -> String {
    let mut forms: Vec<String> = secrets
        .into_iter()
        .map(|s| s.expose_secret())
        .filter(|s| s.chars().count() >= MIN_REDACTED_CHARS)
        .flat_map(encoded_forms)
        .collect();
    forms.sort_by_key(|s| std::cmp::Reverse(s.len()));
    forms.dedup();
    forms
        .iter()
        .fold(text.to_owned(), |text, form| text.replace(form, REDACTED))
}

/// `secret` as it is, and as JSON, a form body and a URL would carry it.
fn encoded_forms(secret: &str) -> [String; 4] {
    let json = serde_json::to_string(secret).expect("a string serialises");
    [
        secret.to_owned(),
        json[1..json.len() - 1].to_owned(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
    ]
}

/// An error whose detail is written for an administrator and may quote a remote answer.
pub trait Detailed: Sized {
    /// The detail, to rewrite.
    fn detail_mut(&mut self) -> &mut String;

    /// The same error with `secrets` removed from its detail, which may quote an answer that echoed them.
    fn redacted<'a>(mut self, secrets: impl IntoIterator<Item = &'a SecretString>) -> Self {
        let detail = self.detail_mut();
        *detail = redact(detail, secrets);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_occurrence_of_every_secret_is_replaced() {
        let secrets = [
            SecretString::from("hunter2-password"),
            SecretString::from("hunter2"),
            SecretString::from("ab"),
        ];
        assert_eq!(
            redact(
                "401: bad password hunter2-password (hunter2, hunter2) ab",
                &secrets
            ),
            "401: bad password [redacted] ([redacted], [redacted]) ab"
        );
        assert_eq!(redact("nothing secret", &secrets), "nothing secret");
    }

    #[test]
    fn an_echo_of_a_secret_in_json_a_form_or_a_url_is_replaced_too() {
        let secrets = [SecretString::from(r#"s3kr1t@ "q"/+&x"#)];
        for echoed in [
            r#"{"password":"s3kr1t@ \"q\"/+&x"}"#,
            "grant_type=password&password=s3kr1t%40+%22q%22%2F%2B%26x",
            "https://x.example/?p=s3kr1t%40%20%22q%22%2F%2B%26x",
        ] {
            let redacted = redact(echoed, &secrets);
            assert!(redacted.contains(REDACTED), "{echoed} -> {redacted}");
            assert!(!redacted.contains("s3kr1t"), "{echoed} -> {redacted}");
        }
    }
}
