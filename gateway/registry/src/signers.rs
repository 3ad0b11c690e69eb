//! Who must sign each document of a ceremony, and whether the pending ones have their thresholds:
//! the rules `huren registry sign` and `publish` ask about, checked again by the verifier.

use crate::doc::{Agreement, AgreementKind, REGION_PREFIX, ROOT, Root, decode};
use crate::draft::PendingDoc;
use crate::envelope::{Envelope, KeySet};
use crate::error::VerifyError;
use crate::registry::Registry;

/// A role that must sign a document: what to call it, and its key set with the threshold.
pub type Signer = (String, KeySet);

/// Who must sign document `name` under `root`: (role, key set) pairs, each to its threshold.
pub fn required_signers(
    root: &Root,
    name: &str,
    env: &Envelope,
) -> Result<Vec<Signer>, VerifyError> {
    if name == ROOT {
        let new: Root = decode(name, env)?;
        let mut out = vec![("the current root role".to_string(), root.roles.root.clone())];
        if new.roles.root != root.roles.root {
            out.push(("the new root role".to_string(), new.roles.root));
        }
        return Ok(out);
    }
    if let Some(code) = name.strip_prefix(REGION_PREFIX) {
        let d = root.delegation(code)?;
        return Ok(vec![(format!("region {code} keys"), d.keys.clone())]);
    }
    let a: Agreement = decode(name, env)?;
    match a.kind {
        AgreementKind::National => Ok(vec![("root role".to_string(), root.roles.root.clone())]),
        AgreementKind::Bilateral => [a.verifying, a.issuing]
            .into_iter()
            .map(|code| {
                let keys = root.delegation(&code)?.keys.clone();
                Ok((format!("region {code} keys"), keys))
            })
            .collect(),
    }
}

/// Who must sign pending `doc`: a new root is judged by the current root (and itself); everything
/// else by the root it will be published under — the pending root when a rotation is under way.
pub fn signers_of(
    registry: &Registry,
    pending: &[PendingDoc],
    doc: &PendingDoc,
) -> Result<Vec<Signer>, VerifyError> {
    let pending_root = pending
        .iter()
        .find(|d| d.name == ROOT)
        .map(|d| decode::<Root>(&d.name, &d.envelope))
        .transpose()?;
    let root = match (&pending_root, doc.name == ROOT) {
        (Some(new_root), false) => new_root,
        _ => registry.root(),
    };
    required_signers(root, &doc.name, &doc.envelope)
}

/// A pending document short of one role's threshold: nothing may be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{document} has {valid} of the {needed} signatures needed from {role}; nothing published")]
pub struct Unsigned {
    pub document: String,
    pub role: String,
    pub valid: usize,
    pub needed: u32,
}

/// Why the pending documents cannot be published yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ThresholdError {
    #[error(transparent)]
    Unsigned(#[from] Unsigned),
    #[error(transparent)]
    Refused(#[from] VerifyError),
}

/// Every pending document has the threshold of every role that must sign it.
pub fn check_thresholds(registry: &Registry, pending: &[PendingDoc]) -> Result<(), ThresholdError> {
    for doc in pending {
        for (role, set) in signers_of(registry, pending, doc)? {
            let valid = doc.envelope.tally(&set).valid.len();
            if valid < set.threshold as usize {
                return Err(Unsigned {
                    document: doc.name.clone(),
                    role,
                    valid,
                    needed: set.threshold,
                }
                .into());
            }
        }
    }
    Ok(())
}
