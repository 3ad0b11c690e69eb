//! The vocabulary adapters speak: region codes, resident IDs, what reading a code yields.

use std::fmt;

use time::OffsetDateTime;

pub use crate::region::RegionCode;

/// An 18-character resident ID number whose ISO 7064 MOD 11-2 check digit is correct.
/// Never logged: `Debug` and `Display` show only the first 2 and last 2 characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

impl ResidentId {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let b = s.as_bytes();
        let bad = |why: &str| CodeError::InvalidResidentId(why.to_string());
        if b.len() != 18 {
            return Err(bad("a resident ID number has 18 characters"));
        }
        if !b[..17].iter().all(u8::is_ascii_digit) {
            return Err(bad(
                "the first 17 characters of a resident ID number are digits",
            ));
        }
        let expected = check_character(&b[..17])
            .ok_or_else(|| bad("the first 17 characters of a resident ID number are digits"))?;
        let got = b[17].to_ascii_uppercase();
        if got != expected {
            return Err(bad(
                "the check digit (ISO 7064 MOD 11-2) of the resident ID number is wrong",
            ));
        }
        let mut id = s.to_string();
        id.make_ascii_uppercase();
        Ok(Self(id))
    }

    /// Completes the first 17 digits with their check character (test data, demo residents).
    pub fn from_first17(first17: &str) -> Result<Self, CodeError> {
        let check = check_character(first17.as_bytes())
            .ok_or_else(|| CodeError::InvalidResidentId(format!("{first17:?} is not 17 digits")))?;
        Self::parse(&format!("{first17}{}", char::from(check)))
    }

    /// The full number, for the issuing region's own adapter and the keyed subject reference only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// First 2 and last 2 characters.
    pub fn masked(&self) -> String {
        format!("{}**************{}", &self.0[..2], &self.0[16..])
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

/// The ISO 7064 MOD 11-2 check character (`0`-`9` or `X`) of a resident ID number's first 17
/// digits, or `None` when they are not 17 ASCII digits.
pub fn check_character(first17: &[u8]) -> Option<u8> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(b"10X98765432"[(sum % 11) as usize])
}

/// A person as a code names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Known for signed payloads that carry it; online regions may return only a masked name.
    pub id: Option<ResidentId>,
    /// Full name when known, else the masked name the region returned.
    pub name: String,
    /// A stable handle for the person within the issuing region when the ID is not known
    /// (e.g. an online region's code id); the gateway keys its subject_ref on the ID or this.
    pub region_handle: Option<String>,
}

impl Person {
    /// Surname + `*` (the first character; Chinese surnames are one character in the common case).
    pub fn masked_name(&self) -> String {
        match self.name.chars().next() {
            Some(first) => format!("{first}*"),
            None => "*".to_string(),
        }
    }
}

/// The national colour vocabulary (canonical status).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Colour {
    Green,
    Yellow,
    Red,
    Pending,
    Unknown,
}

impl Colour {
    pub const ALL: [Colour; 5] = [
        Colour::Green,
        Colour::Yellow,
        Colour::Red,
        Colour::Pending,
        Colour::Unknown,
    ];

    pub fn parse(s: &str) -> Option<Colour> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Colour::Green => "GREEN",
            Colour::Yellow => "YELLOW",
            Colour::Red => "RED",
            Colour::Pending => "PENDING",
            Colour::Unknown => "UNKNOWN",
        }
    }
}

/// Where an adapter got the status from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Online,
    OfflineSigned,
    Cached,
    /// The issuing region could not be reached within the deadline: how the gateway labels a
    /// status made from a [`ReadOutcome::Degraded`]. No [`NativeReading`] carries it.
    Degraded,
}

