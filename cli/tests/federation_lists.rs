//! Status lists carried node to node, on the four-node federation of `huren federation init` run
//! as separate processes: a Hunan v2 code checked at zhejiang (which does not serve Hunan and
//! calls no Hunan service) passes, is REJECT REVOKED_CODE once `huren region set-status` turns
//! its holder red and south carries the next list over as a delta, and with south killed the
//! list held at zhejiang ages out: REVIEW STATUS_LIST_STALE, never PASS.

#[path = "support/federation.rs"]
mod federation;
#[allow(dead_code)] // this test runs `huren` only through `huren_within`
mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use huren_adapters::sim::IssueInput;
use huren_adapters::{Colour, RegionCode, ResidentId};
use huren_cli::federation::issue::issue_input;
use huren_cli::federation::launcher;
use huren_proto::v1::{Verdict, Verification};
use time::OffsetDateTime;
use tonic::transport::Channel;

/// Longest any expected change may take: many refreshes.
const WITHIN: Duration = Duration::from_secs(20);

fn first_reason(v: &Verification) -> &str {
    v.reasons.first().map(|r| r.code.as_str()).unwrap_or("")
}

/// Scans until the verdict and first reason are the ones wanted, or [`WITHIN`] passes; every
/// verification seen on the way.
async fn scan_until(
    at: &Channel,
    payload: &str,
    verdict: Verdict,
    reason: &str,
) -> Vec<Verification> {
    let until = Instant::now() + WITHIN;
    let mut seen = Vec::new();
    loop {
        let v = federation::verify(at, payload).await;
        let done = v.verdict() == verdict && first_reason(&v) == reason;
        seen.push(v);
        if done || Instant::now() > until {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of every `family` line of `metrics` whose labels include all of `labels`, summed.
fn counted(metrics: &str, family: &str, labels: &[&str]) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(family) && labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn a_hunan_code_is_withdrawn_at_zhejiang_through_south_and_goes_stale_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut federation, dir) = federation::start(&tmp).await;
    let zhejiang = federation.node("zhejiang").unwrap().clone();
    let south = federation.node("south").unwrap().clone();
    let hunan_service = federation
        .file
        .regions
        .iter()
        .find(|r| r.region == "430000")
        .expect("Hunan's service in the federation")
        .listen;
    // Zhejiang neither serves Hunan nor is configured with anything of Hunan's service.
    assert!(!zhejiang.serves.contains(&"430000".to_string()));
    assert!(south.serves.contains(&"430000".to_string()));
    let config = std::fs::read_to_string(dir.join(&zhejiang.config)).unwrap();
    assert!(
        !config.contains(&hunan_service.port().to_string()),
        "{config}"
    );

    let id = ResidentId::from_first17("43010219900101041").expect("17 digits");
    let input = IssueInput::new(id.clone(), "赵六", Colour::Green).listed();
    let payload = issue_input(&dir, RegionCode::HUNAN, &input).unwrap();
    assert!(payload.starts_with("EHC2:430000:"), "{payload}");
    let at_zhejiang = federation::checkpoint_at_zhejiang(&federation).await;
    let passed = scan_until(&at_zhejiang, &payload, Verdict::Pass, "AGREEMENT_RULE").await;
    let passed = passed.last().unwrap();
    assert_eq!(passed.verdict(), Verdict::Pass, "{passed:?}");

    let set_status = [
        "region",
        "set-status",
        "--region",
        "430000",
        "--id",
        id.expose(),
        "--colour",
        "RED",
        "--data",
        "regions/430000",
    ];
    let out = support::huren_within(&set_status, &dir, Stdio::piped(), Duration::from_secs(60));
    assert!(out.status.success(), "{out:?}");
    let refused = scan_until(&at_zhejiang, &payload, Verdict::Reject, "REVOKED_CODE").await;
    let refused = refused.last().unwrap();
    assert_eq!(first_reason(refused), "REVOKED_CODE", "{refused:?}");

    // Zhejiang got Hunan's lists from south and never from Hunan's service; south sent deltas.
    let family = "huren_status_list_refreshes_total";
    let at_z = launcher::metrics(zhejiang.admin)
        .await
        .expect("zhejiang's metrics");
    let hunan = r#"region="430000""#;
    let installed = [hunan, r#"source="node south""#, r#"outcome="installed""#];
    assert!(counted(&at_z, family, &installed) >= 2.0, "{at_z}");
    assert_eq!(
        counted(&at_z, family, &[hunan, r#"source="service""#]),
        0.0,
        "{at_z}"
    );
    let at_s = launcher::metrics(south.admin)
        .await
        .expect("south's metrics");
    let carried = "huren_status_lists_carried_total";
    assert!(
        counted(&at_s, carried, &[hunan, r#"answer="delta""#]) >= 1.0,
        "{at_s}"
    );
    assert!(
        counted(
            &at_s,
            family,
            &[hunan, r#"source="service""#, r#"outcome="installed""#]
        ) >= 2.0,
        "{at_s}"
    );

    // Lists at most 3 s old from now on; then south dies and nobody carries Hunan's lists.
    let registry = dir.join("registry");
    let mut dev = huren_registry::dev::DevRegistry::open(&registry, OffsetDateTime::now_utc())
        .expect("the federation's registry");
    let mut national = huren_registry::dev::agreements(OffsetDateTime::now_utc())
        .into_iter()
        .find(|a| a.id == "national")
        .expect("national agreement");
    national.max_status_list_age_secs = Some(3);
    dev.put_agreement(national, OffsetDateTime::now_utc())
        .expect("agreement published");
    dev.save(&registry).expect("saved");
    federation.kill_node("south").unwrap();
    let aged = scan_until(&at_zhejiang, &payload, Verdict::Review, "STATUS_LIST_STALE").await;
    let last = aged.last().unwrap();
    assert_eq!(last.verdict(), Verdict::Review, "{last:?}");
    assert_eq!(first_reason(last), "STATUS_LIST_STALE", "{last:?}");
    assert!(
        aged.iter().all(|v| v.verdict() != Verdict::Pass),
        "{aged:?}"
    );
}
