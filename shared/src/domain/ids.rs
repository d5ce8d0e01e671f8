//! Identifiers, each parsed once where it enters (a body, a path, a ServiceNow record, a stored item) and never
//! checked again: PM Cloud's request id, the connector's request id, and a ServiceNow `sys_id`.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
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

    /// True for an id derived with a [`RequestIdKey`] (a version 8 UUID), false for a random (version 4) one of a
    /// version that gave random ids, or any other text.
    pub fn is_derived(&self) -> bool {
        uuid::Uuid::parse_str(&self.0).is_ok_and(|id| id.get_version_num() == 8)
    }
}

text_id!(RequestId);

/// The secret from which request ids are derived: 32 random bytes, one per requests table (kept in the table, so
/// that every function and every version derives the same ids from it). Secret so that nobody who can write
/// ServiceNow tickets but cannot read the table can foresee a request's `correlation_id` and plant a ticket
/// carrying it before the connector creates its own.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestIdKey([u8; REQUEST_ID_KEY_BYTES]);

/// The length of a [`RequestIdKey`], in bytes.
pub const REQUEST_ID_KEY_BYTES: usize = 32;

impl RequestIdKey {
    /// A new key from the operating system's random source. Panics only if the system has none (no Lambda or
    /// Linux does).
    pub fn random() -> Self {
        let mut bytes = [0; REQUEST_ID_KEY_BYTES];
        getrandom::fill(&mut bytes).expect("the system's random source");
        Self(bytes)
    }

    /// Errors: "must be 32 bytes".
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, &'static str> {
        bytes.try_into().map(Self).map_err(|_| "must be 32 bytes")
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The id of the request PM Cloud submits as `pmc_request_id`: the first 16 bytes of HMAC-SHA256(key,
    /// `pmc_request_id`) as a custom (version 8) UUID (RFC 9562 §5.8), the same every time, so that the store finds
    /// a request, or refuses a second one, with one key.
    pub fn request_id(&self, pmc_request_id: &PmcRequestId) -> RequestId {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(pmc_request_id.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&digest[..16]);
        RequestId(uuid::Uuid::new_v8(bytes).to_string())
    }
}

impl fmt::Debug for RequestIdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestIdKey(REDACTED)")
    }
}

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
    fn a_request_id_is_derived_from_the_pmc_request_id_and_the_key() {
        let pmc = |text| PmcRequestId::parse(text).unwrap();
        let key = RequestIdKey::from_bytes(&[7; 32]).unwrap();
        let first = key.request_id(&pmc("pmc-1"));
        assert_eq!(first, key.request_id(&pmc("pmc-1")));
        assert_ne!(first, key.request_id(&pmc("pmc-2")));
        assert_ne!(first, RequestIdKey::random().request_id(&pmc("pmc-1")));
        let uuid = uuid::Uuid::parse_str(first.as_str()).unwrap();
        assert_eq!(uuid.get_version_num(), 8);
        // Pinned (computed with Python: hmac.new(bytes([7]*32), b"dev-0001", "sha256"), first 16 bytes, version
        // and variant bits set): a changed derivation would orphan every stored request.
        assert_eq!(
            key.request_id(&pmc("dev-0001")).as_str(),
            "2e3d9db7-b973-80ef-a0b1-b48a6b021188"
        );
    }

    #[test]
    fn request_id_keys_are_32_bytes_and_never_printed() {
        assert!(RequestIdKey::from_bytes(&[1; 31]).is_err());
        assert!(RequestIdKey::from_bytes(&[1; 33]).is_err());
        let key = RequestIdKey::from_bytes(&[0xab; 32]).unwrap();
        assert_eq!(RequestIdKey::from_bytes(key.as_bytes()).unwrap(), key);
        assert!(!format!("{key:?}").contains("ab"));
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
    fn only_ids_derived_with_a_key_say_so() {
        let pmc = PmcRequestId::parse("pmc-1").unwrap();
        assert!(RequestIdKey::random().request_id(&pmc).is_derived());
        assert!(!RequestId::random().is_derived());
        assert!(!RequestId::parse("no-uuid").unwrap().is_derived());
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
