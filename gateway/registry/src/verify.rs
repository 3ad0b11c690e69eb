//! The pure verifier: a signed state (and the state already held) in, a verified [`Registry`] or the
//! first broken rule out. No I/O, no clock: `now` is an argument.

use std::collections::BTreeMap;

use huren_adapters::RegionCode;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::canonical;
use crate::doc::{
    AGREEMENT_PREFIX, Agreement, AgreementKind, Document, REGION_PREFIX, RegionDocument, Root,
    Timestamp, agreement::ANY_REGION,
};
use crate::envelope::{Envelope, KeySet, Tally};
use crate::error::VerifyError;
use crate::log::{Checkpoint, Hash, consistency_proof, leaf_hash, root_hash};
use crate::registry::{Registry, VerifiedRegion};
use crate::state::SignedState;
use crate::x509;

/// Decodes a document envelope of type `T` that must be called `name`.
pub fn decode<T: Document>(name: &str, env: &Envelope) -> Result<T, VerifyError> {
    if env.payload_type != T::PAYLOAD_TYPE {
        return Err(VerifyError::WrongPayloadType {
            document: name.to_string(),
            expected: T::PAYLOAD_TYPE,
            found: env.payload_type.clone(),
        });
    }
    let doc: T = canonical::decode(&env.payload).map_err(|source| VerifyError::Encoding {
        document: name.to_string(),
        source,
    })?;
    if doc.name() != name {
        return Err(VerifyError::NameMismatch {
            document: name.to_string(),
            found: doc.name(),
        });
    }
    Ok(doc)
}

/// `set`'s threshold of distinct key ids must have signed `env`.
pub fn require(
    document: &str,
    role: &str,
    env: &Envelope,
    set: &KeySet,
) -> Result<(), VerifyError> {
    judge(document, role, &env.tally(set), set)
}

/// [`require`] on a tally already made: no valid signature by a listed key may fail, and the
/// distinct valid ones must reach the threshold.
fn judge(document: &str, role: &str, tally: &Tally, set: &KeySet) -> Result<(), VerifyError> {
    if let Some(bad) = tally.invalid.first() {
        return Err(VerifyError::BadSignature {
            document: document.to_string(),
            key_id: bad.0.clone(),
        });
    }
    let valid = tally.valid.len();
    if valid >= set.threshold as usize {
        return Ok(());
    }
    if let Some(dup) = tally.duplicated.iter().find(|k| tally.valid.contains(*k)) {
        return Err(VerifyError::DuplicateKeySignature {
            document: document.to_string(),
            key_id: dup.0.clone(),
            valid,
            needed: set.threshold,
        });
    }
    Err(VerifyError::BelowThreshold {
        document: document.to_string(),
        role: role.to_string(),
        valid,
        needed: set.threshold,
    })
}

