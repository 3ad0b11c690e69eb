//! The prober's synthetic persons: one for every status word of every issuing region, issued
//! through the federation's reference services as `huren region issue` does.

use std::path::Path;

use anyhow::Context as _;
use huren_adapters::{Colour, RegionCode, vocabulary};
use time::OffsetDateTime;

use crate::federation::issue::issue_code;
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
    pub payload: String,
    pub issued_at: OffsetDateTime,
}

/// Issues one person for each word in `issuing`'s vocabulary, into the federation in `dir`.
pub fn issue_all(
    dir: &Path,
    issuing: &[RegionCode],
    people: &mut People,
) -> anyhow::Result<Vec<Person>> {
    let mut persons = Vec::new();
    for &region in issuing {
        let words = vocabulary::vocabulary(region.as_str())
            .with_context(|| format!("region {region} has no reference vocabulary"))?;
        for &(label, colour) in words.labels {
            let resident = people.resident(region);
            let issued_at = OffsetDateTime::now_utc();
            let payload = issue_code(dir, region, &resident.id, &resident.name, colour)
                .with_context(|| format!("issuing a {label} person of {region}"))?;
            let surname = resident.name.chars().next().unwrap_or('?');
            persons.push(Person {
                issuing: region,
                label,
                colour,
                masked_name: format!("{surname}*"),
                payload,
                issued_at,
            });
        }
    }
    Ok(persons)
}
