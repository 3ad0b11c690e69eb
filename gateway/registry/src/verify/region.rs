//! The region step: a region document is signed by its own delegation's threshold only, is not
//! expired, and every issuer certificate it lists chains to the region's CA.

use huren_adapters::RegionCode;
use time::OffsetDateTime;

use crate::doc::{Delegation, RegionDocument, Root, decode};
use crate::envelope::Envelope;
use crate::error::{DocumentError, RootError, SignatureError, VerifyError};
use crate::registry::VerifiedRegion;

use super::freshness::not_expired;
use super::issuers::issuer_facts;
use super::signatures::judge;

/// Verifies region document `name` (region `code`) under `root`. `held` is the same region in
/// the state already trusted, with the envelope it was accepted in.
pub(super) fn verify_region(
    name: &str,
    code: &str,
    env: &Envelope,
    root: &Root,
    held: Option<(&VerifiedRegion, &Envelope)>,
    now: OffsetDateTime,
) -> Result<VerifiedRegion, VerifyError> {
    let region = RegionCode::parse(code).map_err(|_| DocumentError::UnknownDocument {
        document: name.to_string(),
    })?;
    let delegation = delegation(root, code, now)?;
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
    signed_by_its_region(name, code, env, root, delegation)?;
    not_expired(name, doc.expires, now)?;
    // Certificate checks dominate a load; an unchanged document under an unchanged region CA
    // was checked when the held state was accepted. Signatures and expiry are still checked.
    let issuers = match held {
        Some(held)
            if held.document == doc
                && held.delegation.ca_certificate == delegation.ca_certificate =>
        {
            held.issuers.clone()
        }
        _ => issuer_facts(code, &doc, delegation, held)?,
    };
    Ok(VerifiedRegion {
        code: region,
        document: doc,
        delegation: delegation.clone(),
        issuers,
    })
}

/// The root's live delegation of region `code`.
fn delegation<'r>(
    root: &'r Root,
    code: &str,
    now: OffsetDateTime,
) -> Result<&'r Delegation, VerifyError> {
    let delegation = root.delegation(code)?;
    if now >= delegation.expires {
        return Err(RootError::DelegationExpired {
            region: code.to_string(),
            expires: delegation.expires,
        }
        .into());
    }
    Ok(delegation)
}

/// The region's own threshold signed `env`. Short of it, another region's signature is named as
/// the reason: a region signs only its own document.
fn signed_by_its_region(
    name: &str,
    code: &str,
    env: &Envelope,
    root: &Root,
    delegation: &Delegation,
) -> Result<(), VerifyError> {
    let tally = env.tally(&delegation.keys);
    if tally.valid.len() < delegation.keys.threshold as usize {
        for (other, d) in &root.regions {
            if other != code && !env.tally(&d.keys).valid.is_empty() {
                return Err(SignatureError::ForeignRegionKey {
                    document: name.to_string(),
                    signer: other.clone(),
                }
                .into());
            }
        }
    }
    judge(
        name,
        &format!("region {code} keys"),
        &tally,
        &delegation.keys,
    )
}
