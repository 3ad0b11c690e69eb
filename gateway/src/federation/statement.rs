//! The status statement a serving node signs for a forwarded read, and how the entry node checks
//! it against the key the registry lists for that node.
//!
//! A statement is a DSSE envelope (the registry's [`Envelope`]) of type [`PAYLOAD_TYPE`] whose
//! payload is the canonical JSON of a [`StatusStatement`], signed with the serving node's receipt
//! key. It carries what the entry node needs to judge — the region's own status word, a masked
//! name, a pseudonym and the times — and never an ID number or a full name: those stay in the
//! issuing province.

use huren_adapters::codec::{GroupVerifier, SignedParts};
use huren_proto::v1::ResolveStatusRequest;
use huren_registry::canonical::{self, CanonicalError};
use huren_registry::keys::{KeyError, KeyId};
use huren_registry::{Algorithm, Envelope, PublicKey, Registry, SigningKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The DSSE payload type of a status statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.huren.status-statement.v1+json";

/// What the serving node read, for one caller of one entry node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusStatement {
    /// The node that read and signed.
    pub node_id: String,
    /// The issuing region whose status service answered.
    pub region: String,
    /// The region's own status word, e.g. "绿码"; the entry node translates it.
    pub native_label: String,
    /// Surname and `*`, or `*` when the region named nobody.
    pub masked_name: String,
    /// A pseudonym of the person for this verifying region and calling province, keyed by the
    /// serving node: stable across reads, unlinkable across pairs, not an ID.
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_id: Option<String>,
    /// When the region last refreshed the status.
    #[serde(with = "canonical::when")]
    pub refreshed_at: OffsetDateTime,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "canonical::when::option"
    )]
    pub valid_until: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "canonical::when::option"
    )]
    pub checked_in_at: Option<OffsetDateTime>,
    /// Served from the serving node's cache rather than asked just now.
    pub cached: bool,
    /// The issuing region's service answered that this is a synthetic test person. Signed like
    /// every field, so only the serving node can say it; absent (older statements) means a
    /// resident, so statements signed before the field keep their bytes and verify.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub synthetic: bool,
    /// When the serving node read it.
    #[serde(with = "canonical::when")]
    pub read_at: OffsetDateTime,
    /// The entry node may rely on the statement until then (the region's cache TTL).
    #[serde(with = "canonical::when")]
    pub expires: OffsetDateTime,
    /// The original caller and the rules it asked under: a statement answers that ask only.
    pub caller: String,
    pub verifying_region: String,
    /// [`request_digest`] of the forwarded request this statement answers, its per-call
    /// `request_id` included: a statement read for one code, caller, region or call answers no
    /// other.
    pub request: String,
}

/// The SHA-256 (lower-case hex) of a forwarded request: every field, each length-prefixed in a
/// fixed order under a domain tag, so both nodes compute it alike whatever the wire encoding.
/// The ID number a Sichuan ask carries is among the fields; the per-call `request_id` salts the
/// digest, so the statement does not carry a guessable hash of it.
pub fn request_digest(req: &ResolveStatusRequest) -> String {
    let mut hash = Sha256::new();
    hash.update(b"huren resolve-status request v1\n");
    for field in [
        &req.issuing_region,
        &req.code_id,
        &req.city,
        &req.verifying_region,
        &req.caller_spiffe_id,
        &req.caller_method,
        &req.purpose,
        &req.resident_id_number,
        &req.resident_name,
        &req.request_id,
        &req.origin_region,
    ] {
        hash.update((field.len() as u64).to_be_bytes());
        hash.update(field.as_bytes());
    }
    hex::encode(hash.finalize())
}

/// Signs `statement` with the node's key (the canonical encoding keeps whole seconds).
pub fn sign(statement: &StatusStatement, key: &SigningKey) -> Result<Envelope, KeyError> {
    let mut env = Envelope::new(PAYLOAD_TYPE, canonical::encode(statement));
    env.sign(key)?;
    Ok(env)
}

/// Why an entry node does not rely on a statement.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error("not a status statement: payload type {0:?}")]
    PayloadType(String),
    #[error("the registry lists no node {0:?}")]
    UnknownNode(String),
    #[error("no signature by the key the registry lists for node {node} ({key_id})")]
    UnknownKey { node: String, key_id: String },
    #[error("node {node}'s signature does not verify: the statement was altered")]
    BadSignature { node: String },
    #[error("the statement is not valid: {0}")]
    Body(#[from] CanonicalError),
    #[error("the statement answers {found}, not the ask ({expected})")]
    Mismatch { expected: String, found: String },
    /// A genuine statement, but for another request (another code, caller, region or call).
    #[error("the statement answers request {found}, not the one sent ({expected})")]
    OtherRequest { expected: String, found: String },
    #[error("the statement expired at {0}")]
    Expired(OffsetDateTime),
}

/// What the entry node asked, for [`verify`] to hold the statement to.
#[derive(Debug, Clone)]
pub struct Asked<'a> {
    pub node_id: &'a str,
    pub region: &'a str,
    pub caller: &'a str,
    pub verifying_region: &'a str,
    /// [`request_digest`] of the request the entry node sent.
    pub request: &'a str,
}

/// A statement that passed [`verify`], with the digest the entry node audits.
#[derive(Debug, Clone)]
pub struct Checked {
    pub statement: StatusStatement,
    /// Lower-case hex SHA-256 of the DSSE pre-authentication encoding.
    pub digest: String,
}

