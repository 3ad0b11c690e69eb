//! huren's signed trust registry: documents, the pure verifier, the transparency log, the store.
//!
//! # Manual
//!
//! **Documents.** `root` (national role keys and thresholds, region delegations, gateway nodes
//! with their receipt keys), `regions/<code>` (issuers, revocations, status service, concept
//! map, cache TTL), `agreements/<id>` (`national` or `<verifying>-<issuing>`), and `timestamp`
//! (binds the version and SHA-256 of every current document). See [`doc`].
//!
//! **Canonical encoding.** Every document is canonical JSON: `serde_json` compact output of the
//! document structs, fields in their declaration order, every map a `BTreeMap` with string keys
//! (sorted by byte order), no floats anywhere (durations are integer seconds), times RFC 3339 in
//! UTC to the second (`2020-02-20T08:00:00Z`), byte strings standard base64 with padding.
//! The verifier re-encodes each decoded payload and refuses it unless the bytes are identical
//! ([`canonical::decode`]), so a signature covers exactly one reading of a document.
//!
//! **Signatures.** A document travels in a DSSE envelope ([`envelope`]): payload type, payload
//! bytes, signatures over `PAE(type, payload)`. Keys are Ed25519 or ECDSA P-256 (DER signatures);
//! a key id is the lower-case hex SHA-256 of the raw public key (32 bytes, or the 65-byte
//! uncompressed SEC1 point). A key set counts each key id once.
//!
//! **Rules** ([`verify_state`]): root chain walked forward from the root held (rotation N→N+1
//! needs the old and the new root thresholds); region documents signed by their own delegation's
//! threshold only; bilateral agreements by both regions, national ones by the root role; nothing
//! expired; no document or timestamp goes backwards or changes content at the same version; the
//! timestamp binds exactly the documents present; every issuer certificate chains to the region
//! CA of its delegation (region scope comes from the delegation, not from X.509 name
//! constraints); every current document is a leaf of the log, whose signed checkpoint is
//! consistent with the one held. Issuer validity and revocation are judged per code at its
//! signing time ([`Registry`]'s `TrustView::issuer_key`). A signature by a listed key that does
//! not verify is refused as tampering, even when the threshold is met without it. Against a held
//! state, an envelope byte-identical to one already accepted under unchanged keys (and CA) is not
//! verified again; its expiry is. Only the publisher's own tools may load an expired timestamp
//! ([`Policy`], `store::load_for_publisher`), to renew it.
//!
//! **Log** ([`log`]): RFC 6962 tree over the DSSE PAE bytes of every accepted document version;
//! checkpoints are envelopes over canonical `{origin, tree_size, root_hash}`; the last one is also
//! carried as a C2SP tlog-checkpoint signed note ([`note`]), which the nodes, as witnesses,
//! cosign with `cosignature/v1`; a node acts on a version when `witness_threshold` of the listed
//! witness keys have cosigned it ([`witness`]). DSSE envelopes are standard DSSE JSON
//! (`payloadType`, `payload`, `signatures[{keyid, sig}]`).
//!
//! **Store** ([`store`]): a registry directory holds `registry.json` (the whole signed state),
//! replaced atomically (write temp, fsync, rename, fsync dir), `pending/` (documents awaiting
//! signatures, [`pending`]) and, for the dev registry only, `keys/` (PKCS#8 PEM, mode 0600, laid
//! out by [`keydir`]).
//!
//! **Ceremony**: a change is a pending document signed in turn by each holder, then published.
//! Who must sign it is [`signers::required_signers`] (a new root: the current root role and the
//! new one; a region document: its own region; a bilateral agreement: both regions; a national
//! one: the root role); [`pending::publish_all`] refuses while any role is short of its
//! threshold, then [`ceremony::publish`] signs a new timestamp and checkpoint with the online
//! keys ([`keydir::OnlineKeys`]) and verifies the result before it is saved.
//!
//! # Modules
//!
//! | module | its one job |
//! |---|---|
//! | [`doc`] | document types, names, payload types; [`doc::decode`] an envelope into one |
//! | [`canonical`] | canonical JSON: the only encoding a signature covers |
//! | [`envelope`] | DSSE envelopes, key sets and the tally of who signed |
//! | [`keys`] | registry keys: Ed25519 / P-256, key ids, PKCS#8 PEM (and key files) |
//! | [`x509`] | issuer and region CA certificates |
//! | [`verify`] | the pure verifier, one step a file: root, timestamp, region, agreement, log |
//! | [`error`] | [`VerifyError`] from [`DocumentError`], [`RootError`], [`SignatureError`], [`FreshnessError`], [`LogError`] |
//! | [`registry`] | the verified [`Registry`] and the questions the gateway asks it |
//! | [`state`] | the signed state as stored and served |
//! | [`log`] | RFC 6962 tree, proofs, signed checkpoints and their C2SP tlog-checkpoint text |
//! | [`note`] | C2SP signed notes and `cosignature/v1` witness cosignatures |
//! | [`store`] | the registry directory on disk |
//! | [`ceremony`] | producing a new signed state: envelopes, `publish` |
//! | [`draft`] | a document in the making: its name and envelope with the signatures so far |
//! | [`signers`] | who must sign a document; thresholds of the pending ones |
//! | [`pending`] | `pending/`: documents awaiting signatures, and publishing them |
//! | [`keydir`] | the `keys/` layout and the online keys a publish reads |
//! | [`witness`] | cosigning checkpoints, the k-of-n witness check, fork judgement and evidence |
//! | [`trusted`] | the trusted state a node keeps across restarts; refusing a rolled-back registry |
//! | `dev` | the dev registry (`keys`, `fixtures`, `build`): tests and the `dev` feature only |
//!
//! Dependencies run one way: `doc` and `error` at the bottom, `verify` builds a `registry`,
//! `ceremony` and `pending` build on `verify`, `dev` on all of them.

#![forbid(unsafe_code)]

pub mod canonical;
pub mod ceremony;
#[cfg(any(test, feature = "dev"))]
pub mod dev;
pub mod doc;
pub mod draft;
pub mod envelope;
pub mod error;
pub mod keydir;
pub mod keys;
pub mod log;
pub mod node_edit;
pub mod note;
pub mod pending;
pub mod predict;
pub mod registry;
pub mod signers;
pub mod state;
pub mod store;
pub mod trusted;
pub mod verify;
pub mod witness;
pub mod x509;

pub use doc::{Agreement, AgreementKind, ConceptMap, Rule, Verdict};
pub use envelope::{Envelope, KeySet};
pub use error::{DocumentError, FreshnessError, LogError, RootError, SignatureError, VerifyError};
pub use keys::{Algorithm, KeyFileError, KeyId, PublicKey, SigningKey};
pub use registry::Registry;
pub use state::SignedState;
pub use verify::{Policy, verify_state, verify_state_with};
