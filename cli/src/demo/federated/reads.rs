//! Scenes 1 and 3, reads at zhejiang: offline-signed codes are judged there; an online read of
//! a region zhejiang does not serve goes to the node that serves it (forwarding).

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::manifests_service_client::ManifestsServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    Boarding, CheckManifestRequest, Manifest, Passenger, StatusSource, Verdict, Verification,
    VerifyCodeRequest,
};
use time::OffsetDateTime;
use tonic::transport::Channel;

use super::{SCAN_DEADLINE, Scene};
use crate::demo::check::{Checks, Timer, bulk};
use crate::federation::issue::KNOWN_AFTER;
use crate::federation::layout::serving_node;
use crate::report::names;
use crate::report::status::CallError;

const TRAIN: &str = "Z2020-F";
const RIDERS: usize = 20;

/// Regions whose codes zhejiang reads online under Zhejiang's rules: its own and Henan's online
/// codes, and Sichuan's signed codes, which Zhejiang's agreement checks live.
const READ_ONLINE: [&str; 3] = ["330000", "410000", "510000"];

/// Scene 1: the carrier checks the train at zhejiang; the number of decisions made.
pub async fn train(scene: &mut Scene<'_>, checks: &mut Checks) -> anyhow::Result<u64> {
    let mut passengers = Vec::new();
    for seat in 1..=RIDERS {
        let (_, payload) = scene.issue(RegionCode::SICHUAN, Colour::Green)?;
        passengers.push(Passenger {
            seat: format!("{seat:02}A"),
            payload,
        });
    }
    tokio::time::sleep(KNOWN_AFTER).await;
    let channel = scene
        .federation
        .channel("zhejiang", "carrier", Some("510000"))
        .await?;
    let manifest = Manifest {
        train_id: TRAIN.to_string(),
        origin_region: "510000".into(),
        destination_region: "330100".into(),
        departure_time: Some(huren::recognition::wire::timestamp(
            OffsetDateTime::now_utc() + time::Duration::hours(2),
        )),
        passengers,
    };
    let timer = Timer::start();
    let answer = ManifestsServiceClient::new(channel)
        .check_manifest(bulk(CheckManifestRequest {
            manifest: Some(manifest),
        }))
        .await
        .map_err(|s| CallError::context("CheckManifest at zhejiang", s))?
        .into_inner();
    let count = |b: Boarding| {
        answer
            .decisions
            .iter()
            .filter(|d| d.boarding() == b)
            .count()
    };
    let (board, review, deny) = (
        count(Boarding::Board),
        count(Boarding::Review),
        count(Boarding::Deny),
    );
    println!(
        "  {RIDERS} passengers with Sichuan codes (天府健康通), CheckManifest at zhejiang in {}: {board} BOARD, {review} REVIEW, {deny} DENY",
        timer.show()
    );
    let rejected = answer
        .decisions
        .iter()
        .filter(|d| {
            d.error.is_some()
                || d.verification
                    .as_ref()
                    .is_some_and(|v| v.verdict() == Verdict::Reject)
        })
        .count();
    checks.equal(
        "every Sichuan code's signature verified at zhejiang itself (none refused)",
        rejected,
        0,
    );
    let what = "Sichuan's live checks forwarded to west: every green passenger boards";
    checks.equal(what, board, RIDERS);
    Ok(RIDERS as u64)
}

/// Scene 3: the Yuhang checkpoint scans one green code of each region at zhejiang.
pub async fn checkpoint(scene: &mut Scene<'_>, checks: &mut Checks) -> anyhow::Result<u64> {
    let mut codes = Vec::new();
    for region in crate::loopback::stack::REGIONS {
        codes.push((region, scene.issue(region, Colour::Green)?.1));
    }
    tokio::time::sleep(KNOWN_AFTER).await;
    let channel = scene
        .federation
        .channel("zhejiang", "checkpoint", Some("330110"))
        .await?;
    let (mut local_pass, mut local_total, mut remote_pass) = (0, 0, 0);
    let mut table = crate::report::Table::new(["region", "", "served by", "verdict", "source"]);
    for (region, payload) in &codes {
        let v = verify(&channel, payload).await?;
        let code = region.as_str();
        let serving = serving_node(code).map_or("-", |n| n.id);
        table.row([
            code.to_string(),
            names::region(code).to_string(),
            serving.to_string(),
            names::verdict(v.verdict).to_string(),
            names::source(v.source).to_string(),
        ]);
        let remote = serving != "zhejiang" && READ_ONLINE.contains(&code);
        let pass = v.verdict() == Verdict::Pass;
        match remote {
            true => remote_pass += usize::from(pass),
            false => {
                local_total += 1;
                local_pass += usize::from(pass);
            }
        }
    }
    print!("{}", indent(&table.to_string()));
    checks.equal(
        "Zhejiang's own code and the offline-signed codes of four regions pass at zhejiang",
        local_pass,
        local_total,
    );
    let what = "Henan's and Sichuan's online reads forwarded to west: both pass";
    checks.equal(what, remote_pass, 2);
    Ok(codes.len() as u64)
}

/// One scan with a checkpoint's deadline.
pub async fn verify(channel: &Channel, payload: &str) -> anyhow::Result<Verification> {
    let mut request = tonic::Request::new(VerifyCodeRequest {
        payload: payload.to_string(),
        verifying_region: String::new(),
        purpose: "federation-demo".into(),
    });
    request.set_timeout(SCAN_DEADLINE);
    RecognitionServiceClient::new(channel.clone())
        .verify_code(request)
        .await
        .map_err(|s| CallError::context("VerifyCode", s))?
        .into_inner()
        .verification
        .ok_or_else(|| anyhow::anyhow!("VerifyCode answered without a verification"))
}

/// Whether `v` is the REVIEW a region that could not be read gives.
pub fn degraded(v: &Verification) -> bool {
    v.verdict() == Verdict::Review && v.source() == StatusSource::Degraded
}

pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}
