//! Per region: decode + verify of one payload on one core, beside the raw signature-verify rate of
//! the same algorithm in the same run. Hunan appears twice: its P-256 issuer and its SM2 one. The ratio read/raw is the figure: it says what the codec,
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
use huren_adapters::codec::IssuerSigner;
use huren_adapters::issue::{IssueRequest, IssueStatus, issue};
use huren_adapters::regions::{henan, zhejiang};
use huren_adapters::testing::{FakeLookup, SIGNED_REGIONS, TestIssuers, context, resident_id};
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
    /// Hunan's second issuer, SM2 with SM3, listed in `issuers.ring` beside the P-256 one.
    sm2: IssuerSigner,
    now: OffsetDateTime,
    /// Region, the algorithm of its signature, payload.
    payloads: Vec<(RegionCode, KeyAlgorithm, String)>,
}

fn fixture() -> Fixture {
    let mut issuers = TestIssuers::generate().expect("keys");
    let now = OffsetDateTime::now_utc();
    let mut payloads: Vec<_> = issuers
        .sample_payloads("张三", now)
        .into_iter()
        .map(|(region, payload)| {
            let algorithm = SIGNED_REGIONS
                .iter()
                .find(|(r, _, _)| *r == region)
                .map(|(_, _, a)| *a)
                .expect("signed region");
            (region, algorithm, payload)
        })
        .collect();
    let sm2 = IssuerSigner::generate("hn-sm2-2026-01", KeyAlgorithm::Sm2Sm3).expect("sm2 key");
    issuers
        .ring
        .add_issuer(RegionCode::HUNAN, sm2.issuer_id(), sm2.public_key());
    let request = IssueRequest::new(
        resident_id(),
        "张三",
        IssueStatus::Label("绿码".into()),
        now + time::Duration::days(1),
    );
    let payload = issue(RegionCode::HUNAN, &request, &sm2, now).expect("sm2 code");
    payloads.push((RegionCode::HUNAN, KeyAlgorithm::Sm2Sm3, payload));
    Fixture {
        sm2,
        issuers,
        now,
        payloads,
    }
}

/// A raw verification of a message as long as a region's signed text, key parsed once.
struct Raw {
    message: Vec<u8>,
    signature: Vec<u8>,
    key: RawKey,
}

enum RawKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(Vec<u8>),
    Sm2(sm2::dsa::VerifyingKey),
}

impl Raw {
    fn new(f: &Fixture, region: RegionCode, algorithm: KeyAlgorithm) -> Self {
        let signer = match algorithm {
            KeyAlgorithm::Sm2Sm3 => &f.sm2,
            _ => f.issuers.signer(region),
        };
        let payload = &f
            .payloads
            .iter()
            .find(|(r, a, _)| *r == region && *a == algorithm)
            .expect("payload")
            .2;
        let message = payload.as_bytes()[..payload.len() / 2].to_vec();
        let signature = signer.sign(&message).expect("sign");
        let public = signer.public_key().public_key;
        let key = match algorithm {
            KeyAlgorithm::Ed25519 => RawKey::Ed25519(
                ed25519_dalek::VerifyingKey::from_bytes(&public.try_into().expect("32 bytes"))
                    .expect("key"),
            ),
            KeyAlgorithm::EcdsaP256Sha256 => RawKey::P256(public),
            KeyAlgorithm::Sm2Sm3 => {
                RawKey::Sm2(huren_adapters::codec::verify::sm2_key(&public).expect("sm2 key"))
            }
        };
        Self {
            message,
            signature,
            key,
        }
    }

    fn verify(&self) -> bool {
        match &self.key {
            RawKey::Ed25519(vk) => {
                let sig = ed25519_dalek::Signature::from_slice(&self.signature).expect("sig");
                vk.verify_strict(&self.message, &sig).is_ok()
            }
            RawKey::P256(public) => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public)
                .verify(&self.message, &self.signature)
                .is_ok(),
            RawKey::Sm2(vk) => {
                use sm2::dsa::signature::Verifier as _;
                let sig = sm2::dsa::Signature::from_slice(&self.signature).expect("sig");
                vk.verify(&self.message, &sig).is_ok()
            }
        }
    }
}

fn algorithm_name(a: KeyAlgorithm) -> &'static str {
    match a {
        KeyAlgorithm::Ed25519 => "ed25519",
        KeyAlgorithm::EcdsaP256Sha256 => "p256",
        KeyAlgorithm::Sm2Sm3 => "sm2",
    }
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    let set = default_adapters().expect("adapters");
    let lookup = FakeLookup::new();
    let ctx = context(&f.issuers.ring, &lookup, f.now);

    let mut g = c.benchmark_group("raw_verify");
    for (region, algorithm) in [
        (RegionCode::GUANGDONG, KeyAlgorithm::Ed25519),
        (RegionCode::SICHUAN, KeyAlgorithm::EcdsaP256Sha256),
        (RegionCode::HUNAN, KeyAlgorithm::Sm2Sm3),
    ] {
        let raw = Raw::new(&f, region, algorithm);
        assert!(raw.verify());
        g.bench_function(algorithm_name(algorithm), |b| {
            b.iter(|| black_box(raw.verify()))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("decode_verify");
    for (region, algorithm, payload) in &f.payloads {
        let adapter = set.claim(payload).expect("claimed");
        assert!(ready(adapter.read(payload, &ctx)).is_ok());
        let name = match algorithm {
            KeyAlgorithm::Sm2Sm3 => format!("{region} sm2"),
            _ => region.as_str().to_string(),
        };
        g.bench_function(name, |b| {
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
    for (region, algorithm, payload) in &f.payloads {
        let algorithm = *algorithm;
        let adapter = set.claim(payload).expect("claimed");
        let raw = Raw::new(f, *region, algorithm);
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
