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

/// The namespace of [`RequestId::for_pmc_request_id`]'s name-based UUIDs: fixed for good, or ids would change.
const REQUEST_ID_NAMESPACE: uuid::Uuid = uuid::uuid!("7c3a5e1e-0b9f-4f4e-9a55-6f2b1c8d4e21");

impl RequestId {
    /// A fresh random (version 4) UUID.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The id of the request PM Cloud submits as `pmc_request_id`: a name-based (version 5, SHA-1) UUID of it, the
    /// same every time, so that the store finds a request, or refuses a second one, with one key (RFC 9562 §5.5).
    /// Requests stored before ids were derived keep their random ids.
    pub fn for_pmc_request_id(pmc_request_id: &PmcRequestId) -> Self {
        Self(
            uuid::Uuid::new_v5(&REQUEST_ID_NAMESPACE, pmc_request_id.as_str().as_bytes())
                .to_string(),
        )
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
    fn a_request_id_is_derived_from_the_pmc_request_id_alone() {
        let pmc = |text| PmcRequestId::parse(text).unwrap();
        let first = RequestId::for_pmc_request_id(&pmc("pmc-1"));
        assert_eq!(first, RequestId::for_pmc_request_id(&pmc("pmc-1")));
        assert_ne!(first, RequestId::for_pmc_request_id(&pmc("pmc-2")));
        let uuid = uuid::Uuid::parse_str(first.as_str()).unwrap();
        assert_eq!(uuid.get_version_num(), 5);
        // Pinned (computed with Python's uuid.uuid5): a changed namespace or spelling would orphan every stored
        // request.
        assert_eq!(
            RequestId::for_pmc_request_id(&pmc("dev-0001")).as_str(),
            "32747fc0-167c-53e5-8ab6-9ec191a09d3f"
        );
    }

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
