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

/// Publishes `changes` (already signed) over `current` with the dev timestamp and log keys.
pub fn publish_raw(
    dev: &DevRegistry,
    current: &huren_registry::Registry,
    changes: Vec<(String, huren_registry::Envelope)>,
) -> Result<huren_registry::Registry, huren_registry::ceremony::PublishError> {
    let ts = [&dev.keys.timestamp];
    let log = [&dev.keys.log];
    let keys = huren_registry::ceremony::PublishKeys {
        timestamp: &ts,
        log: &log,
        witnesses: &[],
        timestamp_lifetime: time::Duration::days(1),
    };
    huren_registry::ceremony::publish(Some(current), changes, &keys, now())
}

/// A code-signing certificate (DER) for `region`, issued by that region's dev CA or, with
/// `foreign_ca`, by another region's CA.
pub fn issuer_cert(
    pki: &std::path::Path,
    region: &str,
    ca_region: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Vec<u8> {
    let dir = pki.join("regions").join(ca_region);
    let ca = huren_certs::Ca::load(
        &std::fs::read_to_string(dir.join("ca.pem")).unwrap(),
        &std::fs::read_to_string(dir.join("ca.key")).unwrap(),
    )
    .unwrap();
    let spec = huren_certs::LeafSpec {
        algorithm: huren_certs::IssuerAlgorithm::Ed25519,
        client_auth: false,
        code_signing: true,
        not_before,
        not_after,
        ..huren_certs::LeafSpec::client(
            &format!("test issuer for {region} from {ca_region}"),
            &format!("spiffe://huren.dev/region/{region}/issuer/test"),
        )
    };
    let (pem, _key) = ca.issue(&spec).unwrap();
    huren_registry::x509::pem_to_der(pem.as_bytes())
        .unwrap()
        .remove(0)
}
