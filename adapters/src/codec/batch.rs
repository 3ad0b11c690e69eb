//! Batch verification of Ed25519 signed codes: many signatures checked at once, bisected on failure.
//!
//! A batch of codes is decoded first ([`SignedFormat::signed_code`]); the Ed25519 signatures are
//! then verified together with one random linear combination of their equations (the batch
//! equation ed25519-dalek's `verify_batch` uses), which costs well under one check each. What
//! passed goes into [`Verified`] with the body decoded for the check, which a later read consults
//! instead of checking and decoding again; a code not in it is decoded and checked alone as
//! before, so a bad code fails with the same error it always did.
//!
//! Strictness: `verify_strict` refuses non-canonical `s`, a non-canonical or small-order `R`, and
//! a small-order key. The batch equation does not, so those are checked here before an entry is
//! batched; entries that fail them are left out (and fail alone). One difference remains and is
//! accepted: an `R` with a torsion component that an issuer deliberately crafts with its own
//! private key may pass a batch although `verify_strict` would refuse it. Nobody without the
//! issuer's key can produce one, and the issuer could as well sign whatever it likes.
//!
//! The equation is written here rather than taken from `verify_batch` because that function
//! decompresses every `R` a second time and runs a transcript over every input to draw its
//! coefficients; for the small batches that concurrent single calls form
//! ([`crate::codec::group`]) those two costs ate most of the saving. Nor does it see that codes
//! checked together mostly share their issuer's key, whose terms are summed here into one
//! multiplication per key (`batch_holds`): a group of six costs some 0.4 of six lone checks
//! rather than 0.55 (`small_batch_cost` below).
//!
//! [`SignedFormat::signed_code`]: crate::codec::SignedFormat::signed_code

use std::collections::HashMap;
use std::sync::OnceLock;

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity as _, VartimeMultiscalarMul as _};
use ed25519_dalek::VerifyingKey;
use rand::RngCore as _;
use sha2::{Digest as _, Sha512};

use crate::codec::verify;
use crate::model::RegionCode;

/// What an Ed25519 signed code's signature covers: its issuer's key, the signed text, the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedParts {
    pub public_key: [u8; 32],
    pub message: Vec<u8>,
    pub signature: [u8; 64],
}

/// An Ed25519 code a signed format decoded for a check of its signature: what the signature
/// covers, and the body its signed text decodes to, which [`Verified::insert_code`] keeps so that
/// the code's read need not decode it again. Only the format makes one
/// ([`crate::codec::SignedFormat::signed_code`]), so the body is always the decoding of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCode {
    /// The region whose format decoded it.
    pub(crate) region: RegionCode,
    pub(crate) parts: SignedParts,
    pub(crate) body: String,
}

impl SignedCode {
    /// What the signature covers, for the check.
    pub fn parts(&self) -> &SignedParts {
        &self.parts
    }
}

/// The signatures a check found good, each with the exact key and signed text it was good for
/// and, for a code a signed format decoded ([`SignedCode`]), the body that text decodes to.
///
/// Found by the 64 signature bytes rather than by the whole (key, signature, text) triple: 64
/// bytes hashed instead of some 400, and no triple copied into a lookup key on either side. That
/// is exactly as safe: every answer still compares the full key and signed text of the entries
/// under the signature, so two codes with one signature and different texts (a genuine code and a
/// forgery that copies its signature onto another body) are never taken for each other: the
/// forgery finds the signature, not its text, and is checked alone. Entries may share a signature
/// (nothing stops a key holder from making one signature good for two keys), so each signature
/// holds a list.
#[derive(Debug, Default)]
pub struct Verified(HashMap<[u8; 64], Vec<Passed>>);

/// One good (key, text) under a signature.
#[derive(Debug)]
struct Passed {
    public_key: [u8; 32],
    message: Vec<u8>,
    /// The decoding region and the body, when a signed format decoded the code.
    body: Option<(RegionCode, String)>,
}

impl Verified {
    /// Did this exact key, message and signature pass a check?
    pub fn holds(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        self.under(signature)
            .iter()
            .any(|p| p.public_key[..] == *public_key && p.message == message)
    }

