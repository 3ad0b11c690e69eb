//! Codes for residents of a federation's regions, issued the way `huren region issue` does:
//! into the records a running regional service reads, so its online lookups know them.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use huren_adapters::sim::{self, IssueInput, Store};
use huren_adapters::{Colour, RegionCode, ResidentId};
use time::OffsetDateTime;

use super::layout::{PKI_DIR, REGIONS_DIR, SERVICE_REGIONS};

/// A running regional service rescans its records every 250 ms: a code issued this long ago
/// is known to it.
pub const KNOWN_AFTER: Duration = Duration::from_millis(400);

/// Issues a code of `colour` to the resident `id` in `region` of the federation in `dir` and
/// returns its QR payload (its region's service knows it after [`KNOWN_AFTER`]).
pub fn issue_code(
    dir: &Path,
    region: RegionCode,
    id: &ResidentId,
    name: &str,
    colour: Colour,
) -> anyhow::Result<String> {
    issue_code_by(dir, region, IssueInput::new(id.clone(), name, colour))
}

/// [`issue_code`] for a fuller request, e.g. one naming the issuer that signs.
pub fn issue_code_by(dir: &Path, region: RegionCode, input: IssueInput) -> anyhow::Result<String> {
    // Regions without a service keep no records anyone reads: memory is enough.
    let records = SERVICE_REGIONS
        .contains(&region.as_str())
        .then(|| dir.join(REGIONS_DIR).join(region.as_str()));
    let store = Store::open(records.as_deref())
        .with_context(|| format!("opening region {region}'s records"))?;
    let issued = sim::issue::issue(
        region,
        &store,
        &dir.join(PKI_DIR),
        &input,
        OffsetDateTime::now_utc(),
    )?;
    Ok(issued.payload)
}
