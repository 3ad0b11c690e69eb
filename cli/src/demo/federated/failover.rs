//! Scene 5: west, serving Sichuan and Henan, is SIGKILLed. Their online reads at zhejiang turn
//! REVIEW (DEGRADED) within the caller's deadline, other regions are unaffected, and the
//! national summary is partial, naming west. A registry version is published meanwhile.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::GetRegistryRequest;
use huren_proto::v1::registry_service_client::RegistryServiceClient;
use huren_registry::dev::DevRegistry;
use time::OffsetDateTime;

use super::reads::{degraded, verify};
use super::{SCAN_DEADLINE, Scene};
use crate::demo::check::{Checks, Timer};
use crate::federation::issue::KNOWN_AFTER;
use crate::federation::layout::REGISTRY_DIR;
use crate::report::status::CallError;

/// How long national may take to gather k cosignatures on a new version.
const ACTED_WITHIN: std::time::Duration = std::time::Duration::from_secs(8);

/// Returns the registry version published while west was down.
pub async fn run(scene: &mut Scene<'_>, checks: &mut Checks) -> anyhow::Result<u64> {
    let mut codes = Vec::new();
    for region in [
        RegionCode::SICHUAN,
        RegionCode::HENAN,
        RegionCode::ZHEJIANG,
        RegionCode::GUANGDONG,
    ] {
        codes.push((region, scene.issue(region, Colour::Green)?.1));
    }
    tokio::time::sleep(KNOWN_AFTER).await;
    scene.federation.kill_node("west")?;
    println!("  kill -KILL west");

    let channel = scene
        .federation
        .channel("zhejiang", "checkpoint", Some("330110"))
        .await?;
    let (mut west_degraded, mut others_pass) = (0, 0);
    let mut slowest = std::time::Duration::ZERO;
    for (region, payload) in &codes {
        let timer = Timer::start();
        let v = verify(&channel, payload).await?;
        slowest = slowest.max(timer.elapsed());
        println!(
            "  {} code at zhejiang: {} ({}) in {}",
            crate::report::names::region(region.as_str()),
            crate::report::names::verdict(v.verdict),
            crate::report::names::source(v.source),
            timer.show()
        );
        match region.as_str() {
            "510000" | "410000" => west_degraded += usize::from(degraded(&v)),
            _ => others_pass += usize::from(v.verdict() == huren_proto::v1::Verdict::Pass),
        }
    }
    checks.expect(
        "Sichuan and Henan online reads are REVIEW (DEGRADED) within the deadline",
        west_degraded == 2 && slowest < SCAN_DEADLINE,
        format!("{west_degraded} of 2 degraded, slowest {slowest:?}"),
    );
    checks.equal(
        "Zhejiang and Guangdong are unaffected: both pass",
        others_pass,
        2,
    );

    let national = scene
        .federation
        .channel("national", "national", None)
        .await?;
    let timer = Timer::start();
    let summary = super::summary::ask(&national).await?;
    println!(
        "  national summary in {}: partial = {}; {}",
        timer.show(),
        summary.partial,
        crate::report::answers::federation_lines(&summary.nodes, &summary.missing_nodes)
            .trim_end()
            .replace('\n', "; ")
    );
    checks.expect(
        "the national summary is partial and names west as missing",
        summary.partial
            && summary.missing_nodes.len() == 1
            && summary.missing_nodes[0].node_id == "west",
        format!("{:?}", summary.missing_nodes),
    );

    let now = OffsetDateTime::now_utc();
    let registry = scene.dir.join(REGISTRY_DIR);
    let mut dev = DevRegistry::open(&registry, now)?;
    let version = dev.refresh(now)?.version();
    huren_registry::store::save(&registry, &dev.registry)?;
    println!("  national publishes registry version {version} while west is down");
    // national acts on it once k witnesses (itself, zhejiang, south: west is down) cosigned it.
    // Asked of its registry service alone: a fanned-out summary would keep knocking on west.
    let timer = Timer::start();
    let mut serving = 0;
    let mut registry_service = RegistryServiceClient::new(national);
    while timer.elapsed() < ACTED_WITHIN && serving != version {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        serving = registry_service
            .get_registry(GetRegistryRequest::default())
            .await
            .map_err(|s| CallError::context("GetRegistry at national", s))?
            .into_inner()
            .version;
    }
    println!(
        "  national serves version {serving} after {} (cosigned without west)",
        timer.show()
    );
    checks.equal(
        "national acts on the new version once k witnesses cosigned it, west down",
        serving,
        version,
    );
    Ok(version)
}
