//! The root step: walk the root chain forward from the root held, then check that every role and
//! delegation the last root names is usable.

use huren_adapters::RegionCode;

use crate::doc::{ROOT, Root, decode};
use crate::error::{FreshnessError, RootError, VerifyError};
use crate::registry::Registry;
use crate::state::SignedState;
use crate::x509;

use super::signatures::{check_set, no_bad_signature, require};

/// Walks the root chain forward from the root `held` trusts (or, on first use, from the first
/// root, which must be signed by its own threshold) and returns the last root.
pub(super) fn verify_roots(
    state: &SignedState,
    held: Option<&Registry>,
) -> Result<Root, VerifyError> {
    let mut roots = Vec::with_capacity(state.roots.len());
    for env in &state.roots {
        roots.push(decode::<Root>(ROOT, env)?);
    }
    let start = match held {
        None => {
            let first = roots.first().ok_or(RootError::NoRoot)?;
            require(ROOT, "root role", &state.roots[0], &first.roles.root)?;
            0
        }
        Some(held) => start_from_held(state, &roots, held)?,
    };
    for i in start + 1..roots.len() {
        rotation(state, &roots[i - 1], &roots[i], i)?;
    }
    let root = roots.pop().ok_or(RootError::NoRoot)?;
    check_roles(&root)?;
    Ok(root)
}

/// Where in the offered chain the held root sits: it must be there, byte for byte, and the chain
/// must not end before it.
fn start_from_held(
    state: &SignedState,
    roots: &[Root],
    held: &Registry,
) -> Result<usize, VerifyError> {
    let last = roots.last().ok_or(RootError::NoRoot)?;
    let want = held.root().version;
    if last.version < want {
        return Err(FreshnessError::Rollback {
            document: ROOT.into(),
            held: want,
            offered: last.version,
        }
        .into());
    }
    let pos = roots
        .iter()
        .position(|r| r.version == want)
        .ok_or(RootError::RootGap {
            previous: want,
            found: roots[0].version,
        })?;
    let held_env = held.state().root().ok_or(RootError::NoRoot)?;
    if state.roots[pos].payload != held_env.payload {
        return Err(RootError::RootMismatch { version: want }.into());
    }
    Ok(pos)
}

/// Root `new` (at `index` in the chain) follows `old`: the next version, signed by the threshold
/// of the old keys and of the new.
fn rotation(state: &SignedState, old: &Root, new: &Root, index: usize) -> Result<(), VerifyError> {
    if new.version != old.version + 1 {
        return Err(RootError::RootGap {
            previous: old.version,
            found: new.version,
        }
        .into());
    }
    let env = &state.roots[index];
    let tally_old = env.tally(&old.roles.root);
    no_bad_signature(&format!("root v{}", new.version), &tally_old)?;
    let valid_old = tally_old.valid.len();
    if valid_old < old.roles.root.threshold as usize {
        return Err(RootError::RotationNotSignedByOld {
            version: new.version,
            valid: valid_old,
            needed: old.roles.root.threshold,
        }
        .into());
    }
    require(ROOT, "the new root role", env, &new.roles.root)
}

/// Every role's key set and every region delegation of `root` is usable.
fn check_roles(root: &Root) -> Result<(), VerifyError> {
    check_set("root role", &root.roles.root)?;
    check_set("timestamp role", &root.roles.timestamp)?;
    check_set("log role", &root.roles.log)?;
    check_set("witness role", &root.roles.witnesses)?;
    for (code, d) in &root.regions {
        RegionCode::parse(code).map_err(|_| RootError::RegionNotDelegated {
            region: code.clone(),
        })?;
        check_set(&format!("region {code}"), &d.keys)?;
        x509::check_ca(&d.ca_certificate).map_err(|problem| RootError::RegionCa {
            region: code.clone(),
            problem,
        })?;
    }
    one_node_per_identity(root)
}

/// Every listed node has its own SPIFFE id: a peer's certificate names exactly one node, so a
/// certificate cannot be admitted as one node and answer as another. (One node id listed twice
/// never reaches here: the second copy would make the root's bytes not canonical.)
fn one_node_per_identity(root: &Root) -> Result<(), VerifyError> {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (id, node) in &root.nodes {
        if let Some(first) = seen.insert(&node.spiffe_id, id) {
            return Err(RootError::SharedSpiffeId {
                spiffe_id: node.spiffe_id.clone(),
                first: first.to_string(),
                second: id.clone(),
            }
            .into());
        }
    }
    Ok(())
}