    /// The body that `region`'s format decoded from this exact signed text, when a check passed
    /// it with this exact signature (under whichever key: the read still asks for its own).
    pub fn body(&self, region: RegionCode, message: &[u8], signature: &[u8]) -> Option<&str> {
        self.under(signature).iter().find_map(|p| match &p.body {
            Some((r, body)) if *r == region && p.message == message => Some(body.as_str()),
            _ => None,
        })
    }

    /// Records that `parts` passed a check (a group check of concurrent calls, say).
    pub fn insert(&mut self, parts: SignedParts) {
        self.record(parts, None);
    }

    /// Records that `code`'s signature passed a check, with its body for the read.
    pub fn insert_code(&mut self, code: SignedCode) {
        self.record(code.parts, Some((code.region, code.body)));
    }

    fn record(&mut self, parts: SignedParts, body: Option<(RegionCode, String)>) {
        let entries = self.0.entry(parts.signature).or_default();
        match entries
            .iter_mut()
            .find(|p| p.public_key == parts.public_key && p.message == parts.message)
        {
            Some(known) => {
                if known.body.is_none() {
                    known.body = body;
                }
            }
            None => entries.push(Passed {
                public_key: parts.public_key,
                message: parts.message,
                body,
            }),
        }
    }

    fn under(&self, signature: &[u8]) -> &[Passed] {
        <&[u8; 64]>::try_from(signature)
            .ok()
            .and_then(|s| self.0.get(s))
            .map_or(&[], Vec::as_slice)
    }

