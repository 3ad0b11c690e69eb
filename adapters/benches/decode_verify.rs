//! Per region: decode + verify of one payload on one core, beside the raw signature-verify rate of
//! the same algorithm in the same run. The ratio read/raw is the figure: it says what the codec,
//! the registry lookup and the field checks cost on top of the cryptography.
//!
//! `cargo bench -p huren-adapters --bench decode_verify` (about a minute after the build);
//! `... --bench decode_verify -- table` prints only the ratio table.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use huren_adapters::regions::{henan, zhejiang};
use huren_adapters::testing::{FakeLookup, SIGNED_REGIONS, TestIssuers, context};
use huren_adapters::{CodeId, KeyAlgorithm, RegionCode, default_adapters};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use time::OffsetDateTime;

/// Offline reads never wait on anything, so one poll finishes them; no runtime in the loop.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("an offline read waited"),
    }
}

struct Fixture {
    issuers: TestIssuers,
    now: OffsetDateTime,
    payloads: Vec<(RegionCode, String)>,
}

fn fixture() -> Fixture {
    let issuers = TestIssuers::generate().expect("keys");
    let now = OffsetDateTime::now_utc();
    let payloads = issuers.sample_payloads("张三", now);
    Fixture {
        issuers,
        now,
        payloads,
    }
}

/// A raw verification of a message as long as a region's signed text, key parsed once.
struct Raw {
    message: Vec<u8>,
    signature: Vec<u8>,
    ed: Option<ed25519_dalek::VerifyingKey>,
    p256: Vec<u8>,
}

impl Raw {
    fn new(f: &Fixture, algorithm: KeyAlgorithm) -> Self {
        let (region, _, _) = SIGNED_REGIONS
            .iter()
            .find(|(_, _, a)| *a == algorithm)
            .expect("a region with this algorithm");
        let payload = &f
            .payloads
            .iter()
            .find(|(r, _)| r == region)
            .expect("payload")
            .1;
        let message = payload.as_bytes()[..payload.len() / 2].to_vec();
        let signer = f.issuers.signer(*region);
        let signature = signer.sign(&message).expect("sign");
        let public = signer.public_key().public_key;
        let ed = (algorithm == KeyAlgorithm::Ed25519).then(|| {
            ed25519_dalek::VerifyingKey::from_bytes(&public.clone().try_into().expect("32 bytes"))
                .expect("key")
        });
        Self {
            message,
            signature,
            ed,
            p256: public,
        }
    }

    fn verify(&self) -> bool {
        match &self.ed {
            Some(vk) => {
                let sig = ed25519_dalek::Signature::from_slice(&self.signature).expect("sig");
                vk.verify_strict(&self.message, &sig).is_ok()
            }
            None => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.p256)
                .verify(&self.message, &self.signature)
                .is_ok(),
        }
    }
}

fn algorithm_name(a: KeyAlgorithm) -> &'static str {
    match a {
        KeyAlgorithm::Ed25519 => "ed25519",
        KeyAlgorithm::EcdsaP256Sha256 => "p256",
    }
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    let set = default_adapters().expect("adapters");
    let lookup = FakeLookup::new();
    let ctx = context(&f.issuers.ring, &lookup, f.now);

    let mut g = c.benchmark_group("raw_verify");
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256Sha256] {
        let raw = Raw::new(&f, algorithm);
        assert!(raw.verify());
        g.bench_function(algorithm_name(algorithm), |b| {
            b.iter(|| black_box(raw.verify()))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("decode_verify");
    for (region, payload) in &f.payloads {
        let adapter = set.claim(payload).expect("claimed");
        assert!(ready(adapter.read(payload, &ctx)).is_ok());
        g.bench_function(region.as_str(), |b| {
            b.iter(|| black_box(ready(adapter.read(black_box(payload), &ctx)).is_ok()))
        });
    }
    g.finish();

    // Online regions: only the QR parse is local; the lookup is the network client's benchmark.
    let mut g = c.benchmark_group("parse_online");
    let zj = zhejiang::payload(&CodeId::random(), None);
    let ha = henan::payload(&CodeId::random());
    g.bench_function("330000", |b| {
        b.iter(|| black_box(zhejiang::parse(black_box(&zj)).is_ok()))
    });
    g.bench_function("410000", |b| {
        b.iter(|| black_box(henan::parse(black_box(&ha)).is_ok()))
    });
    g.finish();

    // `cargo test --benches` runs each benchmark once as a smoke test; the table is for `cargo bench`.
    if std::env::args().any(|a| a == "--bench") {
        summary(&f, &set, &ctx);
    }
}

/// The ratio table. Raw and read are measured in alternating short windows and the best window
/// of each counts: on a shared machine other load only ever slows a window down, so best-of is
/// the fairest comparison of the two in the same run.
fn summary(f: &Fixture, set: &huren_adapters::AdapterSet, ctx: &huren_adapters::ReadContext<'_>) {
    fn window(op: &mut dyn FnMut() -> bool) -> f64 {
        let budget = Duration::from_millis(100);
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < budget {
            for _ in 0..32 {
                black_box(op());
            }
            n += 32;
        }
        n as f64 / start.elapsed().as_secs_f64()
    }
    println!(
        "\nregion  algorithm  reads/s   raw verifies/s  read/raw   (best of 8 alternating 100 ms windows)"
    );
    for (region, payload) in &f.payloads {
        let algorithm = SIGNED_REGIONS
            .iter()
            .find(|(r, _, _)| r == region)
            .map(|(_, _, a)| *a)
            .expect("signed region");
        let adapter = set.claim(payload).expect("claimed");
        let raw = Raw::new(f, algorithm);
        let (mut raw_rate, mut read_rate) = (0f64, 0f64);
        for _ in 0..8 {
            raw_rate = raw_rate.max(window(&mut || raw.verify()));
            read_rate = read_rate.max(window(&mut || ready(adapter.read(payload, ctx)).is_ok()));
        }
        println!(
            "{region}  {:<9}  {read_rate:>8.0}  {raw_rate:>14.0}  {:>7.2}",
            algorithm_name(algorithm),
            read_rate / raw_rate
        );
    }
}

criterion_group! {
    name = group;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
}
