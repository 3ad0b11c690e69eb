//! Fuzzes Henan's QR URL parser: no input may panic.

#![no_main]

use huren_adapters::regions::henan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tail = String::from_utf8_lossy(data);
    let _ = henan::parse(&format!("{}{tail}", henan::PREFIX));
    let _ = henan::parse(&tail);
});