    /// How many (key, signature, text) triples passed.
    pub fn len(&self) -> usize {
        self.0.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Below this many entries a failed batch is settled one by one: bisecting further costs more.
const ALONE_BELOW: usize = 4;

/// Verifies `parts` together; what passes is in the answer, what does not is left for a single check.
pub fn verify_all(parts: &[SignedParts]) -> Verified {
    let mut verified = Verified::default();
    for (p, passed) in parts.iter().zip(verify_each(parts)) {
        if passed {
            verified.insert(p.clone());
        }
    }
    verified
}

/// [`verify_all`] for codes a signed format decoded: what passes is kept with its body, for the
/// reads that follow.
pub fn verify_codes(codes: Vec<SignedCode>) -> Verified {
    let (parts, bodies): (Vec<SignedParts>, Vec<(RegionCode, String)>) = codes
        .into_iter()
        .map(|c| (c.parts, (c.region, c.body)))
        .unzip();
    let passed = verify_each(&parts);
    let mut verified = Verified::default();
    for ((parts, body), passed) in parts.into_iter().zip(bodies).zip(passed) {
        if passed {
            verified.record(parts, Some(body));
        }
    }
    verified
}

/// Verifies `parts` together and answers for each, in order: `true` when its signature passed
/// (as `verify_strict` would pass it), `false` when it must be checked alone (and will fail).
pub fn verify_each(parts: &[SignedParts]) -> Vec<bool> {
    let mut passed = vec![false; parts.len()];
    let entries: Vec<Entry> = parts
        .iter()
        .enumerate()
        .filter_map(|(at, p)| Entry::strict(at, p))
        .collect();
    if entries.len() < BATCH_FROM {
        for e in &entries {
            passed[e.at] = e.verify_alone(parts);
        }
    } else if batch_holds(&entries) {
        for e in &entries {
            passed[e.at] = true;
        }
    } else {
        let (left, right) = entries.split_at(entries.len() / 2);
        settle(left, parts, &mut passed);
        settle(right, parts, &mut passed);
    }
    passed
}

/// The fewest signatures worth a batch equation on the first try: measured, two already cost
/// less together than apart (BENCHMARKS.md, "group verification").
const BATCH_FROM: usize = 2;

/// One batchable signature, its encodings already checked as `verify_strict` would.
struct Entry {
    /// Its position in the caller's slice.
    at: usize,
    key: VerifyingKey,
    r: EdwardsPoint,
    s: Scalar,
    /// H(R || A || M), the challenge.
    k: Scalar,
}

impl Entry {
    /// `None` when `verify_strict` would refuse the encodings whatever the equation says.
    fn strict(at: usize, parts: &SignedParts) -> Option<Self> {
        let key = verify::ed25519_strong_key(&parts.public_key)?;
        let (r_bytes, s_bytes) = parts.signature.split_at(32);
        let r_bytes: [u8; 32] = r_bytes.try_into().ok()?;
        let s_bytes: [u8; 32] = s_bytes.try_into().ok()?;
        // s < L, as verify_strict demands.
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
        let r = strict_r(&r_bytes)?;
        let mut h = Sha512::new();
        h.update(r_bytes);
        h.update(parts.public_key);
        h.update(&parts.message);
        let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        Some(Self { at, key, r, s, k })
    }

    /// The check `verify_strict` makes, from what [`Entry::strict`] already decoded and hashed
    /// (its refusals of a weak key, a non-canonical `s` and a bad `R` are made there):
    /// R = [s]B − [k]A, compared by encoding as `verify_strict` compares it. Calling
    /// `verify_strict` here instead hashed the message and decompressed `R` a second time, and a
    /// lone call's group check (a group of one) is the commonest check there is.
    fn verify_alone(&self, parts: &[SignedParts]) -> bool {
        let minus_a = -self.key.to_edwards();
        let r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&self.k, &minus_a, &self.s);
        r.compress().as_bytes()[..] == parts[self.at].signature[..32]
    }
}

/// `R` decompressed, when `verify_strict` would accept its encoding: canonical and not of small
/// order. `verify_strict` compares the recomputed `R`'s canonical encoding with these bytes, so a
/// `y` of p or more never passes; the only other non-canonical form, a negative zero `x`, belongs
/// to the two points with `y = ±1`, which are of small order.
fn strict_r(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    if !canonical_y(bytes) || small_order_y(bytes) {
        return None;
    }
    CompressedEdwardsY(*bytes).decompress()
}

/// Is the encoded `y` (the sign bit aside) that of a point of small order? The eight such points
/// have five distinct `y` (1, −1, 0 and the two of the order-8 points, each shared by `x` and
/// `−x`), and a point's `y` fixes its `x` up to sign, so a point that decodes is of small order
/// exactly when its `y` is one of these: the answer multiplying it by the cofactor gives (about
/// 0.8 µs), from a comparison of bytes.
fn small_order_y(bytes: &[u8; 32]) -> bool {
    static YS: OnceLock<[[u8; 32]; 8]> = OnceLock::new();
    let ys = YS.get_or_init(|| EIGHT_TORSION.map(|t| without_sign(&t.compress().to_bytes())));
    ys.contains(&without_sign(bytes))
}

fn without_sign(bytes: &[u8; 32]) -> [u8; 32] {
    let mut y = *bytes;
    y[31] &= 0x7f;
    y
}

/// Is the encoded `y` (the low 255 bits, little-endian) below p = 2^255 − 19?
fn canonical_y(bytes: &[u8; 32]) -> bool {
    let at_least_p =
        bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|b| *b == 0xff) && bytes[0] >= 0xed;
    !at_least_p
}

/// Does the batch equation hold for all of `entries`? With independent random 128-bit `z`,
/// (−Σ z·s)·B + Σ z·R + Σ (z·k)·A = 0 holds for a set with a bad signature only by chance.
///
/// The A terms are summed per distinct key first, (Σ z·k)·A once for each key: the codes checked
/// together are mostly one issuer's, so a group of n costs n + 2 points instead of 2n + 1. It is
/// the same group element, computed with fewer multiplications, so the answer is the same.
fn batch_holds(entries: &[Entry]) -> bool {
    let mut rng = rand::thread_rng();
    let zs: Vec<Scalar> = entries
        .iter()
        .map(|_| {
            let mut z = [0u8; 32];
            rng.fill_bytes(&mut z[..16]);
            Scalar::from_bytes_mod_order(z)
        })
        .collect();
    let b: Scalar = entries.iter().zip(&zs).map(|(e, z)| z * e.s).sum();
    let keys = per_key(entries, &zs);
    let scalars = std::iter::once(-b)
        .chain(zs.iter().copied())
        .chain(keys.iter().map(|(_, zk)| *zk));
    let points = std::iter::once(ED25519_BASEPOINT_POINT)
        .chain(entries.iter().map(|e| e.r))
        .chain(keys.iter().map(|(key, _)| key.to_edwards()));
    EdwardsPoint::vartime_multiscalar_mul(scalars, points).is_identity()
}