fn not_expired(
    document: &str,
    expires: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), VerifyError> {
    if now >= expires {
        return Err(VerifyError::Expired {
            document: document.to_string(),
            expires,
            now,
        });
    }
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn check_set(role: &str, set: &KeySet) -> Result<(), VerifyError> {
    set.check().map_err(|reason| VerifyError::BadKeySet {
        role: role.to_string(),
        reason,
    })
}

/// Walks the root chain forward from the root `held` trusts (or, on first use, from the first root,
/// which must be signed by its own threshold).
fn verify_roots(state: &SignedState, held: Option<&Registry>) -> Result<Root, VerifyError> {
    let mut roots = Vec::with_capacity(state.roots.len());
    for env in &state.roots {
        roots.push(decode::<Root>(crate::doc::ROOT, env)?);
    }
    let last = roots.last().ok_or(VerifyError::NoRoot)?;
    let start = match held {
        None => {
            require("root", "root role", &state.roots[0], &roots[0].roles.root)?;
            0
        }
        Some(held) => {
            let want = held.root().version;
            if last.version < want {
                return Err(VerifyError::Rollback {
                    document: "root".into(),
                    held: want,
                    offered: last.version,
                });
            }
            let pos = roots
                .iter()
                .position(|r| r.version == want)
                .ok_or(VerifyError::RootGap {
                    previous: want,
                    found: roots[0].version,
                })?;
            let held_env = held.state().root().ok_or(VerifyError::NoRoot)?;
            if state.roots[pos].payload != held_env.payload {
                return Err(VerifyError::RootMismatch { version: want });
            }
            pos
        }
    };
    for i in start + 1..roots.len() {
        let (old, new) = (&roots[i - 1], &roots[i]);
        if new.version != old.version + 1 {
            return Err(VerifyError::RootGap {
                previous: old.version,
                found: new.version,
            });
        }
        let tally_old = state.roots[i].tally(&old.roles.root);
        if let Some(bad) = tally_old.invalid.first() {
            return Err(VerifyError::BadSignature {
                document: format!("root v{}", new.version),
                key_id: bad.0.clone(),
            });
        }
        let valid_old = tally_old.valid.len();
        if valid_old < old.roles.root.threshold as usize {
            return Err(VerifyError::RotationNotSignedByOld {
                version: new.version,
                valid: valid_old,
                needed: old.roles.root.threshold,
            });
        }
        require(
            "root",
            "the new root role",
            &state.roots[i],
            &new.roles.root,
        )?;
    }
    let root = roots.pop().ok_or(VerifyError::NoRoot)?;
    check_set("root role", &root.roles.root)?;
    check_set("timestamp role", &root.roles.timestamp)?;
    check_set("log role", &root.roles.log)?;
    check_set("witness role", &root.roles.witnesses)?;
    for (code, d) in &root.regions {
        RegionCode::parse(code).map_err(|_| VerifyError::RegionNotDelegated {
            region: code.clone(),
        })?;
        check_set(&format!("region {code}"), &d.keys)?;
        x509::check_ca(&d.ca_certificate).map_err(|problem| VerifyError::RegionCa {
            region: code.clone(),
            problem,
        })?;
    }
    Ok(root)
}

fn verify_region(
    name: &str,
    code: &str,
    env: &Envelope,
    root: &Root,
    held: Option<(&VerifiedRegion, &Envelope)>,
    now: OffsetDateTime,
) -> Result<VerifiedRegion, VerifyError> {
    let region = RegionCode::parse(code).map_err(|_| VerifyError::UnknownDocument {
        document: name.to_string(),
    })?;
    let delegation = root
        .regions
        .get(code)
        .ok_or_else(|| VerifyError::RegionNotDelegated {
            region: code.to_string(),
        })?;
    if now >= delegation.expires {
        return Err(VerifyError::DelegationExpired {
            region: code.to_string(),
            expires: delegation.expires,
        });
    }
    // The very envelope the held state accepted, under the same keys and CA: its signatures and
    // certificates were checked then. Expiry is judged again.
    if let Some((h, held_env)) = held
        && held_env == env
        && h.delegation.keys == delegation.keys
        && h.delegation.ca_certificate == delegation.ca_certificate
    {
        not_expired(name, h.document.expires, now)?;
        return Ok(VerifiedRegion {
            code: region,
            document: h.document.clone(),
            delegation: delegation.clone(),
            issuers: h.issuers.clone(),
        });
    }
    let held = held.map(|(h, _)| h);
    let doc: RegionDocument = decode(name, env)?;
    let tally = env.tally(&delegation.keys);
    if tally.valid.len() < delegation.keys.threshold as usize {
        for (other, d) in &root.regions {
            if other != code && !env.tally(&d.keys).valid.is_empty() {
                return Err(VerifyError::ForeignRegionKey {
                    document: name.to_string(),
                    signer: other.clone(),
                });
            }
        }
    }
    judge(
        name,
        &format!("region {code} keys"),
        &tally,
        &delegation.keys,
    )?;
    not_expired(name, doc.expires, now)?;
    // Certificate checks dominate a load; an unchanged document under an unchanged region CA
    // was checked when the held state was accepted. Signatures and expiry are still checked.
    if let Some(held) = held
        && held.document == doc
        && held.delegation.ca_certificate == delegation.ca_certificate
    {
        return Ok(VerifiedRegion {
            code: region,
            document: doc,
            delegation: delegation.clone(),
            issuers: held.issuers.clone(),
        });
    }
    let mut issuers = BTreeMap::new();
    for (id, issuer) in &doc.issuers {
        let facts = x509::check_issuer(
            &issuer.certificate,
            &delegation.ca_certificate,
            issuer.algorithm,
        )
        .map_err(|problem| VerifyError::IssuerCertificate {
            region: code.to_string(),
            issuer: id.clone(),
            problem,
        })?;
        issuers.insert(id.clone(), facts);
    }
    Ok(VerifiedRegion {
        code: region,
        document: doc,
        delegation: delegation.clone(),
        issuers,
    })
}

/// The key sets an agreement must be signed by under `root`.
fn agreement_signers<'r>(a: &Agreement, root: &'r Root) -> Vec<Option<&'r KeySet>> {
    match a.kind {
        AgreementKind::National => vec![Some(&root.roles.root)],
        AgreementKind::Bilateral => [&a.verifying, &a.issuing]
            .into_iter()
            .map(|c| root.regions.get(c).map(|d| &d.keys))
            .collect(),
    }
}

