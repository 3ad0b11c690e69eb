//! Dev state that does not belong together, refused with what to run: a dev PKI re-created
//! under a registry made from the old one, and a registry whose signed timestamp expired.

use std::path::Path;

use huren_certs::Manifest;
use huren_registry::store;
use huren_registry::{FreshnessError, VerifyError};
use time::OffsetDateTime;

/// Refuses a dev PKI whose region CAs are not the ones the registry delegates to: after
/// `huren certs init --force` the old registry would read every code of the new PKI's issuers as
/// forged.
pub fn check_pair(pki: &Path, registry: &Path, now: OffsetDateTime) -> anyhow::Result<()> {
    let manifest = Manifest::load(pki)?;
    let held = store::load_for_publisher(registry, now)?;
    let delegated = &held.root().regions;
    for entry in &manifest.regions {
        let path = pki.join(&entry.ca);
        let pem = std::fs::read(&path)?;
        let pki_ca = huren_registry::x509::pem_to_der(&pem)
            .ok()
            .and_then(|ders| ders.into_iter().next());
        let same = delegated
            .get(&entry.region)
            .is_some_and(|d| pki_ca.as_deref() == Some(d.ca_certificate.as_slice()));
        if !same {
            anyhow::bail!(
                "the dev PKI in {pki} and the trust registry in {registry} do not belong \
                 together: region {region}'s CA in the PKI is not the one the registry delegates \
                 to (was the PKI re-created with `huren certs init --force`?), so every new code \
                 would read as forged. Make the registry again from this PKI: huren registry \
                 init --pki {pki} --out {registry} --force",
                pki = pki.display(),
                registry = registry.display(),
                region = entry.region,
            );
        }
    }
    Ok(())
}

/// `error` with what to run when the registry failed to load because a document (its
/// timestamp, usually) expired.
pub fn explain_expiry(error: anyhow::Error, registry: &Path) -> anyhow::Error {
    // A transparent VerifyError hides its FreshnessError from the chain: look through both.
    let expired = error.chain().find_map(|cause| {
        let freshness = match cause.downcast_ref::<VerifyError>() {
            Some(VerifyError::Freshness(f)) => Some(f),
            _ => cause.downcast_ref::<FreshnessError>(),
        };
        match freshness {
            Some(FreshnessError::Expired { document, .. }) => Some(document.clone()),
            _ => None,
        }
    });
    match expired {
        Some(document) => error.context(format!(
            "the trust registry's {document} document has expired: renew it with `huren \
             registry publish --reg {}` (a dev registry signs its own; a real one needs the \
             timestamp key)",
            registry.display()
        )),
        None => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_registry_says_to_publish() {
        let at = time::macros::datetime!(2026-12-04 07:03:56 UTC);
        let expired = FreshnessError::Expired {
            document: "timestamp".into(),
            expires: at,
            now: at,
        };
        let error =
            anyhow::Error::new(VerifyError::Freshness(expired)).context("trust registry reg");
        let explained = explain_expiry(error, Path::new("reg"));
        let line = crate::report::error::chain(&explained);
        assert!(
            line.starts_with("the trust registry's timestamp document has expired: renew it with `huren registry publish --reg reg`"),
            "{line}"
        );
        assert!(line.contains("expired at 2026-12-04T07:03:56Z"), "{line}");
        let other = explain_expiry(anyhow::anyhow!("disk full"), Path::new("reg"));
        assert_eq!(other.to_string(), "disk full");
    }
}
