//! Fuzzes the sichuan signed-token parser behind its prefix: no input may panic.

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use huren_adapters::regions::sichuan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::fuzz_signed(&sichuan::FORMAT, data));
