//! The opaque code id of online regions: 32 lower-case hex characters, 128 random bits.

use std::fmt;

use rand::RngCore as _;

/// An online region's code id. It names a code in the issuing region's database and carries no
/// personal data, so it may travel to the verifying side.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CodeId(String);

impl CodeId {
    pub const LEN: usize = 32;

    /// Strict: exactly 32 lower-case hex characters.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == Self::LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(s.to_string()))
    }

    /// A fresh random id, for the issuing region's service.
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_parse_and_differ() {
        let a = CodeId::random();
        assert_eq!(CodeId::parse(a.as_str()), Some(a.clone()));
        assert_ne!(a, CodeId::random());
    }

    #[test]
    fn refuses_upper_case_short_and_non_hex() {
        assert!(CodeId::parse(&"A".repeat(32)).is_none());
        assert!(CodeId::parse(&"a".repeat(31)).is_none());
        assert!(CodeId::parse(&"g".repeat(32)).is_none());
    }
}