/// Each distinct key of `entries` (equal encodings, so equal points) with Σ z·k over its
/// entries. The keys are the registry's issuers' (every entry's key was looked up there), so
/// there are few, and a list searched in turn is quicker than a map.
fn per_key<'e>(entries: &'e [Entry], zs: &[Scalar]) -> Vec<(&'e VerifyingKey, Scalar)> {
    let mut keys: Vec<(&VerifyingKey, Scalar)> = Vec::new();
    for (e, z) in entries.iter().zip(zs) {
        let zk = z * e.k;
        match keys
            .iter_mut()
            .find(|(key, _)| key.as_bytes() == e.key.as_bytes())
        {
            Some((_, sum)) => *sum += zk,
            None => keys.push((&e.key, zk)),
        }
    }
    keys
}

/// Batch-verifies `entries`; on failure halves them until each bad one is found alone.
fn settle(entries: &[Entry], parts: &[SignedParts], passed: &mut [bool]) {
    if entries.len() < ALONE_BELOW {
        for e in entries {
            passed[e.at] = e.verify_alone(parts);
        }
        return;
    }
    if batch_holds(entries) {
        for e in entries {
            passed[e.at] = true;
        }
        return;
    }
    let (left, right) = entries.split_at(entries.len() / 2);
    settle(left, parts, passed);
    settle(right, parts, passed);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::IssuerSigner;
    use crate::trust::KeyAlgorithm;
    use curve25519_dalek::traits::Identity;
    use ed25519_dalek::Signature;

    /// `n` distinct messages signed by `signer`.
    pub(crate) fn signed(signer: &IssuerSigner, n: usize) -> Vec<SignedParts> {
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

    fn strict(p: &SignedParts) -> bool {
        ed25519_dalek::VerifyingKey::from_bytes(&p.public_key).is_ok_and(|k| {
            k.verify_strict(
                &p.message,
                &ed25519_dalek::Signature::from_bytes(&p.signature),
            )
            .is_ok()
        })
    }

    fn holds(v: &Verified, p: &SignedParts) -> bool {
        v.holds(&p.public_key, &p.message, &p.signature)
    }

    /// Per-signature cost of small batches beside single checks (release build, by hand):
    /// `cargo test --release -p huren-adapters --lib batch::tests::small_batch_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement, not a check"]
    fn small_batch_cost() {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::Ed25519).unwrap();
        let parts = signed(&signer, 64);
        let rounds = 4000usize;
        let clock = std::time::Instant::now();
        for i in 0..rounds {
            let p = &parts[i % 64];
            assert!(verify::verify_ed25519(
                &p.public_key,
                &p.message,
                &p.signature
            ));
        }
        let alone = clock.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        println!("alone: {alone:.1} µs a signature");
        for n in [1usize, 2, 3, 4, 6, 8, 16, 64] {
            let clock = std::time::Instant::now();
            let mut done = 0;
            while done < rounds {
                assert!(verify_each(&parts[..n]).iter().all(|p| *p));
                done += n;
            }
            let each = clock.elapsed().as_secs_f64() * 1e6 / done as f64;
            println!(
                "batch of {n}: {each:.1} µs a signature ({:.2} of alone)",
                each / alone
            );
            // ed25519-dalek's own batch function on the same signatures, without the pre-checks.
            let messages: Vec<&[u8]> = parts[..n].iter().map(|p| p.message.as_slice()).collect();
            let signatures: Vec<Signature> = parts[..n]
                .iter()
                .map(|p| Signature::from_bytes(&p.signature))
                .collect();
            let keys: Vec<VerifyingKey> = parts[..n]
                .iter()
                .map(|p| VerifyingKey::from_bytes(&p.public_key).unwrap())
                .collect();
            let clock = std::time::Instant::now();
            let mut done = 0;
            while done < rounds {
                assert!(ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok());
                done += n;
            }
            let dalek = clock.elapsed().as_secs_f64() * 1e6 / done as f64;
            println!(
                "  verify_batch of {n}: {dalek:.1} µs ({:.2} of alone)",
                dalek / alone
            );
        }
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

    /// A good signature copied onto another text (or held up with another key) is not taken for
    /// the one that passed, though both are found under the same signature; and a text's body is
    /// given only for that exact text, signature and decoding region.
    #[test]
    fn a_passed_signature_vouches_for_its_own_text_and_key_only() {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::Ed25519).unwrap();
        let good = signed(&signer, 1).remove(0);
        let mut verified = Verified::default();
        verified.insert_code(SignedCode {
            region: RegionCode::GUANGDONG,
            parts: good.clone(),
            body: "body".to_string(),
        });
        assert!(holds(&verified, &good));
        let mut copied = good.clone();
        copied.message.push(b'!');
        assert!(!holds(&verified, &copied), "same signature, changed text");
        let mut shorter = good.clone();
        shorter.message.pop();
        assert!(
            !holds(&verified, &shorter),
            "same signature, a prefix of the text"
        );
        let mut other_key = good.clone();
        other_key.public_key[0] ^= 1;
        assert!(!holds(&verified, &other_key));
        let mut other_signature = good.clone();
        other_signature.signature[63] ^= 1;
        assert!(!holds(&verified, &other_signature));
        let body = |region, p: &SignedParts| verified.body(region, &p.message, &p.signature);
        assert_eq!(body(RegionCode::GUANGDONG, &good), Some("body"));
        assert_eq!(body(RegionCode::GUANGDONG, &copied), None);
        assert_eq!(body(RegionCode::GUANGDONG, &other_signature), None);
        assert_eq!(
            body(RegionCode::HUBEI, &good),
            None,
            "decoded by another format"
        );
        assert_eq!(verified.len(), 1);

        // The copy passing too (under its own key, as a key holder could arrange) adds a second
        // entry under the signature; each still vouches for itself only.
        verified.insert(other_key.clone());
        verified.insert(good.clone());
        assert_eq!(verified.len(), 2, "a triple recorded twice counts once");
        assert!(holds(&verified, &good) && holds(&verified, &other_key));
        assert!(!holds(&verified, &copied));
        assert!(!verified.holds(&good.public_key, &good.message, &good.signature[..63]));
    }

    /// The batch engine's path: a forgery carrying a genuine code's signature, checked in the same
    /// batch as the genuine code, is left out.
    #[test]
    fn a_copied_signature_in_the_same_batch_is_left_out() {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::Ed25519).unwrap();
        let good = signed(&signer, 3);
        let mut forged = good[1].clone();
        forged.message = b"code 1, but green".to_vec();
        let code = |parts: &SignedParts| SignedCode {
            region: RegionCode::GUANGDONG,
            parts: parts.clone(),
            body: String::from_utf8(parts.message.clone()).unwrap(),
        };
        let mut codes: Vec<SignedCode> = good.iter().map(code).collect();
        codes.insert(2, code(&forged));
        let verified = verify_codes(codes);
        assert_eq!(verified.len(), 3);
        for p in &good {
            assert!(holds(&verified, p));
            assert_eq!(
                verified.body(RegionCode::GUANGDONG, &p.message, &p.signature),
                std::str::from_utf8(&p.message).ok()
            );
        }
        assert!(!holds(&verified, &forged));
        assert_eq!(
            verified.body(RegionCode::GUANGDONG, &forged.message, &forged.signature),
            None
        );
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
        // What passed is there for the reads to use (an empty answer would send every code
        // of the call to be checked alone again).
        assert!(!verified.is_empty());
        assert_eq!(verified.len(), parts.len() - 2);
    }

    /// The small batches concurrent calls form: a forgery at every position of 2 and 3 fails
    /// alone, and an entry the pre-checks refuse leaves the others answered in their places.
    #[test]
    fn small_batches_answer_each_in_its_place() {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::Ed25519).unwrap();
        for n in [2usize, 3] {
            let good = signed(&signer, n);
            assert_eq!(verify_each(&good), vec![true; n]);
            for bad in 0..n {
                let mut parts = good.clone();
                parts[bad].message.push(b'!');
                let want: Vec<bool> = (0..n).map(|i| i != bad).collect();
                assert_eq!(verify_each(&parts), want, "n {n}, forged {bad}");
                let mut parts = good.clone();
                parts[bad].signature[..32]
                    .copy_from_slice(&CompressedEdwardsY::identity().to_bytes());
                assert_eq!(verify_each(&parts), want, "n {n}, small-order R at {bad}");
            }
        }
        assert!(verify_each(&[]).is_empty());
    }

    /// A lone call's check (a group of one, and the single checks a failed batch ends in) passes
    /// exactly what `verify_strict` passes: the genuine code, and none of its forgeries.
    #[test]
    fn a_lone_signature_is_judged_as_verify_strict_judges_it() {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::Ed25519).unwrap();
        let other = IssuerSigner::generate("u", KeyAlgorithm::Ed25519).unwrap();
        let good = signed(&signer, 1).remove(0);
        let mut cases = vec![good.clone()];
        let mut longer = good.clone();
        longer.message.push(b'!');
        cases.push(longer);
        for at in [0usize, 17, 31, 32, 45, 63] {
            let mut flipped = good.clone();
            flipped.signature[at] ^= 0x01;
            cases.push(flipped);
        }
        let mut by_other = good.clone();
        by_other.signature = other.sign(&good.message).unwrap().try_into().unwrap();
        cases.push(by_other);
        let mut other_key = good.clone();
        other_key.public_key = other.public_key().public_key.try_into().unwrap();
        cases.push(other_key);
        for (i, p) in cases.iter().enumerate() {
            assert_eq!(
                verify_each(std::slice::from_ref(p)),
                vec![strict(p)],
                "case {i}"
            );
        }
        assert_eq!(
            verify_each(&cases[..1]),
            vec![true],
            "the genuine code passes"
        );
        assert_eq!(
            cases.iter().filter(|p| strict(p)).count(),
            1,
            "every forgery is one verify_strict refuses"
        );
    }

    /// The equation itself, without the bisection that would hide a wrong one behind single checks.
    /// Entries for `parts`, every one of which has good encodings.
    fn entries(parts: &[SignedParts]) -> Vec<Entry> {
        parts
            .iter()
            .enumerate()
            .map(|(at, p)| Entry::strict(at, p).expect("a good encoding is batched"))
            .collect()
    }

    #[test]
    fn the_batch_equation_holds_for_good_signatures_only() {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::Ed25519).unwrap();
        let mut parts = signed(&signer, 5);
        for n in 1..=5 {
            assert!(batch_holds(&entries(&parts[..n])), "{n} good signatures");
        }
        parts[3].message.push(b'!');
        assert!(!batch_holds(&entries(&parts)));
        assert!(!batch_holds(&entries(&parts[3..4])));
    }

    /// Codes of several issuers checked together (their key terms summed per key): good ones
    /// hold, and a forgery, or a signature presented under another of the batch's keys, does not.
    #[test]
    fn the_batch_equation_over_several_keys_holds_for_good_signatures_only() {
        let signers: Vec<IssuerSigner> = ["t", "u", "v"]
            .into_iter()
            .map(|id| IssuerSigner::generate(id, KeyAlgorithm::Ed25519).unwrap())
            .collect();
        // t, u, t, v, t, u: interleaved, as concurrent calls arrive.
        let parts: Vec<SignedParts> = [0usize, 1, 0, 2, 0, 1]
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let signer = &signers[s];
                let message = format!("code {i} of {}", signer.issuer_id()).into_bytes();
                SignedParts {
                    public_key: signer.public_key().public_key.try_into().unwrap(),
                    signature: signer.sign(&message).unwrap().try_into().unwrap(),
                    message,
                }
            })
            .collect();
        let all = entries(&parts);
        assert_eq!(per_key(&all, &[Scalar::ONE; 6]).len(), 3);
        assert!(batch_holds(&all));
        assert_eq!(verify_each(&parts), vec![true; 6]);
        for bad in 0..parts.len() {
            let mut forged = parts.clone();
            forged[bad].message.push(b'!');
            assert!(!batch_holds(&entries(&forged)), "forged at {bad}");
            let mut moved = parts.clone();
            moved[bad].public_key = parts[(bad + 1) % parts.len()].public_key;
            if moved[bad].public_key != parts[bad].public_key {
                assert!(!batch_holds(&entries(&moved)), "another key at {bad}");
                let want: Vec<bool> = (0..parts.len()).map(|i| i != bad).collect();
                assert_eq!(verify_each(&moved), want, "another key at {bad}");
            }
        }
    }

    #[test]
    fn y_at_or_above_p_is_not_canonical() {
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(!canonical_y(&p));
        let mut below = p;
        below[0] = 0xec;
        assert!(canonical_y(&below));
        let mut top = p;
        top[31] = 0x7e;
        assert!(canonical_y(&top));
        let mut middle = p;
        middle[15] = 0xfe;
        assert!(canonical_y(&middle));
        // The sign bit is not part of y.
        let mut signed = p;
        signed[31] = 0xff;
        assert!(!canonical_y(&signed));
        assert!(!canonical_y(&[0xff; 32]));
        assert!(canonical_y(&[0; 32]));
    }

    /// A point of large order written with y + p: decompression accepts it, `verify_strict` would
    /// not, so neither does the batch's pre-check; its canonical form is accepted.
    #[test]
    fn a_non_canonical_r_is_refused_before_batching() {
        let found = (2u8..19).find_map(|y| {
            let mut bytes = [0xffu8; 32];
            bytes[0] = 0xed + y;
            bytes[31] = 0x7f;
            let point = CompressedEdwardsY(bytes).decompress()?;
            (!point.is_small_order()).then_some((bytes, point.compress().to_bytes()))
        });
        let (non_canonical, canonical) = found.expect("some y below 19 is on the curve");
        assert!(strict_r(&non_canonical).is_none());
        assert!(strict_r(&canonical).is_some());
        assert!(strict_r(&CompressedEdwardsY::identity().to_bytes()).is_none());
    }

    /// `R`'s small-order refusal by its `y` answers as the cofactor multiplication does, for the
    /// eight small-order points under either sign bit, for points with and without a torsion
    /// component, and for random encodings (about half of which decode).
    #[test]
    fn r_of_small_order_is_refused_as_the_cofactor_test_refuses_it() {
        let reference = |bytes: &[u8; 32]| {
            canonical_y(bytes)
                && CompressedEdwardsY(*bytes)
                    .decompress()
                    .is_some_and(|p| !p.is_small_order())
        };
        let mut cases: Vec<[u8; 32]> = Vec::new();
        for t in EIGHT_TORSION {
            let bytes = t.compress().to_bytes();
            cases.push(bytes);
            let mut flipped = bytes;
            flipped[31] ^= 0x80;
            cases.push(flipped);
        }
        for i in 1..=16u64 {
            let p = ED25519_BASEPOINT_POINT * Scalar::from(i * 7919);
            cases.push(p.compress().to_bytes());
            for t in EIGHT_TORSION {
                cases.push((p + t).compress().to_bytes());
            }
        }
        for _ in 0..4096 {
            let mut bytes = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut bytes);
            cases.push(bytes);
        }
        let mut refused = 0;
        for bytes in &cases {
            assert_eq!(strict_r(bytes).is_some(), reference(bytes), "{bytes:?}");
            refused += usize::from(strict_r(bytes).is_none());
        }
        assert!(refused >= 16, "every small-order point is refused");
        assert!(
            refused < cases.len() / 2 + 400,
            "most points are not refused"
        );
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
