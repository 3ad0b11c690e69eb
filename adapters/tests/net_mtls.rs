//! A reference service that requires a gateway identity answers the gateway's client and no one
//! else: not an anonymous caller, not a checkpoint with a valid certificate from the same PKI.

mod net_support;

use std::time::Duration;

use huren_adapters::net::{ClientConfig, ClientIdentity, StatusClient};
use huren_adapters::sim::{self, ServiceConfig};
use huren_adapters::{Colour, RegionCode, Source};
use net_support::*;

#[tokio::test]
async fn only_a_gateway_may_ask() {
    let pki = pki();
    let mut config = ServiceConfig::loopback(RegionCode::ZHEJIANG, pki.path());
    config.require_gateway = true;
    let zj = sim::spawn(config).await.unwrap();
    let issued = issue(&zj, Colour::Green).await;
    let trust = trust(&pki, &zj, Duration::ZERO);
    let q = code(&issued.code_id);
    let with = |identity| {
        StatusClient::new(ClientConfig {
            identity,
            ..ClientConfig::default()
        })
    };

    let gateway = with(Some(ClientIdentity::from_pki_gateway(pki.path()).unwrap()));
    let r = lookup(&gateway, &trust, zj.region, &q, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        (r.source, r.native_label.as_str()),
        (Source::Online, "绿码")
    );

    let anonymous = with(None);
    let r = lookup(&anonymous, &trust, zj.region, &q, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(r.source, Source::Degraded, "no certificate, no answer");

    let manifest = huren_certs::Manifest::load(pki.path()).unwrap();
    let checkpoint = manifest.client("checkpoint", None).unwrap();
    let read = |p: &std::path::Path| std::fs::read_to_string(pki.path().join(p)).unwrap();
    let checkpoint = with(Some(ClientIdentity {
        cert_pem: read(&checkpoint.cert),
        key_pem: read(&checkpoint.key),
    }));
    let r = lookup(&checkpoint, &trust, zj.region, &q, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        r.source,
        Source::Degraded,
        "a valid certificate of another role is refused"
    );
    assert_eq!(
        zj.lookups_received(),
        1,
        "only the gateway's lookup reached the service"
    );
}
