//! Each region's adapter health as the national office sees it: online regions from the status
//! client's breaker, regions the registry gives no status service as OFFLINE.

use huren_adapters::RegionCode;
use huren_adapters::net::{Health, StatusClient};
use huren_proto::v1::{AdapterHealth, RegionHealth};
use huren_registry::registry::VerifiedRegion;

pub fn region_health(region: &VerifiedRegion, status: &StatusClient) -> RegionHealth {
    let code: RegionCode = region.code;
    let (health, detail) = match &region.document.status_service {
        None => (
            AdapterHealth::Offline,
            "offline-signed codes: checked against the registry's issuer keys, nothing to reach"
                .to_string(),
        ),
        Some(endpoint) => match status.health(code) {
            Health::Healthy => (
                AdapterHealth::Healthy,
                format!("status service {} answering", endpoint.url),
            ),
            Health::Degraded => (
                AdapterHealth::Degraded,
                format!("status service {} failing or recovering", endpoint.url),
            ),
            Health::Down => (
                AdapterHealth::Down,
                format!(
                    "status service {} not called: circuit open; codes read DEGRADED",
                    endpoint.url
                ),
            ),
        },
    };
    RegionHealth {
        region: code.to_string(),
        health: health as i32,
        detail,
    }
}
