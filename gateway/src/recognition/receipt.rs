//! Recognition receipts (转码互认): what a node signs when a destination's verdict for a worker is
//! PASS, how anyone checks one offline against the registry, and the receipt file format.
//!
//! A receipt is a DSSE envelope (the registry's [`Envelope`]) of type [`PAYLOAD_TYPE`] whose
//! payload is the canonical JSON of a [`ReceiptBody`] (fields in declaration order, times RFC 3339
//! UTC to the second), signed by the node's receipt key. The registry's root lists every node's
//! receipt key, so a destination needs only the registry to check one.
//!
//! **File format**: the envelope as standard DSSE JSON, exactly as the registry stores envelopes:
//! `{"payloadType": "...", "payload": "<base64>", "signatures": [{"keyid": "<hex>",
//! "sig": "<base64>"}]}`, so any DSSE implementation checks it given the node's receipt key.
//! [`write_file`] and [`read_file`] write and read it (files with the older field names
//! `payload_type`, `key_id`, `signature` are still read).

use std::path::Path;

use huren_adapters::Colour;
use huren_registry::canonical::{self, CanonicalError};
use huren_registry::keys::KeyError;
use huren_registry::{Envelope, Registry, SigningKey, Verdict};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The DSSE payload type of a recognition receipt.
pub const PAYLOAD_TYPE: &str = "application/vnd.huren.recognition-receipt.v1+json";

/// What a receipt says. The destination turns it into its own code for `subject_ref`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptBody {
    /// Keyed reference to the worker for the destination region (never an ID number).
    pub subject_ref: String,
    /// The worker's issuing region.
    pub origin_region: String,
    /// The region whose rules gave the verdict.
    pub destination_region: String,
    pub origin_colour: Colour,
    pub destination_verdict: Verdict,
    /// The destination may rely on the receipt until then.
    #[serde(with = "canonical::when")]
    pub valid_until: OffsetDateTime,
    /// Agreement id, e.g. `national` or `330000-410000`.
    pub agreement: String,
    pub registry_version: u64,
    /// The node that signed; its receipt key is in the registry's root.
    pub node_id: String,
    #[serde(with = "canonical::when")]
    pub issued_at: OffsetDateTime,
}

/// The node's receipt key and id.
pub struct ReceiptSigner {
    node_id: String,
    key: SigningKey,
}

impl std::fmt::Debug for ReceiptSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReceiptSigner({}, {:?})", self.node_id, self.key)
    }
}

impl ReceiptSigner {
    pub fn new(node_id: impl Into<String>, key: SigningKey) -> Self {
        Self {
            node_id: node_id.into(),
            key,
        }
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The node key itself, for the other statements the node signs (forwarded status reads).
    pub(crate) fn key(&self) -> &SigningKey {
        &self.key
    }

    pub fn public_key(&self) -> huren_registry::PublicKey {
        self.key.public_key()
    }

    /// Signs `body` (its `node_id` is set to this node's, times cut to whole seconds).
    pub fn sign(&self, mut body: ReceiptBody) -> Result<Envelope, KeyError> {
        body.node_id = self.node_id.clone();
        body.valid_until = canonical::whole_seconds(body.valid_until);
        body.issued_at = canonical::whole_seconds(body.issued_at);
        let mut env = Envelope::new(PAYLOAD_TYPE, canonical::encode(&body));
        env.sign(&self.key)?;
        Ok(env)
    }
}

/// Why a receipt is not to be relied on.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("not a recognition receipt: payload type {0:?}")]
    PayloadType(String),
    #[error("the receipt carries no signature")]
    Unsigned,
    #[error("no node in the registry has receipt key {0}")]
    UnknownKey(String),
    #[error("the signature by node {node}'s receipt key does not verify: the receipt was altered")]
    BadSignature { node: String },
    #[error("signed by node {signer}'s key but says it is from node {claimed}")]
    WrongNode { signer: String, claimed: String },
    #[error("the receipt body is not valid: {0}")]
    Body(#[from] CanonicalError),
    #[error("the receipt expired at {}", huren_adapters::when::rfc3339(.0))]
    Expired(OffsetDateTime),
    #[error("cannot read receipt {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write receipt {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a receipt file (JSON of a signed envelope): {source}")]
    Format {
        path: String,
        source: serde_json::Error,
    },
}

/// A receipt that passed [`verify`]: what it says and who signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub body: ReceiptBody,
    pub node_id: String,
    pub key_id: String,
}

/// Checks a receipt offline: a valid signature by a receipt key the registry lists, a body in
/// canonical form naming that key's node, and not expired at `now`.
pub fn verify(
    env: &Envelope,
    registry: &Registry,
    now: OffsetDateTime,
) -> Result<Checked, ReceiptError> {
    if env.payload_type != PAYLOAD_TYPE {
        return Err(ReceiptError::PayloadType(env.payload_type.clone()));
    }
    let first = env.signatures.first().ok_or(ReceiptError::Unsigned)?;
    let mut unknown = first.key_id.to_string();
    let mut signer = None;
    for sig in &env.signatures {
        match registry.receipt_signer(&sig.key_id) {
            Some((node, key)) => {
                if !key.verify(&env.signed_bytes(), &sig.signature) {
                    return Err(ReceiptError::BadSignature {
                        node: node.to_string(),
                    });
                }
                signer = Some((node.to_string(), sig.key_id.to_string()));
                break;
            }
            None => unknown = sig.key_id.to_string(),
        }
    }
    let (node_id, key_id) = signer.ok_or(ReceiptError::UnknownKey(unknown))?;
    let body: ReceiptBody = canonical::decode(&env.payload)?;
    if body.node_id != node_id {
        return Err(ReceiptError::WrongNode {
            signer: node_id,
            claimed: body.node_id,
        });
    }
    if body.valid_until <= now {
        return Err(ReceiptError::Expired(body.valid_until));
    }
    Ok(Checked {
        body,
        node_id,
        key_id,
    })
}

/// Writes a receipt file (JSON of the envelope, pretty-printed for people).
pub fn write_file(path: &Path, env: &Envelope) -> Result<(), ReceiptError> {
    let text = serde_json::to_vec_pretty(env).map_err(|source| ReceiptError::Format {
        path: path.display().to_string(),
        source,
    })?;
    std::fs::write(path, text).map_err(|source| ReceiptError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// Reads a receipt file written by [`write_file`].
pub fn read_file(path: &Path) -> Result<Envelope, ReceiptError> {
    let bytes = std::fs::read(path).map_err(|source| ReceiptError::Read {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ReceiptError::Format {
        path: path.display().to_string(),
        source,
    })
}
