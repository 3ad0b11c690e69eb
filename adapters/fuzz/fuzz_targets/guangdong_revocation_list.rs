//! Fuzzes Guangdong's revocation-list parser: no input may panic or install a list.

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use huren_adapters::regions::guangdong::{RevocationLists, revocations};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let list = format!("{}{}", revocations::PREFIX, String::from_utf8_lossy(data));
    let lists = RevocationLists::default();
    let ctx = common::context();
    // Nothing the fuzzer writes carries a valid signature of the test issuer.
    assert!(lists.install(&list, ctx.trust, ctx.now).is_err());
});
