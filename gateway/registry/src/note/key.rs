//! Named note keys: the key id (first four bytes of SHA-256 over name, newline, type byte and
//! public key), the `vkey` text form, signing a note with Ed25519, and checking a note's
//! signatures against the keys a verifier trusts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

use super::cosignature;
use super::text::{NoteSignature, SignedNote};
use super::{NoteError, check_key_name};
use crate::keys::{Algorithm, PublicKey, SigningKey};

/// The signature types huren signs and reads (C2SP signed-note assigned identifier bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureType {
    /// `0x01`: plain Ed25519 over the note text; the log's checkpoint signature.
    Ed25519,
    /// `0x04`: timestamped Ed25519 checkpoint cosignature (c2sp.org/tlog-cosignature).
    CosignatureV1,
}

impl SignatureType {
    pub fn byte(self) -> u8 {
        match self {
            SignatureType::Ed25519 => 0x01,
            SignatureType::CosignatureV1 => 0x04,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(SignatureType::Ed25519),
            0x04 => Some(SignatureType::CosignatureV1),
            _ => None,
        }
    }
}

/// A key a verifier trusts: its name, signature type and Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    pub name: String,
    pub kind: SignatureType,
    pub public: [u8; 32],
}

/// One signature that verified under a trusted key; `timestamp` is a cosignature's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub name: String,
    pub key_id: u32,
    pub timestamp: Option<u64>,
}

/// `SHA-256(name || 0x0A || type || public key)[:4]`, big-endian.
pub fn key_id(name: &str, kind: SignatureType, public: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', kind.byte()]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The raw 32 bytes of an Ed25519 registry key, or why it is not one.
pub(crate) fn ed25519_bytes(key: &PublicKey) -> Result<[u8; 32], NoteError> {
    if key.algorithm != Algorithm::Ed25519 {
        return Err(NoteError::NotEd25519);
    }
    key.public
        .as_slice()
        .try_into()
        .map_err(|_| NoteError::NotEd25519)
}

impl NoteVerifier {
    /// The verifier for a registry-listed Ed25519 key under `name`.
    pub fn new(name: &str, kind: SignatureType, key: &PublicKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        Ok(Self {
            name: name.to_string(),
            kind,
            public: ed25519_bytes(key)?,
        })
    }

    pub fn key_id(&self) -> u32 {
        key_id(&self.name, self.kind, &self.public)
    }

    /// `<name>+<hex key id>+<base64(type || public key)>`.
    pub fn vkey(&self) -> String {
        let mut material = vec![self.kind.byte()];
        material.extend_from_slice(&self.public);
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id(),
            B64.encode(material)
        )
    }

    /// Reads a `vkey`; the key id it states must be the one its name and key give.
    pub fn parse_vkey(vkey: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::BadVkey(format!("{vkey:?}: {why}"));
        // Only the first two plus signs separate: base64 key material may hold more.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(material)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("not three parts separated by plus signs"));
        };
        check_key_name(name)?;
        let stated = (id.len() == 8)
            .then(|| u32::from_str_radix(id, 16).ok())
            .flatten()
            .ok_or_else(|| bad("the key id is not eight hex digits"))?;
        let material = B64.decode(material).map_err(|_| bad("key is not base64"))?;
        let (&kind, public) = material.split_first().ok_or_else(|| bad("no key"))?;
        let kind = SignatureType::from_byte(kind).ok_or_else(|| bad("unknown signature type"))?;
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| bad("not a 32-byte Ed25519 key"))?;
        let v = Self {
            name: name.to_string(),
            kind,
            public,
        };
        if v.key_id() != stated {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(v)
    }

    /// True when `sig` claims to be by this key (same name and key id).
    pub fn names(&self, sig: &NoteSignature) -> bool {
        sig.name == self.name && sig.key_id == self.key_id()
    }

    /// Checks `sig` (which [`Self::names`] this key) over `text`; a cosignature's timestamp.
    pub(crate) fn check(&self, text: &str, sig: &NoteSignature) -> Result<Option<u64>, NoteError> {
        let bad = || NoteError::BadSignature {
            name: sig.name.clone(),
            key_id: sig.key_id,
        };
        let key = PublicKey {
            algorithm: Algorithm::Ed25519,
            public: self.public.to_vec(),
        };
        match self.kind {
            SignatureType::Ed25519 => key
                .verify(text.as_bytes(), &sig.signature)
                .then_some(None)
                .ok_or_else(bad),
            SignatureType::CosignatureV1 => {
                let (time, raw) = cosignature::split(&sig.signature).ok_or_else(bad)?;
                key.verify(&cosignature::message(time, text), raw)
                    .then_some(Some(time))
                    .ok_or_else(bad)
            }
        }
    }
}

