//! Batch verification of Ed25519 signed codes: many signatures checked at once, bisected on failure.
//!
//! A batch of codes is decoded first ([`SignedFormat::signed_parts`]); the Ed25519 signatures are
//! then verified together with `verify_batch`, which costs about half of one check each. What
//! passed goes into [`Verified`], which a later read consults instead of checking again; a code
//! not in it is checked alone as before, so a bad code fails with the same error it always did.
//!
//! Strictness: `verify_strict` refuses non-canonical `s`, a non-canonical or small-order `R`, and
//! a small-order key. The batch equation does not, so those are checked here before an entry is
//! batched; entries that fail them are left out (and fail alone). One difference remains and is
//! accepted: an `R` with a torsion component that an issuer deliberately crafts with its own
//! private key may pass a batch although `verify_strict` would refuse it. Nobody without the
//! issuer's key can produce one, and the issuer could as well sign whatever it likes.
//!
//! [`SignedFormat::signed_parts`]: crate::codec::SignedFormat::signed_parts

use std::collections::HashSet;

use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, VerifyingKey};

/// What an Ed25519 signed code's signature covers: its issuer's key, the signed text, the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedParts {
    pub public_key: [u8; 32],
    pub message: Vec<u8>,
    pub signature: [u8; 64],
}

/// The signatures a batch check found good: exact (key, signature, message) triples.
#[derive(Debug, Default)]
pub struct Verified(HashSet<Vec<u8>>);

impl Verified {
    /// Did this exact key, message and signature pass a batch check?
    pub fn holds(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        public_key.len() == 32
            && signature.len() == 64
            && self.0.contains(&entry_key(public_key, signature, message))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Key and signature are of fixed length, so the concatenation names one triple.
fn entry_key(public_key: &[u8], signature: &[u8], message: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(96 + message.len());
    key.extend_from_slice(public_key);
    key.extend_from_slice(signature);
    key.extend_from_slice(message);
    key
}

/// Below this many entries a failed batch is settled one by one: bisecting further costs more.
const ALONE_BELOW: usize = 4;

/// Verifies `parts` together; what passes is in the answer, what does not is left for a single check.
pub fn verify_all(parts: &[SignedParts]) -> Verified {
    let entries: Vec<Entry<'_>> = parts.iter().filter_map(Entry::strict).collect();
    let mut verified = Verified::default();
    settle(&entries, &mut verified);
    verified
}

/// One batchable signature, its encodings already checked as `verify_strict` would.
struct Entry<'a> {
    parts: &'a SignedParts,
    key: VerifyingKey,
    signature: Signature,
}

impl<'a> Entry<'a> {
    /// `None` when `verify_strict` would refuse the encodings whatever the equation says.
    fn strict(parts: &'a SignedParts) -> Option<Self> {
        let key = VerifyingKey::from_bytes(&parts.public_key).ok()?;
        if key.is_weak() {
            return None;
        }
        let (r, s) = parts.signature.split_at(32);
        let r: [u8; 32] = r.try_into().ok()?;
        let s: [u8; 32] = s.try_into().ok()?;
        // s < L, as verify_strict demands (the batch would also refuse it, failing the batch).
        Option::<Scalar>::from(Scalar::from_canonical_bytes(s))?;
        let point = CompressedEdwardsY(r).decompress()?;
        // Re-encoding catches a non-canonical `y` and a negative zero `x`.
        if point.is_small_order() || point.compress().to_bytes() != r {
            return None;
        }
        Some(Self {
            parts,
            key,
            signature: Signature::from_bytes(&parts.signature),
        })
    }

    fn verify_alone(&self) -> bool {
        self.key
            .verify_strict(&self.parts.message, &self.signature)
            .is_ok()
    }
}

/// Batch-verifies `entries`; on failure halves them until each bad one is found alone.
fn settle(entries: &[Entry<'_>], verified: &mut Verified) {
    if entries.len() < ALONE_BELOW {
        for e in entries.iter().filter(|e| e.verify_alone()) {
            verified.0.insert(entry_key(
                &e.parts.public_key,
                &e.parts.signature,
                &e.parts.message,
            ));
        }
        return;
    }
    let messages: Vec<&[u8]> = entries.iter().map(|e| e.parts.message.as_slice()).collect();
    let signatures: Vec<Signature> = entries.iter().map(|e| e.signature).collect();
    let keys: Vec<VerifyingKey> = entries.iter().map(|e| e.key).collect();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        for e in entries {
            verified.0.insert(entry_key(
                &e.parts.public_key,
                &e.parts.signature,
                &e.parts.message,
            ));
        }
        return;
    }
    let (left, right) = entries.split_at(entries.len() / 2);
    settle(left, verified);
    settle(right, verified);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::IssuerSigner;
    use crate::trust::KeyAlgorithm;
    use curve25519_dalek::traits::Identity;

    fn signed(signer: &IssuerSigner, n: usize) -> Vec<SignedParts> {
        let key: [u8; 32] = signer.public_key().public_key.try_into().unwrap();
        (0..n)
            .map(|i| {
                let message = format!("code {i}").into_bytes();
                let signature = signer.sign(&message).unwrap().try_into().unwrap();
                SignedParts {
                    public_key: key,
                    message,
                    signature,
                }
            })
            .collect()
    }

    fn holds(v: &Verified, p: &SignedParts) -> bool {
        v.holds(&p.public_key, &p.message, &p.signature)
    }

    /// One forged code at any position rejects exactly that code; every good one passes.
    #[test]
    fn one_forged_code_anywhere_fails_alone() {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::Ed25519).unwrap();
        for n in [2usize, 64, 1000] {
            let good = signed(&signer, n);
            let mut positions = vec![0, n / 2, n - 1];
            positions.push(rand::random::<usize>() % n);
            for bad in positions {
                let mut parts = good.clone();
                parts[bad].message.push(b'!');
                let verified = verify_all(&parts);
                for (i, p) in parts.iter().enumerate() {
                    assert_eq!(holds(&verified, p), i != bad, "n {n}, forged {bad}, at {i}");
                }
            }
        }
    }

    #[test]
    fn non_canonical_s_and_small_order_r_are_never_batched() {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::Ed25519).unwrap();
        let mut parts = signed(&signer, 8);
        // s + L: the same scalar, a non-canonical encoding that verify_strict refuses.
        let l = Scalar::ZERO - Scalar::ONE;
        let mut s = [0u8; 32];
        s.copy_from_slice(&parts[1].signature[32..]);
        let mut carry = 0u16;
        let l_plus_one = l.to_bytes();
        for i in 0..32 {
            // s + (L - 1) + 1 = s + L
            let sum = u16::from(s[i]) + u16::from(l_plus_one[i]) + carry + u16::from(i == 0);
            s[i] = sum as u8;
            carry = sum >> 8;
        }
        parts[1].signature[32..].copy_from_slice(&s);
        // The identity as R (small order).
        parts[2].signature[..32].copy_from_slice(&CompressedEdwardsY::identity().to_bytes());
        let verified = verify_all(&parts);
        for (i, p) in parts.iter().enumerate() {
            assert_eq!(holds(&verified, p), !(1..=2).contains(&i), "at {i}");
        }
    }

    #[test]
    fn a_small_order_key_is_never_batched() {
        let identity = CompressedEdwardsY::identity().to_bytes();
        let parts = vec![
            SignedParts {
                public_key: identity,
                message: b"m".to_vec(),
                signature: [0; 64],
            };
            4
        ];
        assert!(verify_all(&parts).is_empty());
    }
}
