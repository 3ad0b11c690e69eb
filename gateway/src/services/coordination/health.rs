//! Each region's adapter health as the national office sees it: the status client's breaker for
//! regions whose codes are checked online, OFFLINE for regions whose codes are offline-signed.
//!
//! A signed region may still list a status service: when an agreement requires a live check of
//! its codes (Sichuan's under Zhejiang's) its breaker state is reported; otherwise (Guangdong's
//! service only publishes revocation lists) it is OFFLINE.

use huren_adapters::net::{Health, StatusClient};
use huren_adapters::signed_format;
use huren_proto::v1::{AdapterHealth, RegionHealth};
use huren_registry::Registry;
use huren_registry::registry::VerifiedRegion;

pub fn region_health(
    registry: &Registry,
    region: &VerifiedRegion,
    status: &StatusClient,
) -> RegionHealth {
    let code = region.code;
    let checked_live = || {
        registry
            .agreements()
            .any(|a| a.online_check_required && a.issuing == code.as_str())
    };
    let (health, detail) = match &region.document.status_service {
        Some(endpoint) if signed_format(code).is_none() || checked_live() => {
            match status.health(code) {
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
            }
        }
        _ => (
            AdapterHealth::Offline,
            "offline-signed codes: checked against the registry's issuer keys, nothing to reach"
                .to_string(),
        ),
    };
    RegionHealth {
        region: code.to_string(),
        health: health as i32,
        detail,
    }
}
