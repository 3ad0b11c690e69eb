//! Scene 7: a Hunan passenger turns red at Hunan's service. South, which serves Hunan, follows
//! the issuer's signed status list; zhejiang follows it from south (it never calls Hunan's
//! service), and Zhejiang's checkpoint refuses the same code within one list refresh per hop.

use std::time::Duration;

use huren_adapters::regions::status_lists::LIST_REFRESHES;
use huren_adapters::sim::IssueInput;
use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::{Verdict, Verification};
use tonic::transport::Channel;

use super::Scene;
use super::reads::verify;
use crate::demo::check::{Checks, Timer, show};
use crate::federation::init::STATUS_LISTS_REFRESH;
use crate::federation::issue::{issue_input, set_status};
use crate::federation::launcher;
use crate::report::{answers, names};

/// Longest the scene waits for a verdict to change before it calls the check failed.
const WITHIN: Duration = Duration::from_secs(10);

/// Runs the scene; how many decisions it asked for.
pub async fn run(scene: &mut Scene<'_>, checks: &mut Checks) -> anyhow::Result<u64> {
    let hunan = RegionCode::HUNAN;
    let who = scene.people.resident(hunan);
    let input = IssueInput::new(who.id.clone(), &who.name, Colour::Green).listed();
    let payload = issue_input(&scene.dir, hunan, &input)?;
    let at_zhejiang = scene
        .federation
        .channel("zhejiang", "checkpoint", None)
        .await?;
    let (before, mut scans) = scan_until(&at_zhejiang, &payload, |v| {
        v.verdict == Verdict::Pass as i32
    })
    .await?;
    set_status(&scene.dir, hunan, &who.id, Colour::Red)?;
    let timer = Timer::start();
    let (after, rescans) = scan_until(&at_zhejiang, &payload, |v| {
        answers::first_reason(Some(v)) == "REVOKED_CODE"
    })
    .await?;
    let took = timer.elapsed();
    scans += rescans;
    println!(
        "  a Hunan e-health card (v2, {}…) scanned at zhejiang: {}; Hunan turns its holder red; {} later, with lists refreshed every {} at south and at zhejiang, the same code: {} ({})",
        &payload[..12],
        names::verdict(before.verdict),
        timer.show(),
        show(STATUS_LISTS_REFRESH),
        names::verdict(after.verdict),
        answers::first_reason(Some(&after))
    );
    // One refresh at south, one at zhejiang, and the service's own rescan of its records.
    let bound = 3 * STATUS_LISTS_REFRESH;
    checks.expect(
        "a Hunan passenger turned red is refused at zhejiang's checkpoint within one list refresh per hop (REVOKED_CODE)",
        before.verdict == Verdict::Pass as i32
            && after.verdict == Verdict::Reject as i32
            && took <= bound,
        format!(
            "before {}, after {} ({}) in {} (bound {})",
            names::verdict(before.verdict),
            names::verdict(after.verdict),
            answers::first_reason(Some(&after)),
            timer.show(),
            show(bound)
        ),
    );
    let admin = scene.federation.node("zhejiang")?.admin;
    let metrics = launcher::metrics(admin).await.unwrap_or_default();
    let from = |source: &str| {
        metrics.lines().any(|l| {
            l.starts_with(LIST_REFRESHES)
                && l.contains(r#"region="430000""#)
                && l.contains(&format!(r#"source="{source}""#))
        })
    };
    checks.expect(
        "zhejiang got Hunan's list from south, never from Hunan's service",
        from("node south") && !from("service"),
        "zhejiang's huren_status_list_refreshes_total does not show source=\"node south\" alone for 430000",
    );
    Ok(scans)
}

/// Scans at `at` until `wanted` holds or [`WITHIN`] passes; the last verification and the scans.
async fn scan_until(
    at: &Channel,
    payload: &str,
    wanted: impl Fn(&Verification) -> bool,
) -> anyhow::Result<(Verification, u64)> {
    let timer = Timer::start();
    let mut scans = 0;
    loop {
        let v = verify(at, payload).await?;
        scans += 1;
        if wanted(&v) || timer.elapsed() > WITHIN {
            return Ok((v, scans));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