fn verify_agreement(
    name: &str,
    env: &Envelope,
    root: &Root,
    held: Option<&Registry>,
    now: OffsetDateTime,
) -> Result<Agreement, VerifyError> {
    // The very envelope the held state accepted, under the same signing keys.
    if let Some(h) = held
        && h.state().documents.get(name) == Some(env)
        && let Some(prev) = h
            .agreements()
            .find(|a| Agreement::document_name(&a.id) == name)
        && agreement_signers(prev, h.root()) == agreement_signers(prev, root)
    {
        not_expired(name, prev.expires, now)?;
        return Ok(prev.clone());
    }
    let a: Agreement = decode(name, env)?;
    let bad = |reason: String| VerifyError::BadAgreement {
        document: name.to_string(),
        reason,
    };
    for scope in [&a.verifying, &a.issuing] {
        if scope != ANY_REGION && RegionCode::parse(scope).is_err() {
            return Err(bad(format!("{scope:?} is neither a region code nor *")));
        }
    }
    match a.kind {
        AgreementKind::National => require(name, "root role", env, &root.roles.root)?,
        AgreementKind::Bilateral => {
            if a.verifying == ANY_REGION || a.issuing == ANY_REGION || a.verifying == a.issuing {
                return Err(bad(
                    "a bilateral agreement names two different regions".into()
                ));
            }
            for code in [&a.verifying, &a.issuing] {
                let d = root
                    .regions
                    .get(code)
                    .ok_or_else(|| VerifyError::RegionNotDelegated {
                        region: code.clone(),
                    })?;
                require(name, &format!("region {code} keys"), env, &d.keys)?;
            }
        }
    }
    not_expired(name, a.expires, now)?;
    Ok(a)
}

/// What a caller may relax. Nodes never relax anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// The publisher's own view: an expired timestamp is what `publish` exists to renew.
    pub allow_expired_timestamp: bool,
}

/// Verifies every rule of the registry. `held` is the state this node already trusts (rollback,
/// root chain and log consistency are judged against it); `None` trusts the first root on first use.
pub fn verify_state(
    state: &SignedState,
    held: Option<&Registry>,
    now: OffsetDateTime,
) -> Result<Registry, VerifyError> {
    verify_state_with(state, held, now, Policy::default())
}

