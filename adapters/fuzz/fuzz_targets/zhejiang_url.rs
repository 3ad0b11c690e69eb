//! Fuzzes Zhejiang's QR URL parser: no input may panic.

#![no_main]

use huren_adapters::regions::zhejiang;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tail = String::from_utf8_lossy(data);
    let _ = zhejiang::parse(&format!("{}{tail}", zhejiang::PREFIX));
    let _ = zhejiang::parse(&tail);
});
