//! Signature verification against a registry key, with one accepted signature per message.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

use crate::trust::{IssuerKey, KeyAlgorithm};

/// P-256 group order n, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
/// floor(n / 2), big-endian: the largest `s` a normalised signature may carry.
const P256_HALF_N: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

/// Does `signature` over `message` verify under `key`, which must be of `expected` algorithm?
///
/// Ed25519 uses `verify_strict` (refuses non-canonical `S` and small-order keys). P-256 takes
/// 64-byte `r || s` and refuses high `s`, so `(r, n - s)` cannot pass as a second valid form.
pub fn verify(key: &IssuerKey, expected: KeyAlgorithm, message: &[u8], signature: &[u8]) -> bool {
    if key.algorithm != expected {
        return false;
    }
    match key.algorithm {
        KeyAlgorithm::Ed25519 => verify_ed25519(&key.public_key, message, signature),
        KeyAlgorithm::EcdsaP256Sha256 => verify_p256(&key.public_key, message, signature),
        KeyAlgorithm::Sm2Sm3 => verify_sm2(&key.public_key, message, signature),
    }
}

pub fn verify_ed25519(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (
        <[u8; 32]>::try_from(public_key),
        <[u8; 64]>::try_from(signature),
    ) else {
        return false;
    };
    let Some(vk) = ed25519_key(&pk) else {
        return false;
    };
    vk.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig))
        .is_ok()
}

/// Registries list a handful of issuers, so their decompressed keys are kept: decompressing a
/// point costs a sizeable fraction of a verification, and every read would repeat it.
const ED25519_CACHE_MAX: usize = 1024;

pub(crate) fn ed25519_key(bytes: &[u8; 32]) -> Option<ed25519_dalek::VerifyingKey> {
    cached_ed25519_key(bytes).map(|(vk, _)| vk)
}

/// The key, when it is not of small order (a weak key, which `verify_strict` refuses): the
/// batch check's test, answered once per key rather than once per code.
pub(crate) fn ed25519_strong_key(bytes: &[u8; 32]) -> Option<ed25519_dalek::VerifyingKey> {
    cached_ed25519_key(bytes).and_then(|(vk, weak)| (!weak).then_some(vk))
}

/// The decompressed key and whether it is weak, from the cache or decompressed into it.
fn cached_ed25519_key(bytes: &[u8; 32]) -> Option<(ed25519_dalek::VerifyingKey, bool)> {
    type Cache = RwLock<HashMap<[u8; 32], (ed25519_dalek::VerifyingKey, bool)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(known) = cache.read().unwrap_or_else(|e| e.into_inner()).get(bytes) {
        return Some(*known);
    }
    let vk = ed25519_dalek::VerifyingKey::from_bytes(bytes).ok()?;
    let known = (vk, vk.is_weak());
    let mut cache = cache.write().unwrap_or_else(|e| e.into_inner());
    // A flood of distinct keys (only possible from a misbehaving registry) must not grow memory.
    if cache.len() >= ED25519_CACHE_MAX {
        cache.clear();
    }
    cache.insert(*bytes, known);
    Some(known)
}

pub fn verify_p256(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    if signature.len() != 64 || signature[32..] > P256_HALF_N[..] {
        return false;
    }
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
        .verify(message, signature)
        .is_ok()
}

/// SM2 over SM3 with the standard's default signer id. The crate refuses `r` or `s` outside
/// `[1, n - 1]`, and an SM2 signature has exactly one valid form per message and nonce.
pub fn verify_sm2(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    use sm2::dsa::signature::Verifier as _;
    let Ok(signature) = sm2::dsa::Signature::from_slice(signature) else {
        return false;
    };
    sm2_key(public_key).is_some_and(|key| key.verify(message, &signature).is_ok())
}

