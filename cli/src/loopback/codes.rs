//! Issuing the demo's codes the way each region does: signed payloads with the region's issuer
//! key from the dev PKI (recorded at the region's service when it answers live checks), online
//! code ids from Zhejiang's and Henan's services, and the deliberately bad ones — forged (one
//! character of the signature changed), stale (signed long ago) and signed by a revoked issuer.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;
use huren_adapters::sim::IssueInput;
use huren_adapters::sim::issue::{is_online_only, label};
use huren_adapters::{Colour, IssueRequest, IssueStatus, IssuerSigner, RegionCode};
use time::{Duration, OffsetDateTime};

use super::people::Resident;
use super::stack::Regions;

/// How long the demo's signed codes stay valid.
const VALIDITY: Duration = Duration::days(7);

/// One issuer signer per signed region, loaded once.
pub struct Codes {
    signers: HashMap<RegionCode, IssuerSigner>,
}

impl Codes {
    pub fn load(pki: &Path) -> anyhow::Result<Self> {
        let mut signers = HashMap::new();
        for region in super::stack::REGIONS {
            if is_online_only(region) {
                continue;
            }
            let signer = IssuerSigner::from_pki(pki, region.as_str())
                .with_context(|| format!("{region}'s issuer key"))?;
            signers.insert(region, signer);
        }
        Ok(Self { signers })
    }

    /// A code of `region` for `who`, signed at `signed_at` (offline-signed regions) or issued now
    /// by the region's service (online regions). Sichuan's signed codes are also recorded at its
    /// service, which Zhejiang's agreement asks to check live.
    pub async fn issue(
        &self,
        regions: &Regions,
        region: RegionCode,
        who: &Resident,
        colour: Colour,
        signed_at: OffsetDateTime,
    ) -> anyhow::Result<String> {
        if is_online_only(region) {
            let mut input = IssueInput::new(who.id.clone(), &who.name, colour);
            if region == RegionCode::ZHEJIANG {
                input.city = RegionCode::parse("330100").ok();
            }
            let issued = regions
                .service(region)?
                .issue(input)
                .await
                .with_context(|| format!("issuing a {region} code"))?;
            return Ok(issued.payload);
        }
        let signer = self
            .signers
            .get(&region)
            .with_context(|| format!("no issuer key for {region}"))?;
        let mut request = IssueRequest::new(
            who.id.clone(),
            &who.name,
            IssueStatus::Colour(colour),
            signed_at + VALIDITY,
        );
        if region == RegionCode::HUBEI {
            request.checked_in_at = Some(signed_at);
        }
        let payload = huren_adapters::issue(region, &request, signer, signed_at)
            .with_context(|| format!("signing a {region} code"))?;
        if region == RegionCode::SICHUAN || region == RegionCode::GUANGDONG {
            let word = label(region, colour)?;
            regions.service(region)?.store().upsert(
                &who.id,
                &who.name,
                word,
                Some(&request.serial.to_string()),
                signed_at,
            )?;
        }
        Ok(payload)
    }
}

/// The same payload with one character of its signature changed: what a forger who edited the
/// status word or name and kept the old signature, or a bad scan, produces.
pub fn forge(payload: &str) -> String {
    // The signature is the last separator-delimited part; change a character in its middle.
    let cut = payload.rfind(['.', ':']).map_or(0, |i| i + 1);
    let sig_len = payload.len() - cut;
    let at = cut + sig_len / 2;
    let mut bytes = payload.as_bytes().to_vec();
    if let Some(b) = bytes.get_mut(at) {
        *b = match *b {
            b'A' => b'B',
            b'0' => b'1',
            b'a' => b'b',
            _ => b'A',
        };
    }
    String::from_utf8(bytes).unwrap_or_else(|_| payload.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forging_changes_one_signature_character() {
        let p = "YKM1.Ym9keQ.c2lnbmF0dXJl";
        let f = forge(p);
        assert_ne!(p, f);
        assert!(f.starts_with("YKM1.Ym9keQ."));
        assert_eq!(p.len(), f.len());
    }
}
