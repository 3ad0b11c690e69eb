//! `huren bench registry`: verify and load a national-size registry, apply a one-change delta,
//! report proof sizes — beside the raw signature-verify rate measured in the same run.

use std::collections::BTreeMap;
use std::time::{Duration as StdDuration, Instant};

use anyhow::Context as _;
use huren_certs::{Ca, IssuerAlgorithm, LeafSpec};
use huren_registry::ceremony::{PublishKeys, publish, signed};
use huren_registry::doc::{
    Agreement, AgreementKind, Delegation, Document, Issuer, IssuerStatus, RegionDocument,
    Revocation, Roles, Root, agreement::ANY_REGION,
};
use huren_registry::log::{inclusion_proof, leaf_hash};
use huren_registry::store::{self, Store};
use huren_registry::{Algorithm, KeySet, SigningKey, verify_state, x509};
use time::{Duration, OffsetDateTime};

/// The 31 provincial-level regions of mainland China (GB/T 2260).
const PROVINCES: [&str; 31] = [
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000",
    "320000", "330000", "340000", "350000", "360000", "370000", "410000", "420000", "430000",
    "440000", "450000", "460000", "500000", "510000", "520000", "530000", "540000", "610000",
    "620000", "630000", "640000", "650000",
];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Regions in the registry (at most 31).
    #[arg(long, default_value_t = 31, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=31))]
    pub regions: usize,
    /// Issuers (X.509 signing certificates) per region.
    #[arg(long, default_value_t = 50, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub issuers: usize,
    /// Timed repetitions of each measurement (the median is printed).
    #[arg(long, default_value_t = 5, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000))]
    pub iterations: usize,
    /// Print one JSON object on stdout (the figures go to stderr).
    #[arg(long)]
    pub json: bool,
}

fn median(mut xs: Vec<StdDuration>) -> StdDuration {
    xs.sort();
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}

fn time_n<T>(n: usize, mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<StdDuration> {
    let mut runs = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        let start = Instant::now();
        f()?;
        runs.push(start.elapsed());
    }
    Ok(median(runs))
}

