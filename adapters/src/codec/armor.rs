//! Text armor for signed payloads: how binary body and signature bytes become QR-safe text.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How a format turns bytes into text. Both decoders are strict: each byte string has exactly
/// one accepted text form, so a changed character can never decode to the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Armor {
    /// RFC 4648 §5 base64url without padding; non-zero trailing bits are refused.
    Base64Url,
    /// Upper-case hex, as national e-health-card style payloads print.
    HexUpper,
}

impl Armor {
    pub fn encode(self, bytes: &[u8]) -> String {
        match self {
            Armor::Base64Url => URL_SAFE_NO_PAD.encode(bytes),
            Armor::HexUpper => hex::encode_upper(bytes),
        }
    }

    /// `None` for anything that is not the canonical armor of some byte string.
    pub fn decode(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Armor::Base64Url => URL_SAFE_NO_PAD.decode(text).ok(),
            Armor::HexUpper => {
                // `hex` accepts lower case too; two spellings of one byte would be malleable.
                if text.bytes().any(|b| b.is_ascii_lowercase()) {
                    return None;
                }
                hex::decode(text).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_refuses_non_canonical_trailing_bits() {
        let text = Armor::Base64Url.encode(b"ab");
        assert_eq!(Armor::Base64Url.decode(&text).as_deref(), Some(&b"ab"[..]));
        // "YWI" is canonical for "ab"; "YWJ" differs only in the unused low bits.
        assert_eq!(Armor::Base64Url.decode("YWJ"), None);
    }

    #[test]
    fn hex_refuses_lower_case() {
        assert_eq!(Armor::HexUpper.decode("AB"), Some(vec![0xab]));
        assert_eq!(Armor::HexUpper.decode("ab"), None);
    }
}
