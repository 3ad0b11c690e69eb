//! A region's own document: issuers, revocations, status service, vocabulary and concept map.

use std::collections::BTreeMap;

use huren_adapters::Colour;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::keys::Algorithm;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IssuerStatus {
    Active,
    /// Temporarily not to be trusted for any code (e.g. under investigation).
    Suspended,
}

/// A key that signs the region's health codes, certified by the region CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuer {
    pub algorithm: Algorithm,
    /// DER of the issuer's X.509 signing certificate; must chain to the delegation's region CA.
    #[serde(with = "crate::canonical::b64")]
    pub certificate: Vec<u8>,
    /// The region's own validity window for the key; the certificate's window also applies.
    #[serde(with = "crate::canonical::when")]
    pub not_before: OffsetDateTime,
    #[serde(with = "crate::canonical::when")]
    pub not_after: OffsetDateTime,
    pub status: IssuerStatus,
    /// A probe issuer: its codes are synthetic test persons (the reverse-testing prober's), judged
    /// like any other but never counted as real people in summaries. Absent (false) in documents
    /// signed before probe issuers, and then not serialised, so their signed bytes are unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub synthetic: bool,
}

/// An issuer's revocation. Under [`RevocationReason::KeyCompromise`] every code the issuer
/// signed is refused, whatever its `signed_at` (a stolen key can backdate); under the other
/// reasons, codes signed at or after `effective_from` are refused and older ones still verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub issuer: String,
    #[serde(with = "crate::canonical::when")]
    pub effective_from: OffsetDateTime,
    pub reason: RevocationReason,
}

/// Why an issuer was revoked. On the wire a string: `key_compromise`, `retired`, `superseded`.
///
/// Registries published before reasons were typed carry free text; it is kept byte for byte
/// ([`RevocationReason::Unspecified`], so the signed document still re-encodes canonically) and
/// keeps the rule those registries were signed under: the effective time. The ceremony CLI
/// accepts only the three reasons, so a new revocation always says which rule applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum RevocationReason {
    /// The key is (or may be) in someone else's hands: no code it signed is trusted.
    KeyCompromise,
    /// The issuer stopped issuing; codes signed before `effective_from` stay valid.
    Retired,
    /// Another issuer took over; codes signed before `effective_from` stay valid.
    Superseded,
    /// Free text from a registry published before reasons were typed (effective-time rule).
    Unspecified(String),
}

impl RevocationReason {
    /// The three reasons a ceremony may write; anything else is refused there.
    pub fn parse(s: &str) -> Option<Self> {
        match Self::from(s.to_string()) {
            Self::Unspecified(_) => None,
            known => Some(known),
        }
    }

    /// Whether every code of the issuer is refused, whatever its signing time.
    pub fn invalidates_all_codes(&self) -> bool {
        matches!(self, Self::KeyCompromise)
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::KeyCompromise => "key_compromise",
            Self::Retired => "retired",
            Self::Superseded => "superseded",
            Self::Unspecified(text) => text,
        }
    }
}

impl From<String> for RevocationReason {
    fn from(s: String) -> Self {
        match s.as_str() {
            "key_compromise" => Self::KeyCompromise,
            "retired" => Self::Retired,
            "superseded" => Self::Superseded,
            _ => Self::Unspecified(s),
        }
    }
}

impl From<&str> for RevocationReason {
    fn from(s: &str) -> Self {
        Self::from(s.to_string())
    }
}

impl From<RevocationReason> for String {
    fn from(r: RevocationReason) -> Self {
        r.as_str().to_string()
    }
}

impl std::fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An online region's status service and the TLS identity it must present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEndpoint {
    pub url: String,
    /// SPIFFE URI SAN of the service's certificate, issued by the region CA.
    pub spiffe_id: String,
}

/// A colour that does not last: e.g. Hubei's green lapses to YELLOW 3 days after the last refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lapse {
    pub after_secs: u64,
    pub to: Colour,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConceptEntry {
    pub colour: Colour,
    pub lapse: Option<Lapse>,
}

/// Native status label → canonical colour. Labels it does not list are UNKNOWN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConceptMap {
    pub labels: BTreeMap<String, ConceptEntry>,
}

impl ConceptMap {
    /// The colour `label` means `now`, for a status last refreshed at `refreshed_at`.
    pub fn translate(
        &self,
        label: &str,
        refreshed_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Colour {
        let Some(entry) = self.labels.get(label) else {
            return Colour::Unknown;
        };
        match entry.lapse {
            Some(lapse)
                if now - refreshed_at
                    >= time::Duration::seconds(
                        i64::try_from(lapse.after_secs).unwrap_or(i64::MAX),
                    ) =>
            {
                lapse.to
            }
            _ => entry.colour,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionDocument {
    /// GB/T 2260 province code; must equal the delegation this document is signed under.
    pub region: String,
    pub version: u64,
    #[serde(with = "crate::canonical::when")]
    pub expires: OffsetDateTime,
    /// Name of the region's code system, e.g. "天府健康通".
    pub system: String,
    /// Issuer id → issuer.
    pub issuers: BTreeMap<String, Issuer>,
    pub revocations: Vec<Revocation>,
    /// Present for regions whose statuses are checked online.
    pub status_service: Option<StatusEndpoint>,
    pub concept_map: ConceptMap,
    /// How long an online status may be served from cache.
    pub cache_ttl_secs: u64,
}

impl RegionDocument {
    pub fn document_name(region: &str) -> String {
        format!("{}{region}", super::REGION_PREFIX)
    }
}

impl super::Document for RegionDocument {
    const PAYLOAD_TYPE: &'static str = "application/vnd.huren.region+json";
    fn name(&self) -> String {
        Self::document_name(&self.region)
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn expires(&self) -> OffsetDateTime {
        self.expires
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn hubei_green_lapses_to_yellow_after_three_days() {
        let mut map = ConceptMap::default();
        map.labels.insert(
            "绿码".into(),
            ConceptEntry {
                colour: Colour::Green,
                lapse: Some(Lapse {
                    after_secs: 3 * 86_400,
                    to: Colour::Yellow,
                }),
            },
        );
        let t = datetime!(2020-02-20 08:00 UTC);
        assert_eq!(
            map.translate("绿码", t, t + time::Duration::days(2)),
            Colour::Green
        );
        assert_eq!(
            map.translate("绿码", t, t + time::Duration::days(3)),
            Colour::Yellow
        );
        assert_eq!(map.translate("紫码", t, t), Colour::Unknown);
    }
}
