//! Canonical JSON: the one byte encoding of every registry document (rules in the crate manual).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The exact bytes of a document: compact JSON, struct fields in declaration order, maps sorted
/// (they are all `BTreeMap`), no floats, times RFC 3339 UTC to the second, bytes base64.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own document types cannot fail: no map has non-string keys and no value
    // is a float. An empty vector would fail every later check rather than panic here.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Decodes `bytes` and insists they are the canonical encoding of the value they decode to,
/// so a signature covers exactly one reading of a document.
pub fn decode<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<T, CanonicalError> {
    let value: T =
        serde_json::from_slice(bytes).map_err(|e| CanonicalError::Json(e.to_string()))?;
    if encode(&value) != bytes {
        return Err(CanonicalError::NotCanonical);
    }
    Ok(value)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonicalError {
    #[error("not valid JSON for this document type: {0}")]
    Json(String),
    #[error("valid JSON but not in canonical form (re-encode it with huren)")]
    NotCanonical,
}

/// Times are whole seconds, UTC, so that one instant has one encoding.
pub fn whole_seconds(t: time::OffsetDateTime) -> time::OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(0).unwrap_or(t)
}

/// `Vec<u8>` as standard base64.
pub mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

/// `RegionCode` as its six digits.
pub mod region {
    use huren_adapters::RegionCode;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(code: &RegionCode, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(code.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<RegionCode, D::Error> {
        let s = String::deserialize(d)?;
        RegionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// RFC 3339 in UTC, whole seconds.
pub mod when {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let t = super::whole_seconds(*t);
        let text = t.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        OffsetDateTime::parse(&s, &Rfc3339).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::OffsetDateTime;

        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            let s: Option<String> = Option::deserialize(d)?;
            s.map(|s| {
                OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn reordered_or_spaced_json_is_refused() {
        let mut m = BTreeMap::new();
        m.insert("b".to_string(), 1u64);
        m.insert("a".to_string(), 2u64);
        let bytes = encode(&m);
        assert_eq!(bytes, br#"{"a":2,"b":1}"#);
        assert_eq!(decode::<BTreeMap<String, u64>>(&bytes).unwrap(), m);
        assert_eq!(
            decode::<BTreeMap<String, u64>>(br#"{"b":1,"a":2}"#).unwrap_err(),
            CanonicalError::NotCanonical
        );
        assert_eq!(
            decode::<BTreeMap<String, u64>>(br#"{"a": 2,"b":1}"#).unwrap_err(),
            CanonicalError::NotCanonical
        );
        assert!(matches!(
            decode::<BTreeMap<String, u64>>(b"\xff\x00garbage"),
            Err(CanonicalError::Json(_))
        ));
    }
}
