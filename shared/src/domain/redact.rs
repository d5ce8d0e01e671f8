//! Secrets kept out of what the connector stores or answers: remote answers quoted in `failure.detail`, in
//! `pmCloudNotification.detail` and in the settings check's details may echo what was sent (CONTRACT §4: no
//! error body or log line contains a password, client secret, API key, webhook secret or token).

use secrecy::{ExposeSecret, SecretString};

/// What stands in for a secret.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not searched for: they would redact ordinary words, and the settings refuse
/// keys that short anyway.
const MIN_REDACTED_CHARS: usize = 4;

/// `text` with every occurrence of each of `secrets` replaced by [`REDACTED`], longest secret first (so that a
/// secret containing another is removed whole).
pub fn redact<'a>(text: &str, secrets: impl IntoIterator<Item = &'a SecretString>) -> String {
    let mut secrets: Vec<&str> = secrets
        .into_iter()
        .map(|s| s.expose_secret())
        .filter(|s| s.chars().count() >= MIN_REDACTED_CHARS)
        .collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.into_iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret, REDACTED)
    })
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
}
