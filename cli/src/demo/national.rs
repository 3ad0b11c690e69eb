//! Scenario (e): the national coordination office reads the summary of everything the demo did
//! — counts by verifying × issuing region and verdict, worker confirmations by route, each
//! region's adapter health — and the registry's list of regions. No person appears in either.

use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::{GetNationalSummaryRequest, ListRegionsRequest};
use time::OffsetDateTime;

use super::check::{Checks, Timer};
use crate::loopback::stack::Stack;
use crate::report::status::CallError;
use crate::report::{Table, answers, names};
use huren::recognition::wire::timestamp;

/// What the demo did before asking, to compare with the counts.
#[derive(Debug, Default, Clone, Copy)]
pub struct Expected {
    /// Per-person decisions the demo asked for at least.
    pub decisions_at_least: u64,
    /// Henan → Zhejiang confirmations (confirmed, not confirmed), when (b) completed.
    pub confirmations: Option<(u64, u64)>,
}

/// Returns the summary's total of decisions.
pub async fn run(stack: &Stack, expected: Expected, checks: &mut Checks) -> anyhow::Result<u64> {
    let mut client = CoordinationServiceClient::new(stack.channel("national", None).await?);
    let end = OffsetDateTime::now_utc();
    let timer = Timer::start();
    let summary = client
        .get_national_summary(GetNationalSummaryRequest {
            start_time: Some(timestamp(end - time::Duration::hours(1))),
            end_time: Some(timestamp(end + time::Duration::minutes(1))),
            window: None,
        })
        .await
        .map_err(|s| CallError::context("GetNationalSummary", s))?
        .into_inner();
    println!("  GetNationalSummary answered in {}", timer.show());
    for line in answers::summary(&summary).lines() {
        println!("  {line}");
    }
    let total: u64 = summary.verifications.iter().map(|v| v.count).sum();
    checks.saw(
        "national",
        format!(
            "{} count rows, {} confirmation routes, {} regions' health; no person",
            summary.verifications.len(),
            summary.confirmations.len(),
            summary.region_health.len()
        ),
    );
    checks.expect(
        format!(
            "the summary counts every decision the demo asked for ({total} ≥ {})",
            expected.decisions_at_least
        ),
        total >= expected.decisions_at_least,
        format!("only {total}"),
    );
    let route = summary
        .confirmations
        .iter()
        .find(|c| c.origin_region == "410000" && c.destination_region == "330000")
        .map(|c| (c.confirmed, c.not_confirmed));
    if let Some(want) = expected.confirmations {
        checks.equal(
            "Henan → Zhejiang confirmations counted exactly",
            route,
            Some(want),
        );
    }
    checks.equal(
        "adapter health reported for all seven regions",
        summary.region_health.len(),
        7,
    );

    let regions = client
        .list_regions(ListRegionsRequest {
            page_size: 50,
            page_token: String::new(),
        })
        .await
        .map_err(|s| CallError::context("ListRegions", s))?
        .into_inner();
    let mut t = Table::new([
        "region", "", "issuers", "labels", "online", "doc v", "health",
    ]);
    for r in &regions.regions {
        t.row([
            r.code.clone(),
            names::region(&r.code).to_string(),
            r.issuers.len().to_string(),
            r.native_labels.join(" "),
            if r.online { "yes" } else { "no" }.to_string(),
            r.document_version.to_string(),
            r.health
                .as_ref()
                .map_or("-", |h| names::health(h.health))
                .to_string(),
        ]);
    }
    println!("  ListRegions (the registry's view):");
    print!("{t}");
    checks.equal(
        "ListRegions lists the seven regions",
        regions.regions.len(),
        7,
    );
    Ok(total)
}
