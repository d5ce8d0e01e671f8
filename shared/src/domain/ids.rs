//! Identifiers, each parsed once where it enters (a body, a path, a ServiceNow record, a stored item) and never
//! checked again: PM Cloud's request id, the connector's request id, and a ServiceNow `sys_id`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Deref;

/// Text that has passed its type's `parse`: readable as `&str`, written and read as a plain JSON string.
macro_rules! text_id {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl TryFrom<String> for $name {
            type Error = &'static str;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                Self::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

/// PM Cloud's id for a request (CONTRACT §5): 1–100 characters of `[A-Za-z0-9._:-]`. The idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PmcRequestId(String);

const MAX_ID_CHARS: usize = 100;

/// Every character allowed in an id that travels in URLs, ServiceNow queries and `correlation_id`.
fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-')
}

/// `text` when it is 1–100 id characters; otherwise `too_long` (empty or over 100) or `bad_char`.
fn id_text(
    text: &str,
    too_long: &'static str,
    bad_char: &'static str,
) -> Result<String, &'static str> {
    if text.is_empty() || text.chars().count() > MAX_ID_CHARS {
        Err(too_long)
    } else if !text.bytes().all(is_id_char) {
        Err(bad_char)
    } else {
        Ok(text.to_owned())
    }
}

impl PmcRequestId {
    /// Errors: "must be 1 to 100 characters", "may hold only letters, digits and . _ : -".
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        id_text(
            text,
            "must be 1 to 100 characters",
            "may hold only letters, digits and . _ : -",
        )
        .map(Self)
    }
}

text_id!(PmcRequestId);

/// The connector's id for a request (CONTRACT §7), also the ticket's `correlation_id`: a UUID in its hyphenated
/// form. Any 1–100 id characters parse, so that an id the connector never issued is simply not found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestId(String);

impl RequestId {
    /// A fresh random (version 4) UUID.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// Errors: "is not a request id" for an empty, over-long (> 100) or oddly spelt text.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        const NOT_AN_ID: &str = "is not a request id";
        id_text(text, NOT_AN_ID, NOT_AN_ID).map(Self)
    }
}

text_id!(RequestId);

/// A ServiceNow record's `sys_id`: 32 hexadecimal digits (ServiceNow: "Table API", unique record identifier).
/// Checked before it goes into a Table API URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SysId(String);

impl SysId {
    /// Errors: "must be 32 hexadecimal digits".
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err("must be 32 hexadecimal digits")
        }
    }
}

text_id!(SysId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pmc_request_ids_are_1_to_100_safe_characters() {
        for good in ["a", "A-b_c.d:e", &"x".repeat(100)] {
            assert!(PmcRequestId::parse(good).is_ok(), "{good}");
        }
        for bad in ["", &"x".repeat(101), "has space", "slash/no", "é"] {
            assert!(PmcRequestId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn request_ids_are_uuids_that_fit_a_correlation_id() {
        let (a, b) = (RequestId::random(), RequestId::random());
        assert_ne!(a, b);
        assert!(a.len() <= 100);
        assert_eq!(RequestId::parse(&a).unwrap(), a);
        for bad in ["", &"x".repeat(101), "../x", "a b"] {
            assert!(RequestId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sys_ids_are_32_hex_digits() {
        assert!(SysId::parse("0123456789abcdef0123456789ABCDEF").is_ok());
        for bad in [
            "",
            "../../x",
            &"a".repeat(31),
            &"a".repeat(33),
            &"g".repeat(32),
        ] {
            assert!(SysId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_serialise_as_plain_strings_and_refuse_bad_ones() {
        let id = SysId::parse(&"a".repeat(32)).unwrap();
        assert_eq!(serde_json::to_value(&id).unwrap(), "a".repeat(32));
        assert!(serde_json::from_str::<SysId>("\"nope\"").is_err());
    }
}
