//! Claiming a payload must not allocate: the gateway offers every scanned payload to every
//! adapter, and at tens of thousands of scans a second the claim must cost next to nothing.

use huren_adapters::testing::{SIGNED_REGIONS, TestIssuers, resident_id};
use huren_adapters::{
    CodeId, IssueRequest, IssueStatus, RegionCode, default_adapters, issue, regions, vocabulary,
};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn claiming_any_payload_allocates_nothing() {
    let set = default_adapters().unwrap();
    let issuers = TestIssuers::generate().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let mut payloads = vec![
        regions::zhejiang::payload(&CodeId::random(), None),
        regions::henan::payload(&CodeId::random()),
        "not a health code".to_string(),
        String::new(),
    ];
    for (region, _, _) in SIGNED_REGIONS {
        let label = vocabulary::vocabulary(region.as_str()).unwrap().labels[0].0;
        let req = IssueRequest::new(
            resident_id(),
            "张三",
            IssueStatus::Label(label.into()),
            now + time::Duration::days(1),
        );
        payloads.push(issue(region, &req, issuers.signer(region), now).unwrap());
    }

    let before = counting_alloc::allocations();
    let mut claimed: [Option<RegionCode>; 16] = [None; 16];
    for (slot, payload) in claimed.iter_mut().zip(&payloads) {
        *slot = set.claim(payload).ok().map(|a| a.region());
    }
    let after = counting_alloc::allocations();

    assert_eq!(after - before, 0, "claim() allocated");
    assert_eq!(claimed.iter().filter(|c| c.is_some()).count(), 7);
}