/// The SM2 verifying key of a SEC1 point, under the default signer id (whose hash `Z` the key
/// precomputes, so each code's check hashes only its message).
pub fn sm2_key(public_key: &[u8]) -> Option<sm2::dsa::VerifyingKey> {
    let point = sm2::PublicKey::from_sec1_bytes(public_key).ok()?;
    sm2::dsa::VerifyingKey::new(SM2_DEFAULT_ID, point).ok()
}

/// GB/T 35276's default distinguishing identifier, which every SM2 code signer here uses.
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

/// Replaces a high `s` in `r || s` by `n - s` (an equally valid signature of the same message).
pub(crate) fn normalise_low_s(sig: &mut [u8; 64]) {
    if sig[32..] <= P256_HALF_N[..] {
        return;
    }
    let mut borrow = 0u16;
    for i in (0..32).rev() {
        let (n, s) = (u16::from(P256_N[i]), u16::from(sig[32 + i]) + borrow);
        let (digit, next) = if n >= s { (n - s, 0) } else { (n + 256 - s, 1) };
        sig[32 + i] = digit as u8;
        borrow = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::IssuerSigner;

    #[test]
    fn p256_signatures_are_low_s_and_the_high_s_twin_is_refused() {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::EcdsaP256Sha256).unwrap();
        let key = signer.public_key();
        for _ in 0..16 {
            let sig: [u8; 64] = signer.sign(b"msg").unwrap().try_into().unwrap();
            assert!(verify(&key, KeyAlgorithm::EcdsaP256Sha256, b"msg", &sig));
            // n - s is the twin ring would also accept; ours must not.
            let mut twin = sig;
            let mut borrow = 0u16;
            for i in (0..32).rev() {
                let (n, s) = (u16::from(P256_N[i]), u16::from(sig[32 + i]) + borrow);
                let (d, b) = if n >= s { (n - s, 0) } else { (n + 256 - s, 1) };
                twin[32 + i] = d as u8;
                borrow = b;
            }
            assert!(!verify(&key, KeyAlgorithm::EcdsaP256Sha256, b"msg", &twin));
        }
    }

    #[test]
    fn sm2_signs_and_verifies_and_a_forged_or_p256_signature_is_refused() {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::Sm2Sm3).unwrap();
        let key = signer.public_key();
        assert_eq!(key.public_key.len(), 65);
        let sig = signer.sign(b"msg").unwrap();
        assert_eq!(sig.len(), 64);
        assert!(verify(&key, KeyAlgorithm::Sm2Sm3, b"msg", &sig));
        assert!(!verify(&key, KeyAlgorithm::Sm2Sm3, b"msG", &sig));
        let mut flipped = sig.clone();
        flipped[40] ^= 1;
        assert!(!verify(&key, KeyAlgorithm::Sm2Sm3, b"msg", &flipped));
        assert!(!verify(&key, KeyAlgorithm::EcdsaP256Sha256, b"msg", &sig));
        // A P-256 point is (almost surely) not on the SM2 curve, and never verifies an SM2 code.
        let p256 = IssuerSigner::generate("p", KeyAlgorithm::EcdsaP256Sha256).unwrap();
        let wrong_curve = IssuerKey {
            algorithm: KeyAlgorithm::Sm2Sm3,
            public_key: p256.public_key().public_key,
        };
        assert!(!verify(&wrong_curve, KeyAlgorithm::Sm2Sm3, b"msg", &sig));
        assert!(!verify(&key, KeyAlgorithm::Sm2Sm3, b"msg", &[0u8; 64]));
        assert!(!verify(&key, KeyAlgorithm::Sm2Sm3, b"msg", &sig[..63]));
    }

    #[test]
    fn a_key_of_the_other_algorithm_is_refused() {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::Ed25519).unwrap();
        let sig = signer.sign(b"msg").unwrap();
        let key = signer.public_key();
        assert!(verify(&key, KeyAlgorithm::Ed25519, b"msg", &sig));
        assert!(!verify(&key, KeyAlgorithm::EcdsaP256Sha256, b"msg", &sig));
    }
}
