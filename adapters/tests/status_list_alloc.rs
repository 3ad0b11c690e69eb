//! A status-list lookup must not allocate: it runs on every scan of every offline code, and the
//! issue asks for a bit test with no allocation and no I/O on the scan path.

use std::time::Duration;

use huren_adapters::status_list::{
    CodeStatus, Issuance, ListStatus, StatusBits, StatusList, StatusLists,
};
use huren_adapters::{IssuerSigner, KeyAlgorithm, RegionCode};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn status_list_lookup_allocates_nothing() {
    let now = time::OffsetDateTime::now_utc();
    let signer = IssuerSigner::generate("hn-2020-01", KeyAlgorithm::EcdsaP256Sha256).unwrap();
    let mut bits = StatusBits::new(100_000);
    bits.set(7, CodeStatus::Withdrawn);
    bits.set(8, CodeStatus::Suspended);
    let issuance = Issuance {
        region: RegionCode::HUNAN,
        list_id: 1,
        sequence: 1,
        issued_at: now,
        expires_at: now + time::Duration::hours(1),
    };
    let mut store = StatusLists::new();
    store
        .apply(StatusList::issue(&signer, &issuance, bits).unwrap(), now)
        .unwrap();
    let max_age = Duration::from_secs(600);
    let stale_at = now + time::Duration::minutes(20);
    let probes = [
        (RegionCode::HUNAN, "hn-2020-01", 1, 7, now),
        (RegionCode::HUNAN, "hn-2020-01", 1, 8, now),
        (RegionCode::HUNAN, "hn-2020-01", 1, 9, now),
        (RegionCode::HUNAN, "hn-2020-01", 1, 100_000, now),
        (RegionCode::HUNAN, "hn-2020-01", 2, 7, now),
        (RegionCode::HUNAN, "other", 1, 7, now),
        (RegionCode::HUBEI, "hn-2020-01", 1, 7, now),
        (RegionCode::HUNAN, "hn-2020-01", 1, 7, stale_at),
    ];

    let before = counting_alloc::allocations();
    let mut seen = [ListStatus::Missing; 8];
    for (slot, &(region, issuer, list, index, at)) in seen.iter_mut().zip(&probes) {
        *slot = store.status(region, issuer, list, index, at, max_age);
    }
    let after = counting_alloc::allocations();

    assert_eq!(after - before, 0, "status() allocated");
    assert_eq!(
        seen,
        [
            ListStatus::Withdrawn,
            ListStatus::Suspended,
            ListStatus::Valid,
            ListStatus::Missing,
            ListStatus::Missing,
            ListStatus::Missing,
            ListStatus::Missing,
            ListStatus::Stale,
        ]
    );
}
