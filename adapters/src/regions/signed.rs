//! Regions whose code is nothing but a signed token (Hunan, Hubei, national): the format is the
//! adapter, and its v2 codes are withdrawn through the issuer's status lists, which the adapter
//! keeps fresh on the node.

use std::time::Instant;

use crate::adapter::{ReadContext, RegionAdapter, Task, Upkeep};
use crate::codec::SignedFormat;
use crate::model::{CodeError, ReadOutcome, RegionCode};
use crate::net::StatusClient;
use crate::regions::status_lists;
use crate::status_list::ListArchive;
use crate::trust::TrustView;

#[async_trait::async_trait]
impl RegionAdapter for SignedFormat {
    fn region(&self) -> RegionCode {
        self.region
    }

    fn prefix(&self) -> &'static str {
        self.prefix
    }

    fn status_prefix(&self) -> Option<&'static str> {
        self.status_prefix
    }

    async fn read(&self, payload: &str, ctx: &ReadContext<'_>) -> Result<ReadOutcome, CodeError> {
        Ok(ReadOutcome::Read(
            self.reading(SignedFormat::read(self, payload, ctx)?),
        ))
    }

    fn background(&self, upkeep: &Upkeep) -> Vec<Task> {
        status_list_upkeep(self, upkeep).into_iter().collect()
    }

    /// A changed holder's v2 codes are withdrawn in the issuer's next list: fetch it now, so the
    /// re-judgement sees the withdrawal rather than waiting for the next scheduled refresh.
    async fn on_status_change(
        &self,
        status: &StatusClient,
        trust: &dyn TrustView,
        lists: &ListArchive,
        deadline: Instant,
    ) {
        refresh_now(self.region, status, trust, lists, deadline).await;
    }
}

/// The task that follows the region's status lists, when the format has them and the registry
/// lists a status service that publishes them (fetched from it, or from the node carrying them).
pub(crate) fn status_list_upkeep(format: &SignedFormat, upkeep: &Upkeep) -> Option<Task> {
    format.status_prefix?;
    upkeep.trust.status_service(format.region)?;
    Some(status_lists::keep_fresh(
        upkeep.lists_from.clone(),
        upkeep.trust.clone(),
        upkeep.status_lists.clone(),
        format.region,
        upkeep.every,
    ))
}

/// Fetches the region's lists at once (a status changed); failures were logged per list.
pub(crate) async fn refresh_now(
    region: RegionCode,
    status: &StatusClient,
    trust: &dyn TrustView,
    lists: &ListArchive,
    deadline: Instant,
) {
    if trust.status_service(region).is_some() {
        let _ = status_lists::refresh_status_lists(status, trust, lists, region, deadline).await;
    }
}

#[cfg(test)]
mod tests {
    use crate::issue::{IssueRequest, issue};
    use crate::model::{CodeError, RegionCode};
    use crate::regions::default_adapters;
    use crate::regions::test_kit::{NOW, request};
    use crate::status_list::{MAX_CODES, StatusRef};
    use crate::testing::{FakeLookup, TestIssuers, context, flat};

    fn v2(label: &str, index: u32) -> IssueRequest {
        IssueRequest {
            status_ref: Some(StatusRef { list_id: 1, index }),
            ..request(label)
        }
    }

    #[tokio::test]
    async fn a_v2_code_carries_its_status_reference_and_a_v1_code_none() {
        let issuers = TestIssuers::generate().unwrap();
        let lookup = FakeLookup::new();
        let ctx = context(&issuers.ring, &lookup, NOW);
        let set = default_adapters().unwrap();
        for (region, prefix) in [
            (RegionCode::HUNAN, "EHC2:430000:"),
            (RegionCode::HUBEI, "HBJKM2."),
            (RegionCode::NATIONAL, "FYJKXXM2."),
            (RegionCode::GUANGDONG, "YKM2."),
        ] {
            let label = crate::vocabulary::vocabulary(region.as_str())
                .unwrap()
                .labels[0]
                .0;
            let payload = issue(region, &v2(label, 77), issuers.signer(region), NOW).unwrap();
            assert!(payload.starts_with(prefix), "{payload}");
            let adapter = set.claim(&payload).unwrap();
            assert_eq!(adapter.region(), region);
            let reading = adapter.read(&payload, &ctx).await.map(flat).unwrap();
            assert_eq!(
                reading.status_ref,
                Some(StatusRef {
                    list_id: 1,
                    index: 77
                })
            );

            let v1 = issue(region, &request(label), issuers.signer(region), NOW).unwrap();
            let reading = set
                .claim(&v1)
                .unwrap()
                .read(&v1, &ctx)
                .await
                .map(flat)
                .unwrap();
            assert_eq!(reading.status_ref, None, "{v1}");
        }
    }

    #[test]
    fn a_v1_body_under_a_v2_prefix_does_not_verify() {
        let issuers = TestIssuers::generate().unwrap();
        let lookup = FakeLookup::new();
        let ctx = context(&issuers.ring, &lookup, NOW);
        let signer = issuers.signer(RegionCode::HUBEI);
        let v1 = issue(RegionCode::HUBEI, &request("绿码"), signer, NOW).unwrap();
        // The prefix is signed: a v1 code cannot be passed off as a v2 one, nor the reverse.
        let relabelled = v1.replacen("HBJKM1.", "HBJKM2.", 1);
        let err = crate::regions::hubei::FORMAT.read(&relabelled, &ctx);
        assert!(
            matches!(err, Err(CodeError::BadSignature { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn an_index_past_what_a_list_holds_is_not_issued_and_sichuan_has_no_v2() {
        let issuers = TestIssuers::generate().unwrap();
        let err = issue(
            RegionCode::HUNAN,
            &v2("绿码", MAX_CODES),
            issuers.signer(RegionCode::HUNAN),
            NOW,
        );
        assert!(matches!(err, Err(CodeError::Malformed { .. })), "{err:?}");
        let err = issue(
            RegionCode::SICHUAN,
            &v2("绿码", 1),
            issuers.signer(RegionCode::SICHUAN),
            NOW,
        );
        assert!(matches!(err, Err(CodeError::Unsupported(_))), "{err:?}");
    }
}
