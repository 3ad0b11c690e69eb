//! Shared setup for the service_* and net_* tests: a fresh dev PKI, a reference service, a client.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use huren_adapters::net::{ClientConfig, StatusClient};
use huren_adapters::sim::{
    self, DevServices, Faults, IssueInput, Issued, ServiceConfig, ServiceHandle,
};
use huren_adapters::testing::flat;
use huren_adapters::{Colour, LookupQuery, NativeReading, ReadContext, RegionCode, ResidentId};
use time::OffsetDateTime;

pub fn pki() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    huren_certs::init(dir.path(), &Default::default()).expect("dev PKI");
    dir
}

pub async fn start(pki: &tempfile::TempDir, region: RegionCode, faults: Faults) -> ServiceHandle {
    let mut config = ServiceConfig::loopback(region, pki.path());
    config.faults = faults;
    sim::spawn(config).await.expect("reference service starts")
}

/// The registry view pointing at `handle`, with a cache TTL.
pub fn trust(pki: &tempfile::TempDir, handle: &ServiceHandle, ttl: Duration) -> Arc<DevServices> {
    Arc::new(
        DevServices::new(ttl)
            .with_service(pki.path(), handle.region, &handle.url())
            .expect("service entry"),
    )
}

pub fn client() -> StatusClient {
    StatusClient::new(ClientConfig::default())
}

pub fn resident() -> ResidentId {
    ResidentId::parse("11010519491231002X").expect("valid test ID")
}

/// A code for the test resident 张三 in `colour`, issued by `service`.
pub async fn issue(service: &ServiceHandle, colour: Colour) -> Issued {
    service
        .issue(IssueInput::new(resident(), "张三", colour))
        .await
        .expect("the reference service issues a code")
}

pub fn second_resident() -> ResidentId {
    ResidentId::parse("440524188001010014").expect("valid test ID")
}

pub fn code(code_id: &str) -> LookupQuery {
    LookupQuery::CodeId {
        code_id: code_id.to_string(),
        city: None,
    }
}

/// One lookup with a deadline `within` from now.
pub async fn lookup(
    client: &StatusClient,
    trust: &DevServices,
    region: RegionCode,
    query: &LookupQuery,
    within: Duration,
) -> Result<NativeReading, huren_adapters::CodeError> {
    let ctx = ReadContext::new(
        trust,
        client,
        OffsetDateTime::now_utc(),
        Instant::now() + within,
    );
    ctx.ask(region, query).await.map(flat)
}
