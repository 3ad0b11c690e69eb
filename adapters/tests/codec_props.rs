//! Property tests over every region's parser: arbitrary bytes never panic, a mutated signed
//! payload is never accepted, and whatever the issuing side signs reads back unchanged.
//!
//! 256 cases per property by default (CI-sized); `PROPTEST_CASES=20000 cargo test -p
//! huren-adapters --test codec_props` runs deeper.

use std::sync::OnceLock;

use huren_adapters::testing::{
    FakeLookup, SIGNED_REGIONS, TestIssuers, context, flat, resident_id,
};
use huren_adapters::{
    AdapterSet, CodeError, IssueRequest, IssueStatus, RegionCode, default_adapters, issue,
    verify_signed, vocabulary,
};
use proptest::prelude::*;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2020-03-01 08:00 UTC);

struct World {
    issuers: TestIssuers,
    set: AdapterSet,
    rt: tokio::runtime::Runtime,
    /// One valid payload per signed region.
    valid: Vec<(RegionCode, String)>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let issuers = TestIssuers::generate().expect("test keys");
        let valid = issuers.sample_payloads("欧阳娜娜", NOW);
        World {
            issuers,
            set: default_adapters().expect("default adapters"),
            rt: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime"),
            valid,
        }
    })
}

/// Offers the payload to the adapter set the way the gateway does.
fn read(payload: &str) -> Result<huren_adapters::NativeReading, CodeError> {
    let w = world();
    let lookup = FakeLookup::new();
    let ctx = context(&w.issuers.ring, &lookup, NOW);
    let adapter = w.set.claim(payload)?;
    w.rt.block_on(adapter.read(payload, &ctx)).map(flat)
}

/// Offers the payloads the way the gateway's batch engine does: their Ed25519 signatures checked
/// together first, then each read with what that check passed.
fn read_batched(payloads: &[String]) -> Vec<Result<huren_adapters::NativeReading, CodeError>> {
    let w = world();
    let lookup = FakeLookup::new();
    let verified = verify_signed(payloads.iter().map(String::as_str), &w.issuers.ring);
    let mut ctx = context(&w.issuers.ring, &lookup, NOW);
    ctx.verified = Some(&verified);
    payloads
        .iter()
        .map(|p| {
            let adapter = w.set.claim(p)?;
            w.rt.block_on(adapter.read(p, &ctx)).map(flat)
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, char),
    Delete(usize),
    Insert(usize, char),
    Truncate(usize),
    Swap(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch = prop_oneof![
        proptest::char::range('-', 'z'),
        Just('.'),
        Just(':'),
        Just('|'),
        any::<char>()
    ];
    prop_oneof![
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Mutation::Replace(i, c)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), ch).prop_map(|(i, c)| Mutation::Insert(i, c)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::Swap(i, j)),
    ]
}

fn apply(payload: &str, m: &Mutation) -> String {
    let mut chars: Vec<char> = payload.chars().collect();
    let n = chars.len();
    match *m {
        Mutation::Replace(i, c) => chars[i % n] = c,
        Mutation::Delete(i) => {
            chars.remove(i % n);
        }
        Mutation::Insert(i, c) => chars.insert(i % (n + 1), c),
        Mutation::Truncate(i) => chars.truncate(i % n),
        Mutation::Swap(i, j) => chars.swap(i % n, j % n),
    }
    chars.into_iter().collect()
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        let _ = read(&s);
    }

    #[test]
    fn arbitrary_tails_after_every_prefix_never_panic(
        region in 0usize..7,
        tail in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let set = &world().set;
        let regions: Vec<RegionCode> = set.regions().collect();
        let prefix = set.for_region(regions[region]).map(|a| a.prefix()).unwrap_or("");
        let payload = format!("{prefix}{}", String::from_utf8_lossy(&tail));
        let _ = read(&payload);
    }

    #[test]
    fn a_mutated_signed_payload_is_never_accepted(which in 0usize..5, m in mutation()) {
        let (_, valid) = &world().valid[which];
        let mutated = apply(valid, &m);
        prop_assume!(&mutated != valid);
        let result = read(&mutated);
        prop_assert!(result.is_err(), "accepted {mutated:?} (from {valid:?} by {m:?})");
    }

    /// The same through the batch path: the mutated payload sits among valid ones of every region.
    #[test]
    fn a_mutated_signed_payload_is_never_accepted_in_a_batch(
        which in 0usize..5,
        m in mutation(),
        at in 0usize..6,
    ) {
        let w = world();
        let (_, valid) = &w.valid[which];
        let mutated = apply(valid, &m);
        prop_assume!(&mutated != valid);
        let mut batch: Vec<String> = w.valid.iter().map(|(_, p)| p.clone()).collect();
        batch.insert(at % (batch.len() + 1), mutated.clone());
        let results = read_batched(&batch);
        for (p, r) in batch.iter().zip(&results) {
            if p == &mutated {
                prop_assert!(r.is_err(), "accepted {mutated:?} (from {valid:?} by {m:?})");
            } else {
                prop_assert!(r.is_ok(), "refused a valid payload next to {mutated:?}");
            }
        }
    }

    #[test]
    fn what_an_issuer_signs_reads_back_unchanged(
        which in 0usize..5,
        name in "[\u{4e00}-\u{9fa5}a-zA-Z·]{1,20}",
        label_ix in 0usize..4,
        valid_secs in 60i64..(30 * 86_400),
        serial in any::<u64>(),
    ) {
        let w = world();
        let (region, _, _) = SIGNED_REGIONS[which];
        let labels = vocabulary::vocabulary(region.as_str()).expect("vocab").labels;
        let label = labels[label_ix % labels.len()].0;
        let req = IssueRequest {
            serial,
            ..IssueRequest::new(
                resident_id(),
                &name,
                IssueStatus::Label(label.into()),
                NOW + time::Duration::seconds(valid_secs),
            )
        };
        let payload = issue(region, &req, w.issuers.signer(region), NOW).expect("issue");
        let reading = read(&payload).expect("read back");
        prop_assert_eq!(reading.native_label, label);
        prop_assert_eq!(reading.subject.name, name);
        prop_assert_eq!(reading.region, region);
        prop_assert_eq!(reading.valid_until, Some(req.valid_until));
    }
}