fn ms(d: StdDuration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Raw verifications per second of one algorithm on a 256-byte message.
fn raw_rate(algorithm: Algorithm, n: usize) -> anyhow::Result<f64> {
    let key = SigningKey::generate(algorithm)?;
    let msg = [7u8; 256];
    let sig = key.sign(&msg)?;
    let public = key.public_key();
    let start = Instant::now();
    for _ in 0..n {
        anyhow::ensure!(
            public.verify(&msg, &sig),
            "baseline signature did not verify"
        );
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// One run of a registry load's raw-signature floor on this thread: `certs` P-256 certificate
/// checks and `signatures` Ed25519 document signatures, over messages the size of a certificate.
fn raw_floor(
    certs: usize,
    signatures: usize,
) -> anyhow::Result<impl FnMut() -> anyhow::Result<()>> {
    let msg = [7u8; 512];
    let p256 = SigningKey::generate(Algorithm::EcdsaP256)?;
    let ed = SigningKey::generate(Algorithm::Ed25519)?;
    let (p256_sig, ed_sig) = (p256.sign(&msg)?, ed.sign(&msg)?);
    let (p256, ed) = (p256.public_key(), ed.public_key());
    Ok(move || {
        for _ in 0..certs {
            anyhow::ensure!(
                p256.verify(&msg, &p256_sig),
                "baseline signature did not verify"
            );
        }
        for _ in 0..signatures {
            anyhow::ensure!(
                ed.verify(&msg, &ed_sig),
                "baseline signature did not verify"
            );
        }
        Ok(())
    })
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    crate::bench::out::set_json(args.json);
    tokio::task::spawn_blocking(move || bench(&args))
        .await
        .context("benchmark task")?
}

fn bench(args: &Args) -> anyhow::Result<()> {
    let now = huren_registry::canonical::whole_seconds(OffsetDateTime::now_utc());
    let regions = &PROVINCES[..args.regions.min(PROVINCES.len())];
    crate::say!(
        "huren bench registry: {} regions × {} issuers ({} debug build: compare ratios, not absolutes)",
        regions.len(),
        args.issuers,
        if cfg!(debug_assertions) {
            "a"
        } else {
            "an optimised, not a"
        }
    );

    // Baselines first, in the same process and run.
    let ed = raw_rate(Algorithm::Ed25519, 2000)?;
    let p256 = raw_rate(Algorithm::EcdsaP256, 2000)?;
    crate::say!("baseline  raw Ed25519 verify     {ed:>10.0}/s");
    crate::say!("baseline  raw ECDSA P-256 verify {p256:>10.0}/s");

    // A national-size registry.
    let setup = Instant::now();
    let root_ca = Ca::new_root("bench national root")?;
    let root_keys: Vec<SigningKey> = (0..3)
        .map(|_| SigningKey::generate(Algorithm::Ed25519))
        .collect::<Result<_, _>>()?;
    let ts_key = SigningKey::generate(Algorithm::Ed25519)?;
    let log_key = SigningKey::generate(Algorithm::Ed25519)?;
    let mut delegations = BTreeMap::new();
    let mut docs = Vec::new();
    let mut region_keys = BTreeMap::new();
    for code in regions {
        let ca = root_ca.new_intermediate(&format!("bench region {code} CA"))?;
        let ca_der = x509::pem_to_der(ca.cert_pem.as_bytes())?.remove(0);
        let key = SigningKey::generate(Algorithm::Ed25519)?;
        delegations.insert(
            code.to_string(),
            Delegation {
                name: format!("region {code}"),
                keys: KeySet::new([key.public_key()], 1),
                ca_certificate: ca_der,
                expires: now + Duration::days(365),
            },
        );
        let mut issuers = BTreeMap::new();
        for i in 0..args.issuers {
            let id = format!("{code}-{i:03}");
            let spec = LeafSpec {
                algorithm: IssuerAlgorithm::Ed25519,
                client_auth: false,
                code_signing: true,
                ..LeafSpec::client(&format!("bench issuer {id}"), "spiffe://bench/issuer")
            };
            let (pem, _) = ca.issue(&spec)?;
            issuers.insert(
                id,
                Issuer {
                    algorithm: Algorithm::Ed25519,
                    certificate: x509::pem_to_der(pem.as_bytes())?.remove(0),
                    not_before: now - Duration::days(1),
                    not_after: now + Duration::days(365),
                    status: IssuerStatus::Active,
                    synthetic: false,
                },
            );
        }
        docs.push(RegionDocument {
            region: code.to_string(),
            version: 1,
            expires: now + Duration::days(90),
            system: format!("code system {code}"),
            issuers,
            revocations: Vec::new(),
            status_service: None,
            concept_map: huren_registry::dev::concept_map("330000"),
            cache_ttl_secs: 30,
        });
        region_keys.insert(code.to_string(), key);
    }
    let root = Root {
        version: 1,
        expires: now + Duration::days(365),
        roles: Roles {
            root: KeySet::new(root_keys.iter().map(|k| k.public_key()), 2),
            timestamp: KeySet::new([ts_key.public_key()], 1),
            log: KeySet::new([log_key.public_key()], 1),
            witnesses: KeySet::new(root_keys.iter().map(|k| k.public_key()), 2),
        },
        log_origin: "bench/registry".into(),
        regions: delegations,
        nodes: BTreeMap::new(),
        witness_threshold: 0,
    };
    let mut changes = vec![(root.name(), signed(&root, &[&root_keys[0], &root_keys[1]])?)];
    for doc in &docs {
        let key = region_keys.get(&doc.region).context("region key")?;
        changes.push((doc.name(), signed(doc, &[key])?));
    }
    let national = Agreement {
        id: "national".into(),
        version: 1,
        expires: now + Duration::days(365),
        kind: AgreementKind::National,
        verifying: ANY_REGION.into(),
        issuing: ANY_REGION.into(),
        rules: huren_registry::doc::ColourRules::national_defaults(),
        max_code_age_secs: 72 * 3600,
        online_check_required: false,
        effective_from: now - Duration::days(1),
        effective_until: None,
        max_status_list_age_secs: None,
    };
    changes.push((
        national.name(),
        signed(&national, &[&root_keys[0], &root_keys[1]])?,
    ));
    let ts = [&ts_key];
    let lk = [&log_key];
    let keys = PublishKeys {
        timestamp: &ts,
        log: &lk,
        witnesses: &[],
        timestamp_lifetime: Duration::days(1),
    };
    let v1 = publish(None, changes, &keys, now)?;
    let scratch = Scratch::new()?;
    let dir = scratch.path.join("v1");
    store::save(&dir, &v1)?;
    let bytes = std::fs::read(dir.join(store::STATE_FILE))?;
    crate::say!(
        "setup     {} certificates issued and a registry signed in {:.1} s; registry.json {} KiB",
        regions.len() * args.issuers,
        setup.elapsed().as_secs_f64(),
        bytes.len() / 1024
    );

    // Verify + load.
    let n = args.iterations;
    let verify = time_n(n, || Ok(verify_state(v1.state(), None, now)?))?;
    let certs = regions.len() * args.issuers;
    let signatures = 2 + regions.len() + 2 + 1 + 1; // root, regions, national, timestamp, checkpoint
    // The floor is run, not extrapolated, and alternates with the load it is compared with, so
    // both see the same share of a machine other work also uses.
    let mut floor_run = raw_floor(certs, signatures)?;
    let (mut floors, mut loads, mut ratios, mut load_cpu) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n.max(1) {
        let start = Instant::now();
        floor_run()?;
        let floor = start.elapsed();
        let cpu_before = crate::bench::cpu::process_cpu(std::process::id());
        let start = Instant::now();
        store::load(&dir, None, now)?;
        let load = start.elapsed();
        if let (Some(a), Some(b)) = (
            cpu_before,
            crate::bench::cpu::process_cpu(std::process::id()),
        ) {
            load_cpu.push(b.saturating_sub(a));
        }
        ratios.push(load.as_secs_f64() / floor.as_secs_f64().max(1e-9));
        floors.push(floor);
        loads.push(load);
    }
    let (floor, load) = (median(floors).as_secs_f64(), median(loads));
    ratios.sort_by(f64::total_cmp);
    let load_over_floor = ratios.get(ratios.len() / 2).copied().unwrap_or_default();
    let load_cpu = (!load_cpu.is_empty()).then(|| median(load_cpu));
    crate::say!(
        "verify    whole registry in memory   {}  ({certs} ECDSA certificate checks + {signatures} Ed25519 document signatures; raw-signature floor {})",
        ms(verify),
        ms(StdDuration::from_secs_f64(floor))
    );
    // The floor is one core's; the verifier spreads certificate checks over every core.
    crate::say!(
        "load      read + parse + verify file {}  ({load_over_floor:.2}× the one-core raw-signature floor run beside it, median of {} pairs; {} cores; CPU of all threads {})",
        ms(load),
        ratios.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_cpu.map_or_else(|| "not measured".to_string(), ms)
    );

    // A one-change delta: one region revokes one issuer.
    let code = regions.first().context("no region")?;
    let mut doc = docs.first().context("no region document")?.clone();
    let first_issuer = doc.issuers.keys().next().cloned().unwrap_or_default();
    doc.revocations.push(Revocation {
        issuer: first_issuer,
        effective_from: now,
        reason: huren_registry::doc::region::RevocationReason::Retired,
    });
    doc.version = 2;
    let key = region_keys.get(*code).context("region key")?;
    let delta_env = signed(&doc, &[key])?;
    let build = Instant::now();
    let v2 = publish(Some(&v1), vec![(doc.name(), delta_env)], &keys, now)?;
    let publish_time = build.elapsed();
    let apply_verify = time_n(n, || Ok(verify_state(v2.state(), Some(&v1), now)?))?;
    let mut apply_disk = Vec::new();
    for i in 0..n.max(1) {
        let d = scratch.path.join(format!("apply-{i}"));
        store::save(&d, &v1)?;
        let mut st = Store::open(&d, now)?;
        let start = Instant::now();
        st.apply(v2.state(), now)?;
        apply_disk.push(start.elapsed());
    }
    // On a delta only the changed document, the timestamp and the checkpoint are new; the
    // envelopes the held state already accepted are not verified again.
    let delta_signatures = 3;
    let delta_floor = args.issuers as f64 / p256 + delta_signatures as f64 / ed;
    crate::say!(
        "delta     publish one revocation {}; verify against the held state {} ({:.2}× the one-core floor of re-checking its {} certificates + {delta_signatures} signatures; unchanged envelopes and certificates keep the held checks); apply (verify + atomic write + fsync) {}",
        ms(publish_time),
        ms(apply_verify),
        apply_verify.as_secs_f64() / delta_floor,
        args.issuers,
        ms(median(apply_disk))
    );

    // Proof sizes.
    let leaves = v2.leaves();
    let leaf = leaf_hash(
        &v2.state()
            .documents
            .get(&doc.name())
            .context("delta document")?
            .signed_bytes(),
    );
    let (index, proof) = v2.prove_inclusion(&leaf, leaves.len() as u64)?;
    let consistency = v2.prove_consistency(v1.checkpoint().tree_size, leaves.len() as u64)?;
    let big: Vec<[u8; 32]> = (0..1_000_000u32)
        .map(|i| leaf_hash(&i.to_be_bytes()))
        .collect();
    let big_proof = inclusion_proof(123_456, &big)?;
    crate::say!(
        "proofs    log of {} leaves: inclusion of leaf #{index} {} hashes ({} B); consistency {}→{} {} hashes ({} B); a 1,000,000-leaf log: inclusion {} hashes ({} B)",
        leaves.len(),
        proof.len(),
        proof.len() * 32,
        v1.checkpoint().tree_size,
        leaves.len(),
        consistency.len(),
        consistency.len() * 32,
        big_proof.len(),
        big_proof.len() * 32
    );
    crate::bench::out::report(&serde_json::json!({
        "regions": regions.len(),
        "issuers": args.issuers,
        "verify_ms": verify.as_secs_f64() * 1e3,
        "load_ms": load.as_secs_f64() * 1e3,
        "floor_ms": floor * 1e3,
        "load_over_floor": load_over_floor,
        "load_cpu_ms": load_cpu.map(|d| d.as_secs_f64() * 1e3),
        "delta_verify_ms": apply_verify.as_secs_f64() * 1e3,
        "delta_floor_ms": delta_floor * 1e3,
    }));
    Ok(())
}

/// A scratch directory under the system temp dir, removed when the benchmark ends.
struct Scratch {
    path: std::path::PathBuf,
}

impl Scratch {
    fn new() -> anyhow::Result<Self> {
        let path =
            std::env::temp_dir().join(format!("huren-bench-registry-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