/// What reading one code yields: the region's own words, untranslated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeReading {
    pub region: RegionCode,
    /// Issuer id as the registry names it, when the code is signed.
    pub issuer_id: Option<String>,
    /// The region's own status word, e.g. "绿码", "中风险", "居家观察". Translated by the gateway
    /// through the region's signed concept map.
    pub native_label: String,
    pub subject: Person,
    /// When the issuing region last refreshed (or signed) this status.
    pub refreshed_at: OffsetDateTime,
    /// When the payload itself stops being valid, if it says.
    pub valid_until: Option<OffsetDateTime>,
    pub source: Source,
    /// The holder's last check-in, for formats that record one (Hubei). The region's concept map
    /// decides what an old check-in means (Hubei: green lapses to yellow after 3 days).
    pub checked_in_at: Option<OffsetDateTime>,
    /// Where a v2 offline code's status lives in its issuer's status lists (the list is the
    /// issuer's: [`NativeReading::region`] and [`NativeReading::issuer_id`]); `None` for codes
    /// without one, which keep today's behaviour.
    pub status_ref: Option<crate::status_list::StatusRef>,
    /// Facts worth a reason line (which revocation list was checked, ...).
    pub notes: Vec<String>,
    /// The issuing region's own service said this is a synthetic test person (the prober's),
    /// not a resident: judged as any other, never counted in summaries. Only the region's
    /// answer sets it; nothing a caller sends can.
    pub synthetic: bool,
}

/// What reading a code yields: the region's own words, or why they could not be had in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOutcome {
    Read(NativeReading),
    /// The issuing region could not be asked by the deadline (down, slow, garbage, wrong
    /// identity, no service listed): there is no status, only who the code names and why.
    Degraded(Degraded),
}

impl ReadOutcome {
    /// The reading, when the region answered.
    pub fn into_reading(self) -> Option<NativeReading> {
        match self {
            ReadOutcome::Read(reading) => Some(reading),
            ReadOutcome::Degraded(_) => None,
        }
    }

    pub fn is_degraded(&self) -> bool {
        matches!(self, ReadOutcome::Degraded(_))
    }
}

/// A read that could not reach the issuing region. It carries no status word, so nothing
/// downstream can mistake it for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degraded {
    pub region: RegionCode,
    /// Who the code names as far as known without the region: the code id as the handle, the
    /// resident asked about, or a signed payload's subject (hybrid formats).
    pub subject: Person,
    /// A signed payload's issuer, signing time and expiry, when one was read before the live
    /// check failed (hybrid formats).
    pub issuer_id: Option<String>,
    pub signed_at: Option<OffsetDateTime>,
    pub valid_until: Option<OffsetDateTime>,
    /// Why, one line per fact, for the reason the person at the checkpoint reads.
    pub why: Vec<String>,
    /// The registry lists no status service for the region: nobody could be asked, which is a
    /// configuration gap, not a region that did not answer.
    pub unlisted: bool,
}

/// Why a payload could not be read. The gateway turns these into REJECT or an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("no region adapter recognises this payload")]
    NotClaimed,
    #[error("malformed {region} payload: {detail}")]
    Malformed { region: RegionCode, detail: String },
    #[error("signature check failed: the payload was altered or not signed by issuer {issuer}")]
    BadSignature { issuer: String },
    #[error(transparent)]
    Trust(#[from] crate::trust::TrustError),
    #[error("invalid resident ID number: {0}")]
    InvalidResidentId(String),
    #[error("the payload expired at {0}")]
    Expired(OffsetDateTime),
    /// The issuing region revoked this one code (e.g. listed in Guangdong's revocation list).
    #[error("the issuing region revoked code {serial}: {reason}")]
    CodeRevoked { serial: String, reason: String },
    #[error("the region has no record of this code")]
    UnknownCode,
    #[error("{0}")]
    Unsupported(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_character_completes_a_known_id() {
        assert_eq!(check_character(b"11010519491231002"), Some(b'X'));
        let id = ResidentId::from_first17("11010519491231002").unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
        assert_eq!(id.masked(), "11**************2X");
        assert_eq!(format!("{id:?}"), "ResidentId(11**************2X)");
    }

    #[test]
    fn a_wrong_check_character_or_a_short_body_is_refused() {
        assert!(ResidentId::parse("110105194912310021").is_err());
        assert!(ResidentId::parse("11010519491231002x").is_ok());
        assert_eq!(check_character(b"1101051949123100"), None);
        assert_eq!(check_character(b"1101051949123100A"), None);
        assert!(ResidentId::from_first17("not digits at all").is_err());
    }
}
