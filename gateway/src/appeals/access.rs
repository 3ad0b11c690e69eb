//! Who may see and answer an appeal: the caller that filed it, and the issuing province. Every
//! other caller (another checkpoint, another province, a carrier, national) is refused.

use crate::appeals::error::AppealError;
use crate::appeals::record::AppealRecord;
use crate::identity::{Peer, Role};

/// Whether `peer` is the issuing province of `appeal`.
pub fn is_issuing_province(peer: &Peer, appeal: &AppealRecord) -> bool {
    peer.role == Role::Province && appeal.issuing_province() == Some(peer.province())
}

/// GetAppeal: the filer or the issuing province.
pub fn may_read(peer: &Peer, appeal: &AppealRecord) -> Result<(), AppealError> {
    if appeal.filed_by == peer.spiffe_id || is_issuing_province(peer, appeal) {
        return Ok(());
    }
    Err(AppealError::NotYourAppeal(appeal.appeal_id.clone()))
}

/// AnswerAppeal: the issuing province only.
pub fn may_answer(peer: &Peer, appeal: &AppealRecord) -> Result<(), AppealError> {
    if is_issuing_province(peer, appeal) {
        return Ok(());
    }
    Err(AppealError::NotTheIssuingProvince {
        appeal_id: appeal.appeal_id.clone(),
        region: appeal.issuing_region.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appeals::record::sample;
    use crate::identity::parse_spiffe_id;

    fn peer(id: &str) -> Peer {
        parse_spiffe_id(&format!("spiffe://huren.dev/{id}"), "huren.dev").unwrap()
    }

    #[test]
    fn the_filer_and_the_issuing_province_only() {
        let gate = peer("region/330110/role/checkpoint/yuhang-1");
        let appeal = sample();
        assert_eq!(appeal.filed_by, gate.spiffe_id);
        let hubei = peer("region/420000/role/province/hubei-health");
        assert!(may_read(&gate, &appeal).is_ok());
        assert!(may_read(&hubei, &appeal).is_ok());
        assert!(may_answer(&hubei, &appeal).is_ok());
        for other in [
            "region/330110/role/checkpoint/yuhang-2",
            "region/330000/role/province/zhejiang",
            "region/420000/role/checkpoint/wuhan-gate",
            "region/420000/role/carrier/wuhan-rail",
            "region/000000/role/national/ncc",
        ] {
            let other = peer(other);
            assert!(may_answer(&other, &appeal).is_err(), "{other}");
            assert!(may_read(&other, &appeal).is_err(), "{other}");
        }
        assert!(may_answer(&gate, &appeal).is_err());
    }
}
