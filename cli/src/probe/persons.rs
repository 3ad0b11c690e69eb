//! The prober's synthetic persons: one for every status word of every issuing region, issued
//! through the federation's reference services' test channel (records flagged synthetic).

use std::path::Path;

use anyhow::Context as _;
use huren_adapters::sim::IssueInput;
use huren_adapters::{Colour, RegionCode, vocabulary};
use huren_registry::Registry;
use time::OffsetDateTime;

use crate::federation::issue::issue_input;
use crate::loopback::people::People;

/// One synthetic person and the status the prober gave them.
#[derive(Debug, Clone)]
pub struct Person {
    pub issuing: RegionCode,
    /// The issuing region's own word the person was issued with.
    pub label: &'static str,
    pub colour: Colour,
    /// Surname and `*`: the prober's tables name persons only as a verifying region would.
    pub masked_name: String,
    /// Nodes leave the person out of the national summary: an online region's service answers
    /// that the record is synthetic, a signed code is signed by the region's probe issuer
    /// (flagged synthetic in the registry). `false` for a signed region that lists none.
    pub synthetic: bool,
    pub payload: String,
    pub issued_at: OffsetDateTime,
}

/// Issues one person for each word in `issuing`'s vocabulary, into the federation in `dir`;
/// signed codes by the region's probe issuer when `registry` lists one.
pub fn issue_all(
    dir: &Path,
    registry: &Registry,
    issuing: &[RegionCode],
    people: &mut People,
) -> anyhow::Result<Vec<Person>> {
    let mut persons = Vec::new();
    for &region in issuing {
        let probe_issuer = probe_issuer(registry, region);
        let words = vocabulary::vocabulary(region.as_str())
            .with_context(|| format!("region {region} has no reference vocabulary"))?;
        for &(label, colour) in words.labels {
            let resident = people.resident(region);
            let issued_at = OffsetDateTime::now_utc();
            // Through the region's test channel: its record says synthetic, so do its answers.
            let input = IssueInput {
                issuer: probe_issuer.clone(),
                synthetic: true,
                ..IssueInput::new(resident.id.clone(), &resident.name, colour)
            };
            let payload = issue_input(dir, region, &input)
                .with_context(|| format!("issuing a {label} person of {region}"))?;
            let surname = resident.name.chars().next().unwrap_or('?');
            persons.push(Person {
                issuing: region,
                label,
                colour,
                masked_name: format!("{surname}*"),
                synthetic: probe_issuer.is_some()
                    || huren_adapters::sim::issue::is_online_only(region),
                payload,
                issued_at,
            });
        }
    }
    Ok(persons)
}

/// The issuer `region` lists as its probe issuer, for a region whose codes are signed.
fn probe_issuer(registry: &Registry, region: RegionCode) -> Option<String> {
    if huren_adapters::sim::issue::is_online_only(region) {
        return None;
    }
    let doc = &registry.region(region)?.document;
    doc.issuers
        .iter()
        .find(|(_, issuer)| issuer.synthetic)
        .map(|(id, _)| id.clone())
}
