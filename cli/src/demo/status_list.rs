//! Scenario (d2): a Hunan passenger turns red; Hunan's service withdraws their v2 code in its
//! next signed status list, and the Yuhang checkpoint refuses the same code within one refresh.

use huren_adapters::sim::IssueInput;
use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::Verdict;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use time::OffsetDateTime;

use super::check::{Checks, Timer};
use super::withdrawn::{REVOCATION_REFRESH, rescan_until_refused, scan};
use crate::loopback::people::People;
use crate::loopback::stack::Stack;
use crate::report::{answers, names};

/// Runs the scene; how many decisions it asked for.
pub async fn run(stack: &Stack, people: &mut People, checks: &mut Checks) -> anyhow::Result<u64> {
    let hunan = RegionCode::HUNAN;
    let who = people.resident(hunan);
    let service = stack.regions.service(hunan)?;
    // Signed before the demo's registry superseded Hunan's issuer (scenario a), like every
    // genuine Hunan code here. The superseded issuer still signs the status list of the codes
    // it issued: they stay in force, so they must stay withdrawable.
    let signed_at = OffsetDateTime::now_utc() - time::Duration::hours(2);
    let input = IssueInput::new(who.id.clone(), &who.name, Colour::Green).listed();
    let issued = huren_adapters::sim::issue::issue(
        hunan,
        service.store(),
        &stack.regions.dirs.pki,
        &input,
        signed_at,
    )?;
    let mut client = RecognitionServiceClient::new(stack.channel("checkpoint", None).await?);
    let mut scans = 1;
    let before = scan(&mut client, &issued.payload).await?;
    service.set_status(&who.id, Colour::Red).await?;
    let timer = Timer::start();
    let (after, rescans) = rescan_until_refused(&mut client, &issued.payload, &before).await?;
    scans += rescans;
    let took = timer.elapsed();
    println!(
        "  a Hunan e-health card (v2, {}…) scanned at Yuhang: {}; Hunan turns its holder red and withdraws the code in its next signed status list; {} later the same code: {} ({})",
        &issued.payload[..12],
        names::verdict(before.verdict),
        timer.show(),
        names::verdict(after.verdict),
        answers::first_reason(Some(&after))
    );
    checks.expect(
        "a Hunan passenger turned red is refused at Zhejiang's checkpoint within one status-list refresh (REVOKED_CODE)",
        before.verdict == Verdict::Pass as i32
            && after.verdict == Verdict::Reject as i32
            && answers::first_reason(Some(&after)) == "REVOKED_CODE"
            && took <= 2 * REVOCATION_REFRESH,
        format!(
            "before {}, after {} ({}) in {} (refresh every {})",
            names::verdict(before.verdict),
            names::verdict(after.verdict),
            answers::first_reason(Some(&after)),
            timer.show(),
            super::check::show(REVOCATION_REFRESH)
        ),
    );
    Ok(scans)
}
