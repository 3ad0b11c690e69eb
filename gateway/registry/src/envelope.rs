//! DSSE envelopes: exact payload bytes plus their type, signed through the pre-authentication encoding.
//!
//! As JSON an envelope is the standard DSSE one, so any DSSE implementation can check it:
//! `{"payloadType": "...", "payload": "<base64>", "signatures": [{"keyid": "<hex>", "sig":
//! "<base64>"}]}`. Files written before that used `payload_type`, `key_id` and `signature`; they
//! are still read (the signed bytes are the same: only the JSON field names changed).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::keys::{KeyError, KeyId, PublicKey, SigningKey};

/// One signature over [`pae`]`(payload_type, payload)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    #[serde(rename = "keyid", alias = "key_id")]
    pub key_id: KeyId,
    #[serde(rename = "sig", alias = "signature", with = "crate::canonical::b64")]
    pub signature: Vec<u8>,
}

/// A signed document: the signatures cover the type and the payload bytes, never a re-encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType", alias = "payload_type")]
    pub payload_type: String,
    #[serde(with = "crate::canonical::b64")]
    pub payload: Vec<u8>,
    pub signatures: Vec<Signature>,
}

/// DSSE v1 pre-authentication encoding: `"DSSEv1" SP len(type) SP type SP len(body) SP body`,
/// lengths in ASCII decimal. Binding the type stops a checkpoint signature passing as a document's.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// A set of keys and how many of them must sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySet {
    pub keys: BTreeMap<KeyId, PublicKey>,
    pub threshold: u32,
}

impl KeySet {
    pub fn new(keys: impl IntoIterator<Item = PublicKey>, threshold: u32) -> Self {
        Self {
            keys: keys.into_iter().map(|k| (k.key_id(), k)).collect(),
            threshold,
        }
    }

    /// A key set is usable when every id is the hash of its key and the threshold is reachable.
    pub fn check(&self) -> Result<(), String> {
        for (id, key) in &self.keys {
            if key.key_id() != *id {
                return Err(format!("key id {id} is not the SHA-256 of its key"));
            }
        }
        if self.threshold == 0 {
            return Err("threshold 0 would accept unsigned documents".into());
        }
        if self.threshold as usize > self.keys.len() {
            return Err(format!(
                "threshold {} exceeds the {} keys listed",
                self.threshold,
                self.keys.len()
            ));
        }
        Ok(())
    }
}

/// Who signed an envelope, as far as one key set can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Distinct key ids of the set with a valid signature.
    pub valid: BTreeSet<KeyId>,
    /// Key ids that signed more than once (counted once).
    pub duplicated: BTreeSet<KeyId>,
    /// Key ids not in the set.
    pub unknown: BTreeSet<KeyId>,
    /// Key ids of the set whose signature did not verify.
    pub invalid: BTreeSet<KeyId>,
}

impl Envelope {
    pub fn new(payload_type: &str, payload: Vec<u8>) -> Self {
        Self {
            payload_type: payload_type.to_string(),
            payload,
            signatures: Vec::new(),
        }
    }

    /// The bytes signatures cover; also the transparency-log leaf of this document version.
    pub fn signed_bytes(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// Adds `key`'s signature, replacing an earlier one by the same key.
    pub fn sign(&mut self, key: &SigningKey) -> Result<(), KeyError> {
        let signature = key.sign(&self.signed_bytes())?;
        let key_id = key.key_id();
        self.signatures.retain(|s| s.key_id != key_id);
        self.signatures.push(Signature { key_id, signature });
        Ok(())
    }

    /// Counts each key id of `set` once, however many signatures carry it.
    pub fn tally(&self, set: &KeySet) -> Tally {
        let message = self.signed_bytes();
        let mut tally = Tally::default();
        let mut seen = BTreeSet::new();
        for sig in &self.signatures {
            if !seen.insert(&sig.key_id) {
                tally.duplicated.insert(sig.key_id.clone());
                continue;
            }
            match set.keys.get(&sig.key_id) {
                None => {
                    tally.unknown.insert(sig.key_id.clone());
                }
                Some(key) if key.verify(&message, &sig.signature) => {
                    tally.valid.insert(sig.key_id.clone());
                }
                Some(_) => {
                    tally.invalid.insert(sig.key_id.clone());
                }
            }
        }
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Algorithm;

    #[test]
    fn pae_matches_the_dsse_specification_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn a_key_signing_twice_counts_once() {
        let a = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let b = SigningKey::generate(Algorithm::EcdsaP256).unwrap();
        let set = KeySet::new([a.public_key(), b.public_key()], 2);
        let mut env = Envelope::new("t", b"x".to_vec());
        env.sign(&a).unwrap();
        let dup = env.signatures[0].clone();
        env.signatures.push(dup);
        let t = env.tally(&set);
        assert_eq!(t.valid.len(), 1);
        assert!(t.duplicated.contains(&a.key_id()));
        env.sign(&b).unwrap();
        assert_eq!(env.tally(&set).valid.len(), 2);
    }

    #[test]
    fn the_json_is_the_dsse_standard_one_and_the_old_field_names_still_read() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let mut env = Envelope::new("t", b"x".to_vec());
        env.sign(&key).unwrap();
        let json: serde_json::Value = serde_json::to_value(&env).unwrap();
        assert_eq!(json["payloadType"], "t");
        assert_eq!(json["payload"], "eA==");
        assert_eq!(json["signatures"][0]["keyid"], key.key_id().0.as_str());
        assert!(json["signatures"][0]["sig"].is_string());
        let old = serde_json::json!({
            "payload_type": "t",
            "payload": "eA==",
            "signatures": [{"key_id": key.key_id().0, "signature": json["signatures"][0]["sig"]}],
        });
        let back: Envelope = serde_json::from_value(old).unwrap();
        assert_eq!(back, env);
        let set = KeySet::new([key.public_key()], 1);
        assert_eq!(back.tally(&set).valid.len(), 1);
    }
}
