//! Ready-made dev PKI and dev registry for the registry's integration tests.

#![allow(dead_code)]

use std::collections::BTreeMap;

use huren_registry::dev::{DevOptions, DevRegistry};
use tempfile::TempDir;
use time::OffsetDateTime;

pub struct Fixture {
    pub pki: TempDir,
    pub reg: TempDir,
    pub dev: DevRegistry,
}

pub fn now() -> OffsetDateTime {
    huren_registry::canonical::whole_seconds(OffsetDateTime::now_utc())
}

/// A fresh PKI and a dev registry written to its own directory, with online URLs for three regions.
pub fn fixture() -> Fixture {
    let pki = tempfile::tempdir().unwrap();
    huren_certs::init(pki.path(), &huren_certs::InitOptions::default()).unwrap();
    let mut urls = BTreeMap::new();
    for (code, port) in [("330000", 41001), ("410000", 41002), ("510000", 41003)] {
        urls.insert(code.to_string(), format!("https://127.0.0.1:{port}"));
    }
    let options = DevOptions {
        status_urls: urls,
        ..DevOptions::default()
    };
    let reg = tempfile::tempdir().unwrap();
    let dev = DevRegistry::init(pki.path(), reg.path(), &options, false, now()).unwrap();
    Fixture { pki, reg, dev }
}

pub fn region(code: &str) -> huren_adapters::RegionCode {
    huren_adapters::RegionCode::parse(code).unwrap()
}
