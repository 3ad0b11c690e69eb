//! Scene 7: the reverse-testing prober (反向测试) on a representative part of the matrix — a
//! clean run — then an agreement re-signed without the concept map change it relies on, caught
//! with its region pair.
//!
//! The whole matrix (six verifying provinces × 21 status words) takes a few seconds more than
//! this scene may; `huren probe` without `--verifying`/`--issuing` probes all of it.

use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_registry::dev::DevRegistry;
use huren_registry::{Rule, Verdict};
use time::OffsetDateTime;

use super::Scene;
use super::reads::indent;
use crate::demo::check::{Checks, Timer};
use crate::federation::layout::REGISTRY_DIR;
use crate::probe::{Round, Scope, report, run_round};

/// Nodes look for a newly published registry every 500 ms.
const PICKED_UP: Duration = Duration::from_secs(5);

pub async fn run(scene: &mut Scene<'_>, checks: &mut Checks) -> anyhow::Result<()> {
    // Zhejiang's and Guangdong's rules, at zhejiang and south, for codes read online at home
    // (Zhejiang), forwarded to another node (Henan), and signed (Hubei, every one of its words).
    let scope = Scope {
        verifying: vec![RegionCode::ZHEJIANG, RegionCode::GUANGDONG],
        issuing: vec![RegionCode::ZHEJIANG, RegionCode::HENAN, RegionCode::HUBEI],
    };
    let timer = Timer::start();
    let clean = run_round(&scene.dir, &scope, &mut scene.people).await?;
    println!(
        "  huren probe --verifying 330000 --verifying 440000 --issuing 330000 --issuing 410000 --issuing 420000 \
         (a representative part of the matrix; without those flags it probes all 126 verdicts) in {}",
        timer.show()
    );
    print!("{}", indent(&report::text(&clean)));
    checks.expect(
        "the prober's clean run: every verdict is the one the registry predicts, every node on the newest registry",
        clean.is_clean() && clean.checks > 0,
        format!("{:?} {:?}", clean.pairs(), clean.stale_nodes),
    );

    let version = reword_hubei_grey(scene)?;
    println!(
        "  Guangdong and Hubei re-sign 440000-420000: Hubei's grey (灰码) goes home for 7 days — \
         but Hubei's concept map still says 灰码 is PENDING (registry version {version})"
    );
    let seeded = Scope {
        verifying: vec![RegionCode::GUANGDONG],
        issuing: vec![RegionCode::HUBEI],
    };
    let caught = probe_once_picked_up(scene, &seeded, version).await?;
    print!("{}", indent(&report::text(&caught)));
    let pair = ("440000".to_string(), "420000".to_string());
    checks.expect(
        "the seeded mismatch is caught and named: Guangdong (440000) judging Hubei (420000), 灰码 predicted HOME_QUARANTINE, got REVIEW",
        caught.pairs() == vec![pair]
            && caught
                .mismatches
                .iter()
                .all(|m| m.issued_label == "灰码" && m.got == "REVIEW"),
        format!("{:?}", caught.mismatches),
    );
    Ok(())
}

/// Publishes 440000-420000 with PENDING → HOME_QUARANTINE (7 days); the new registry version.
fn reword_hubei_grey(scene: &Scene<'_>) -> anyhow::Result<u64> {
    let now = OffsetDateTime::now_utc();
    let dir = scene.dir.join(REGISTRY_DIR);
    let mut dev = DevRegistry::open(&dir, now)?;
    let mut agreement = dev
        .registry
        .agreements()
        .find(|a| a.id == "440000-420000")
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the registry has no agreement 440000-420000"))?;
    agreement
        .rules
        .set(Colour::Pending, Rule::new(Verdict::HomeQuarantine, 7));
    let version = dev.put_agreement(agreement, now)?.version();
    huren_registry::store::save(&dir, &dev.registry)?;
    Ok(version)
}

/// A round once every node serves `version` (a round naming a stale node is asked again).
async fn probe_once_picked_up(
    scene: &mut Scene<'_>,
    scope: &Scope,
    version: u64,
) -> anyhow::Result<Round> {
    let since = Timer::start();
    loop {
        let round = run_round(&scene.dir, scope, &mut scene.people).await?;
        if round.stale_nodes.is_empty() || since.elapsed() > PICKED_UP {
            return Ok(round);
        }
        tracing::debug!(version, "a node has not picked the new registry up yet");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