/// [`verify_state`] under a [`Policy`].
pub fn verify_state_with(
    state: &SignedState,
    held: Option<&Registry>,
    now: OffsetDateTime,
    policy: Policy,
) -> Result<Registry, VerifyError> {
    let root = verify_roots(state, held)?;
    let root_env = state.root().ok_or(VerifyError::NoRoot)?;
    not_expired("root", root.expires, now)?;

    let timestamp: Timestamp = decode(crate::doc::TIMESTAMP, &state.timestamp)?;
    require(
        "timestamp",
        "timestamp role",
        &state.timestamp,
        &root.roles.timestamp,
    )?;
    if !policy.allow_expired_timestamp {
        not_expired("timestamp", timestamp.expires, now)?;
    }
    if let Some(held) = held {
        let hv = held.timestamp().version;
        if timestamp.version < hv {
            return Err(VerifyError::Rollback {
                document: "timestamp".into(),
                held: hv,
                offered: timestamp.version,
            });
        }
        if timestamp.version == hv && state.timestamp.payload != held.state().timestamp.payload {
            return Err(VerifyError::Equivocation {
                document: "timestamp".into(),
                version: hv,
            });
        }
    }

    // Binding: the timestamp names exactly the documents present, at their versions and hashes.
    let mut present: BTreeMap<String, (u64, &Envelope)> = BTreeMap::new();
    present.insert("root".into(), (root.version, root_env));
    let mut regions = BTreeMap::new();
    let mut agreements = BTreeMap::new();
    for (name, env) in &state.documents {
        let version = if let Some(code) = name.strip_prefix(REGION_PREFIX) {
            let held_region = held.and_then(|h| {
                let c = RegionCode::parse(code).ok()?;
                let r = h.region(c).filter(|r| r.code == c)?;
                Some((r, h.state().documents.get(name)?))
            });
            let r = verify_region(name, code, env, &root, held_region, now)?;
            let v = r.document.version;
            regions.insert(r.code, r);
            v
        } else if name.strip_prefix(AGREEMENT_PREFIX).is_some() {
            let a = verify_agreement(name, env, &root, held, now)?;
            let v = a.version;
            agreements.insert(a.id.clone(), a);
            v
        } else {
            return Err(VerifyError::UnknownDocument {
                document: name.clone(),
            });
        };
        present.insert(name.clone(), (version, env));
    }
    for (name, (version, env)) in &present {
        let bound = timestamp
            .documents
            .get(name)
            .ok_or_else(|| VerifyError::Unbound {
                document: name.clone(),
            })?;
        if bound.version != *version || bound.sha256 != sha256_hex(&env.payload) {
            return Err(VerifyError::MixAndMatch {
                document: name.clone(),
                bound: bound.version,
                found: *version,
            });
        }
        if let Some(held) = held
            && let Some(h) = held.timestamp().documents.get(name)
        {
            if *version < h.version {
                return Err(VerifyError::Rollback {
                    document: name.clone(),
                    held: h.version,
                    offered: *version,
                });
            }
            if *version == h.version && h.sha256 != bound.sha256 {
                return Err(VerifyError::Equivocation {
                    document: name.clone(),
                    version: *version,
                });
            }
        }
    }
    if let Some(name) = timestamp
        .documents
        .keys()
        .find(|n| !present.contains_key(*n))
    {
        return Err(VerifyError::Missing {
            document: name.clone(),
        });
    }

    // The log: the checkpoint signs the entries, the entries hold every current document.
    let cp_env = state.log.checkpoints.last().ok_or_else(|| {
        VerifyError::Checkpoint(crate::log::CheckpointError::Malformed(
            "the log has no checkpoint".into(),
        ))
    })?;
    let checkpoint = Checkpoint::verify(cp_env, &root.roles.log, &root.log_origin)?;
    // Cosignatures are not required yet (federation wires the witnesses), but a corrupt one is
    // tampering.
    if let Some(bad) = cp_env.tally(&root.roles.witnesses).invalid.first() {
        return Err(crate::log::CheckpointError::BadSignature {
            key_id: bad.0.clone(),
        }
        .into());
    }
    let mut leaves: Vec<Hash> = Vec::with_capacity(state.log.entries.len());
    let mut logged: BTreeMap<(&str, u64), usize> = BTreeMap::new();
    for (i, e) in state.log.entries.iter().enumerate() {
        let h: Hash = hex::decode(&e.leaf_hash)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                VerifyError::Unreadable(format!("log entry {i} has a malformed leaf hash"))
            })?;
        leaves.push(h);
        logged.insert((e.document.as_str(), e.version), i);
    }
    if checkpoint.tree_size != leaves.len() as u64 {
        return Err(VerifyError::LogSize {
            checkpoint: checkpoint.tree_size,
            entries: leaves.len() as u64,
        });
    }
    if root_hash(&leaves) != checkpoint.root()? {
        return Err(VerifyError::LogRootMismatch);
    }
    present.insert("timestamp".into(), (timestamp.version, &state.timestamp));
    for (name, (version, env)) in &present {
        logged
            .get(&(name.as_str(), *version))
            .copied()
            .filter(|i| leaves[*i] == leaf_hash(&env.signed_bytes()))
            .ok_or_else(|| VerifyError::NotLogged {
                document: name.clone(),
                version: *version,
            })?;
    }
    let published_in: BTreeMap<(String, u64), u64> = state
        .log
        .entries
        .iter()
        .map(|e| ((e.document.clone(), e.version), e.published_in))
        .collect();
    if let Some(held) = held {
        let held_cp = held.checkpoint();
        let proof = consistency_proof(held_cp.tree_size as usize, &leaves).map_err(|reason| {
            crate::log::CheckpointError::Inconsistent {
                held: held_cp.tree_size,
                offered: checkpoint.tree_size,
                reason,
            }
        })?;
        checkpoint.check_extends(held_cp, &proof)?;
    }
    Ok(Registry::new(
        state.clone(),
        root,
        timestamp,
        regions,
        agreements,
        checkpoint,
        leaves,
        published_in,
    ))
}
