//! Fuzzes the whole read path the gateway uses: claim by prefix, then the claimant's read.

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use std::sync::OnceLock;

use huren_adapters::{AdapterSet, default_adapters};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static SET: OnceLock<AdapterSet> = OnceLock::new();
    let set = SET.get_or_init(|| default_adapters().expect("default adapters"));
    let Ok(payload) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(adapter) = set.claim(payload) {
        // Nothing the fuzzer writes is a validly signed code, and online lookups answer "unknown".
        assert!(common::ready(adapter.read(payload, &common::context())).is_err());
    }
});