/// Checks a statement from `asked.node_id` with the receipt key `registry` lists for that node
/// (a signature by any other key, however valid, is refused), then that it answers the ask and
/// has not expired at `now`, and answers the very request sent (its digest).
pub fn verify(
    env: &Envelope,
    registry: &Registry,
    asked: &Asked<'_>,
    now: OffsetDateTime,
) -> Result<Checked, StatementError> {
    let key = registry
        .root()
        .nodes
        .get(asked.node_id)
        .map(|n| ListedKey::new(&n.receipt_key));
    verify_with(env, key.as_ref(), asked, now)
}

/// A node's receipt key as the registry lists it, ready to check statements with: the key and
/// its id, worked out once per registry version rather than on every forwarded read.
#[derive(Debug, Clone)]
pub struct ListedKey {
    key: PublicKey,
    key_id: KeyId,
}

impl ListedKey {
    pub fn new(key: &PublicKey) -> Self {
        Self {
            key: key.clone(),
            key_id: key.key_id(),
        }
    }
}

/// [`verify`] with the key the registry lists for `asked.node_id` already prepared (`None`:
/// the registry lists no such node).
pub fn verify_with(
    env: &Envelope,
    key: Option<&ListedKey>,
    asked: &Asked<'_>,
    now: OffsetDateTime,
) -> Result<Checked, StatementError> {
    let (key, signed, signature) = to_check(env, key, asked)?;
    let passed = key.key.verify(&signed, signature);
    answers(passed, env, &signed, asked, now)
}

/// [`verify_with`], with an Ed25519 signature checked together with the others in flight
/// through `group` (the entry node checks one statement per forwarded read, and 64 reads in
/// flight bring 64 statements). A signature the group does not pass is checked alone, so a
/// forged statement is refused exactly as [`verify_with`] refuses it.
pub async fn verify_grouped(
    env: &Envelope,
    key: Option<&ListedKey>,
    asked: &Asked<'_>,
    now: OffsetDateTime,
    group: &GroupVerifier,
) -> Result<Checked, StatementError> {
    let (key, signed, signature) = to_check(env, key, asked)?;
    let passed = match ed25519_parts(&key.key, &signed, signature) {
        Some(parts) => group.verify(parts).await || key.key.verify(&signed, signature),
        None => key.key.verify(&signed, signature),
    };
    answers(passed, env, &signed, asked, now)
}

/// The signature to check: the one by the listed key, over the envelope's signed bytes.
fn to_check<'e, 'k>(
    env: &'e Envelope,
    key: Option<&'k ListedKey>,
    asked: &Asked<'_>,
) -> Result<(&'k ListedKey, Vec<u8>, &'e [u8]), StatementError> {
    if env.payload_type != PAYLOAD_TYPE {
        return Err(StatementError::PayloadType(env.payload_type.clone()));
    }
    let key = key.ok_or_else(|| StatementError::UnknownNode(asked.node_id.to_string()))?;
    let sig = env
        .signatures
        .iter()
        .find(|s| s.key_id == key.key_id)
        .ok_or_else(|| StatementError::UnknownKey {
            node: asked.node_id.to_string(),
            key_id: key.key_id.short().to_string(),
        })?;
    Ok((key, env.signed_bytes(), &sig.signature))
}

/// What a group check needs, when the key is Ed25519 and the lengths are right (otherwise the
/// signature is checked alone, which refuses what it must).
fn ed25519_parts(key: &PublicKey, signed: &[u8], signature: &[u8]) -> Option<SignedParts> {
    if key.algorithm != Algorithm::Ed25519 {
        return None;
    }
    Some(SignedParts {
        public_key: key.public.as_slice().try_into().ok()?,
        message: signed.to_vec(),
        signature: signature.try_into().ok()?,
    })
}

/// The signature's outcome, then the checks after it: the statement answers the ask, this very
/// request, in time.
fn answers(
    signature_passed: bool,
    env: &Envelope,
    signed: &[u8],
    asked: &Asked<'_>,
    now: OffsetDateTime,
) -> Result<Checked, StatementError> {
    if !signature_passed {
        return Err(StatementError::BadSignature {
            node: asked.node_id.to_string(),
        });
    }
    let statement: StatusStatement = canonical::decode(&env.payload)?;
    // Field by field (the words are written out only for a refusal): a forwarded read pays for
    // no strings it does not show.
    let answers_the_ask = statement.node_id == asked.node_id
        && statement.region == asked.region
        && statement.caller == asked.caller
        && statement.verifying_region == asked.verifying_region;
    if !answers_the_ask {
        return Err(StatementError::Mismatch {
            expected: format!(
                "node {} region {} caller {} under {}",
                asked.node_id, asked.region, asked.caller, asked.verifying_region
            ),
            found: format!(
                "node {} region {} caller {} under {}",
                statement.node_id, statement.region, statement.caller, statement.verifying_region
            ),
        });
    }
    if statement.request != asked.request {
        return Err(StatementError::OtherRequest {
            expected: asked.request.to_string(),
            found: statement.request,
        });
    }
    if statement.expires <= now {
        return Err(StatementError::Expired(statement.expires));
    }
    Ok(Checked {
        statement,
        digest: hex::encode(Sha256::digest(signed)),
    })
}
