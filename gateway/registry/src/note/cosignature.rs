//! tlog-cosignature `cosignature/v1`: a witness's timestamped Ed25519 signature over
//! `"cosignature/v1\ntime <t>\n"` followed by the checkpoint's note text; the signature bytes are
//! the 8-byte big-endian timestamp then the 64-byte Ed25519 signature.

use super::key::{SignatureType, ed25519_bytes, key_id};
use super::text::{NoteSignature, SignedNote};
use super::{NoteError, check_key_name};
use crate::keys::SigningKey;

/// A cosignature as a witness hands it over: the signature line for the checkpoint note.
pub type Cosignature = NoteSignature;

/// The bytes a `cosignature/v1` signs at POSIX time `time` over checkpoint `text`.
pub fn message(time: u64, text: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {time}\n{text}").into_bytes()
}

/// Splits a cosignature's bytes into its timestamp and Ed25519 signature.
pub(crate) fn split(bytes: &[u8]) -> Option<(u64, &[u8])> {
    if bytes.len() != 8 + 64 {
        return None;
    }
    let (time, sig) = bytes.split_at(8);
    let time = u64::from_be_bytes(time.try_into().ok()?);
    // The specification caps the timestamp at 2^63 - 1.
    (time <= i64::MAX as u64).then_some((time, sig))
}

/// Cosigns `note` (a checkpoint) as witness `name` at POSIX time `time`.
pub fn cosign(
    note: &SignedNote,
    name: &str,
    key: &SigningKey,
    time: u64,
) -> Result<Cosignature, NoteError> {
    check_key_name(name)?;
    if time > i64::MAX as u64 {
        return Err(NoteError::Sign("timestamp beyond 2^63 - 1".into()));
    }
    let public = ed25519_bytes(&key.public_key())?;
    let raw = key
        .sign(&message(time, &note.text))
        .map_err(|e| NoteError::Sign(e.to_string()))?;
    let mut signature = time.to_be_bytes().to_vec();
    signature.extend_from_slice(&raw);
    Ok(NoteSignature {
        name: name.to_string(),
        key_id: key_id(name, SignatureType::CosignatureV1, &public),
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Algorithm;
    use crate::note::NoteVerifier;

    #[test]
    fn the_signed_message_is_the_specification_s() {
        let text =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_eq!(
            message(1679315147, text),
            b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n".to_vec()
        );
    }

    #[test]
    fn the_specification_cosignature_line_carries_its_timestamp() {
        // The spec's example cosignature by witness.example.com/w1 (its key is not published,
        // so only the layout is checked: key id, timestamp, 64-byte signature).
        let note = SignedNote::parse(concat!(
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
            "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
        ))
        .unwrap();
        let (time, sig) = split(&note.signatures[0].signature).unwrap();
        assert_eq!(time, 1679315147);
        assert_eq!(sig.len(), 64);
    }

    #[test]
    fn a_cosignature_verifies_with_its_timestamp_and_not_as_a_plain_signature() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let mut note = SignedNote::new("o\n1\nAAAA\n").unwrap();
        note.add(cosign(&note, "w1", &key, 1_700_000_000).unwrap());
        let cosigner =
            NoteVerifier::new("w1", SignatureType::CosignatureV1, &key.public_key()).unwrap();
        let ok = SignedNote::parse(&note.to_text())
            .unwrap()
            .verify(std::slice::from_ref(&cosigner))
            .unwrap();
        assert_eq!(ok[0].timestamp, Some(1_700_000_000));
        // The same key as a plain note signer has another key id: the cosignature is not its.
        let plain = NoteVerifier::new("w1", SignatureType::Ed25519, &key.public_key()).unwrap();
        assert_eq!(note.verify(&[plain]), Err(NoteError::NoKnownSignature));
    }

    #[test]
    fn a_changed_timestamp_breaks_the_cosignature() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let mut note = SignedNote::new("o\n1\nAAAA\n").unwrap();
        let mut sig = cosign(&note, "w1", &key, 10).unwrap();
        sig.signature[7] = 11;
        note.add(sig);
        let v = NoteVerifier::new("w1", SignatureType::CosignatureV1, &key.public_key()).unwrap();
        assert!(matches!(
            note.verify(&[v]),
            Err(NoteError::BadSignature { .. })
        ));
        assert!(split(&[0xff; 72]).is_none());
        assert!(split(&[0; 71]).is_none());
    }
}
