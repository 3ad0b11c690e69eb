//! The pure verifier: a signed state (and the state already held) in, a verified [`Registry`] or
//! the first broken rule out. No I/O, no clock: `now` is an argument.
//!
//! [`verify_state_with`] runs the steps in order, each in its own file: `root` (the root chain
//! and what it delegates), `timestamp` (the timestamp and its binding), `region` and
//! `agreement` (each current document), then `log`. `signatures` and `freshness` hold the rules
//! the steps share; `issuers` checks a region's certificates for the region step; `spread` runs
//! independent checks (documents, certificates) across the cores.

mod agreement;
mod freshness;
mod issuers;
mod log;
mod region;
mod root;
mod signatures;
mod spread;
mod timestamp;

use std::collections::BTreeMap;

use huren_adapters::RegionCode;
use time::OffsetDateTime;

use crate::doc::{AGREEMENT_PREFIX, Agreement, REGION_PREFIX, ROOT, Root, TIMESTAMP};
use crate::envelope::Envelope;
use crate::error::{DocumentError, RootError, VerifyError};
use crate::registry::{Registry, VerifiedRegion};
use crate::state::SignedState;

pub use signatures::require;
use timestamp::Present;

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
    let root = root::verify_roots(state, held)?;
    let root_env = state.root().ok_or(RootError::NoRoot)?;
    freshness::not_expired(ROOT, root.expires, now)?;
    let timestamp = timestamp::verify_timestamp(state, &root, held, now, policy)?;
    let mut current = verify_documents(state, &root, held, now)?;
    current
        .present
        .insert(ROOT.into(), (root.version, root_env));
    timestamp::check_binding(&timestamp, &current.present, held)?;
    current
        .present
        .insert(TIMESTAMP.into(), (timestamp.version, &state.timestamp));
    let log = log::verify_log(state, &root, &current.present, held)?;
    Ok(Registry::new(
        state.clone(),
        root,
        timestamp,
        current.regions,
        current.agreements,
        log.checkpoint,
        log.leaves,
        log.published_in,
    ))
}

/// The region documents and agreements of a state, each verified, and every document present.
struct Current<'s> {
    regions: BTreeMap<RegionCode, VerifiedRegion>,
    agreements: BTreeMap<String, Agreement>,
    present: Present<'s>,
}

/// Runs the region or agreement step on each document of `state`, by its name; the first error
/// in name order is the answer, as when the documents are checked one by one.
fn verify_documents<'s>(
    state: &'s SignedState,
    root: &Root,
    held: Option<&Registry>,
    now: OffsetDateTime,
) -> Result<Current<'s>, VerifyError> {
    let documents: Vec<(&String, &Envelope)> = state.documents.iter().collect();
    // A first load checks every document afresh: the documents go across the cores, each
    // region's certificates on the thread that took it, so that decoding and document signatures
    // are spread too. A delta changes one or two: the cores go to their certificates instead.
    let fresh = documents
        .iter()
        .filter(|(name, env)| held.and_then(|h| h.state().documents.get(*name)) != Some(*env))
        .count();
    let check = |(name, env): &(&String, &Envelope)| verify_document(name, env, root, held, now);
    let checked = if spread::would_spread(fresh) {
        spread::spread(&documents, check)
    } else {
        documents.iter().map(check).collect()
    };
    let mut current = Current {
        regions: BTreeMap::new(),
        agreements: BTreeMap::new(),
        present: BTreeMap::new(),
    };
    for ((name, env), checked) in documents.into_iter().zip(checked) {
        let version = match checked? {
            Checked::Region(r) => {
                let v = r.document.version;
                current.regions.insert(r.code, r);
                v
            }
            Checked::Agreement(a) => {
                let v = a.version;
                current.agreements.insert(a.id.clone(), a);
                v
            }
        };
        current.present.insert(name.clone(), (version, env));
    }
    Ok(current)
}

/// One verified document of the state.
enum Checked {
    Region(VerifiedRegion),
    Agreement(Agreement),
}

/// The region or agreement step on document `name`, by its name.
fn verify_document(
    name: &str,
    env: &Envelope,
    root: &Root,
    held: Option<&Registry>,
    now: OffsetDateTime,
) -> Result<Checked, VerifyError> {
    if let Some(code) = name.strip_prefix(REGION_PREFIX) {
        let held_region = held.and_then(|h| {
            let c = RegionCode::parse(code).ok()?;
            let r = h.region(c).filter(|r| r.code == c)?;
            Some((r, h.state().documents.get(name)?))
        });
        let r = region::verify_region(name, code, env, root, held_region, now)?;
        Ok(Checked::Region(r))
    } else if name.starts_with(AGREEMENT_PREFIX) {
        let a = agreement::verify_agreement(name, env, root, held, now)?;
        Ok(Checked::Agreement(a))
    } else {
        Err(DocumentError::UnknownDocument {
            document: name.to_string(),
        }
        .into())
    }
}