/// Signs `note`'s text with Ed25519 (type `0x01`) under `name`.
pub fn sign(note: &SignedNote, name: &str, key: &SigningKey) -> Result<NoteSignature, NoteError> {
    check_key_name(name)?;
    let public = ed25519_bytes(&key.public_key())?;
    let signature = key
        .sign(note.text.as_bytes())
        .map_err(|e| NoteError::Sign(e.to_string()))?;
    Ok(NoteSignature {
        name: name.to_string(),
        key_id: key_id(name, SignatureType::Ed25519, &public),
        signature,
    })
}

impl SignedNote {
    /// The signed-note rule: signatures by unknown keys are ignored; one by a known key that does
    /// not verify refuses the whole note; at least one known key must have signed. Returns every
    /// signature that verified, each key once.
    pub fn verify(&self, trusted: &[NoteVerifier]) -> Result<Vec<Verified>, NoteError> {
        let mut verified: Vec<Verified> = Vec::new();
        for sig in &self.signatures {
            let Some(key) = trusted.iter().find(|k| k.names(sig)) else {
                continue;
            };
            let timestamp = key.check(&self.text, sig)?;
            if !verified
                .iter()
                .any(|v| v.name == sig.name && v.key_id == sig.key_id)
            {
                verified.push(Verified {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                    timestamp,
                });
            }
        }
        if verified.is_empty() {
            return Err(NoteError::NoKnownSignature);
        }
        Ok(verified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const EXAMPLE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    #[test]
    fn the_specification_vkey_verifies_the_specification_note() {
        let v = NoteVerifier::parse_vkey(VKEY).unwrap();
        assert_eq!(v.vkey(), VKEY);
        assert_eq!(v.key_id(), 0x530d903a);
        let note = SignedNote::parse(EXAMPLE).unwrap();
        let ok = note.verify(std::slice::from_ref(&v)).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].timestamp, None);
    }

    #[test]
    fn an_altered_text_is_refused_and_unknown_keys_are_ignored() {
        let v = NoteVerifier::parse_vkey(VKEY).unwrap();
        let altered = EXAMPLE.replacen("example", "exemple", 1);
        let note = SignedNote::parse(&altered).unwrap();
        assert!(matches!(
            note.verify(std::slice::from_ref(&v)),
            Err(NoteError::BadSignature { .. })
        ));
        let mut other = v.clone();
        other.name = "example.com/bar".into();
        assert_eq!(
            SignedNote::parse(EXAMPLE).unwrap().verify(&[other]),
            Err(NoteError::NoKnownSignature)
        );
    }

    #[test]
    fn a_huren_signature_round_trips_through_the_text_form() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let mut note = SignedNote::new("huren.test/registry\n3\nAAAA\n").unwrap();
        note.add(sign(&note, "huren.test/registry", &key).unwrap());
        let v = NoteVerifier::new(
            "huren.test/registry",
            SignatureType::Ed25519,
            &key.public_key(),
        )
        .unwrap();
        let back = SignedNote::parse(&note.to_text()).unwrap();
        assert_eq!(back, note);
        assert_eq!(back.verify(&[v]).unwrap().len(), 1);
    }

    #[test]
    fn a_vkey_whose_base64_holds_a_plus_sign_reads_back() {
        let v = (0u8..=255)
            .map(|b| NoteVerifier {
                name: "n".into(),
                kind: SignatureType::Ed25519,
                public: [b; 32],
            })
            .find(|v| v.vkey().matches('+').count() > 2)
            .unwrap();
        assert_eq!(NoteVerifier::parse_vkey(&v.vkey()).unwrap(), v);
    }

    #[test]
    fn bad_vkeys_are_refused() {
        for bad in [
            "example.com/foo+530d903a",
            "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k+x",
            "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        ] {
            assert!(NoteVerifier::parse_vkey(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_p256_key_cannot_sign_a_note() {
        let key = SigningKey::generate(Algorithm::EcdsaP256).unwrap();
        let note = SignedNote::new("t\n").unwrap();
        assert_eq!(sign(&note, "k", &key), Err(NoteError::NotEd25519));
    }
}
