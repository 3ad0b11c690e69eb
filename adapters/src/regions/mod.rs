//! The seven reference regions, one module each, and the default adapter set built from them.
//!
//! | region | module | transport | payload prefix |
//! |---|---|---|---|
//! | 330000 Zhejiang | [`zhejiang`] | online | `https://hzgov.huren.dev/healthAct/index.html?stateCouncilBarCode=` |
//! | 440000 Guangdong | [`guangdong`] | offline, Ed25519 | `YKM1.` |
//! | 510000 Sichuan | [`sichuan`] | offline P-256 + optional online | `TFJKT1.` |
//! | 430000 Hunan | [`hunan`] | offline, P-256 | `EHC1:430000:` |
//! | 410000 Henan | [`henan`] | online | `https://yushiban.huren.dev/jkm/q?code=` |
//! | 420000 Hubei | [`hubei`] | offline, Ed25519 | `HBJKM1.` |
//! | 000000 national | [`national`] | offline, Ed25519 | `FYJKXXM1.` |

use std::sync::Arc;

use crate::adapter::{AdapterSet, ConfigError, RegionAdapter};
use crate::codec::SignedFormat;
use crate::model::RegionCode;

pub mod guangdong;
pub mod henan;
pub mod hubei;
pub mod hunan;
pub mod national;
mod online;
pub mod sichuan;
#[cfg(test)]
mod test_kit;
pub mod zhejiang;

/// The signed format of a region that has one.
pub fn signed_format(region: RegionCode) -> Option<&'static SignedFormat> {
    [
        &guangdong::FORMAT,
        &sichuan::FORMAT,
        &hunan::FORMAT,
        &hubei::FORMAT,
        &national::FORMAT,
    ]
    .into_iter()
    .find(|f| f.region == region)
}

/// All seven reference adapters, with an empty Guangdong revocation store.
pub fn default_adapters() -> Result<AdapterSet, ConfigError> {
    default_adapters_with(Arc::new(guangdong::RevocationLists::default()))
}

/// All seven, sharing `revocations` with whoever keeps Guangdong's revocation lists fresh.
pub fn default_adapters_with(
    revocations: Arc<guangdong::RevocationLists>,
) -> Result<AdapterSet, ConfigError> {
    let adapters: Vec<Arc<dyn RegionAdapter>> = vec![
        Arc::new(zhejiang::ZhejiangAdapter),
        Arc::new(guangdong::GuangdongAdapter::new(revocations)),
        Arc::new(sichuan::SichuanAdapter),
        Arc::new(hunan::HunanAdapter),
        Arc::new(henan::HenanAdapter),
        Arc::new(hubei::HubeiAdapter),
        Arc::new(national::NationalAdapter),
    ];
    AdapterSet::new(adapters)
}
