//! The agreement step: a bilateral agreement is signed by both regions' thresholds, a national
//! one by the root role; scopes are region codes or `*`; nothing expired.

use huren_adapters::RegionCode;
use time::OffsetDateTime;

use crate::doc::{Agreement, AgreementKind, Root, agreement::ANY_REGION, decode};
use crate::envelope::{Envelope, KeySet};
use crate::error::{DocumentError, VerifyError};
use crate::registry::Registry;

use super::freshness::not_expired;
use super::signatures::require;

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

/// Verifies agreement document `name` under `root`; `held` is the state already trusted.
pub(super) fn verify_agreement(
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
    check_scopes(name, &a)?;
    match a.kind {
        AgreementKind::National => require(name, "root role", env, &root.roles.root)?,
        AgreementKind::Bilateral => {
            for code in [&a.verifying, &a.issuing] {
                let keys = &root.delegation(code)?.keys;
                require(name, &format!("region {code} keys"), env, keys)?;
            }
        }
    }
    not_expired(name, a.expires, now)?;
    Ok(a)
}

/// Each side is a region code or `*`; a bilateral agreement names two different regions.
fn check_scopes(name: &str, a: &Agreement) -> Result<(), VerifyError> {
    let bad = |reason: String| DocumentError::BadAgreement {
        document: name.to_string(),
        reason,
    };
    for scope in [&a.verifying, &a.issuing] {
        if scope != ANY_REGION && RegionCode::parse(scope).is_err() {
            return Err(bad(format!("{scope:?} is neither a region code nor *")).into());
        }
    }
    if a.kind == AgreementKind::Bilateral
        && (a.verifying == ANY_REGION || a.issuing == ANY_REGION || a.verifying == a.issuing)
    {
        return Err(bad("a bilateral agreement names two different regions".into()).into());
    }
    Ok(())
}
