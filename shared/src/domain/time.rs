//! Timestamps: the connector speaks RFC 3339 UTC with whole seconds (`2026-11-28T12:04:05Z`).

use chrono::{DateTime, SecondsFormat, Utc};

pub type Timestamp = DateTime<Utc>;

/// Now, to the whole second: what is stored is exactly what is shown.
pub fn now() -> Timestamp {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(0)
}

pub fn format_rfc3339(at: &Timestamp) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Serde adapter for `Timestamp` fields.
pub mod rfc3339 {
    use super::{Timestamp, format_rfc3339};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_rfc3339(at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|at| at.to_utc())
            .map_err(serde::de::Error::custom)
    }

    /// The same for `Option<Timestamp>`.
    pub mod option {
        use super::super::{Timestamp, format_rfc3339};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            at: &Option<Timestamp>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => serializer.serialize_str(&format_rfc3339(at)),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Timestamp>, D::Error> {
            Option::<String>::deserialize(deserializer)?
                .map(|text| {
                    chrono::DateTime::parse_from_rfc3339(&text)
                        .map(|at| at.to_utc())
                        .map_err(serde::de::Error::custom)
                })
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_whole_seconds_with_z() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 12, 4, 5).unwrap();
        assert_eq!(format_rfc3339(&at), "2026-11-28T12:04:05Z");
    }
}
