//! A registry view that knows only where reference services run, for the CLI and benchmarks that
//! talk to them without a signed registry. It lists no issuers.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use time::OffsetDateTime;

use crate::model::RegionCode;
use crate::sim::ServiceError;
use crate::trust::{IssuerKey, StatusService, TrustError, TrustView};

#[derive(Debug, Clone, Default)]
pub struct DevServices {
    services: HashMap<RegionCode, StatusService>,
    ttl: Duration,
}

impl DevServices {
    /// No services yet; answers may be cached for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            services: HashMap::new(),
            ttl,
        }
    }

    /// Lists `region`'s service at `url` with the identity and CA the dev PKI gives it.
    pub fn with_service(
        mut self,
        pki: &Path,
        region: RegionCode,
        url: &str,
    ) -> Result<Self, ServiceError> {
        let service = crate::sim::status_service(pki, region, url)?;
        self.services.insert(region, service);
        Ok(self)
    }

    /// Lists a service entry as given (tests pin deliberately wrong entries this way).
    pub fn with_entry(mut self, region: RegionCode, service: StatusService) -> Self {
        self.services.insert(region, service);
        self
    }
}

impl TrustView for DevServices {
    fn issuer_key(
        &self,
        region: RegionCode,
        issuer: &str,
        _signed_at: OffsetDateTime,
    ) -> Result<IssuerKey, TrustError> {
        Err(TrustError::UnknownIssuer {
            region,
            issuer: issuer.to_string(),
        })
    }

    fn status_service(&self, region: RegionCode) -> Option<StatusService> {
        self.services.get(&region.province()).cloned()
    }

    fn cache_ttl(&self, _region: RegionCode) -> Duration {
        self.ttl
    }
}
