//! The contact an appeal gives (a phone number), kept only as a keyed hash: the same number
//! filed twice at one node matches, and nobody without the node's key can test a guessed number.

use huren_adapters::RegionCode;

use crate::privacy::{SubjectKey, subject_ref};

/// Longest contact accepted, in bytes.
pub const MAX_CONTACT: usize = 64;

/// The keyed hash of `contact` for appeals to `issuing`: 64 hex characters. Spaces and dashes
/// do not change it. Keyed under the pair (issuing, national), which no decision uses (a national
/// caller judges nobody), so a contact hash never equals a subject reference.
pub fn contact_hash(key: &SubjectKey, issuing: RegionCode, contact: &str) -> String {
    let normalised: String = contact
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    subject_ref(
        key,
        issuing.province(),
        RegionCode::NATIONAL,
        issuing.province(),
        &format!("contact:{normalised}"),
    )
}

/// Whether `text` has the shape of a [`contact_hash`]: 64 lowercase hex characters. A relayed
/// filing carrying anything else (a phone number in clear) is refused.
pub fn is_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_is_a_keyed_hash_that_ignores_spacing() {
        let key = SubjectKey::from_bytes([7; 32]);
        let a = contact_hash(&key, RegionCode::HUBEI, "138 0013 8000");
        assert_eq!(a, contact_hash(&key, RegionCode::HUBEI, "138-0013-8000"));
        assert_eq!(a.len(), 64);
        assert!(!a.contains("13800138000"));
        let other = SubjectKey::from_bytes([8; 32]);
        assert_ne!(a, contact_hash(&other, RegionCode::HUBEI, "13800138000"));
    }
}
