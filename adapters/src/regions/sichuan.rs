//! 510000 Sichuan (天府健康通): a P-256-signed payload plus, when the agreement asks, a live check.
//!
//! Wire format:
//!
//! ```text
//! TFJKT1.<base64url(body)>.<base64url(signature)>
//! body = issuer | serial | resident_id | name | status | signed_at | valid_until
//! ```
//!
//! Times are Unix seconds; `status` is 绿码 / 黄码 / 红码. The signature is ECDSA P-256 with
//! SHA-256 over the ASCII text `TFJKT1.<base64url(body)>`, 64 bytes `r || s` with low `s`; the
//! issuer's key comes from its X.509 certificate, which the registry checks against Sichuan's CA.
//!
//! Hybrid: the signature proves who the holder is and what Sichuan said at signing time. When
//! [`ReadContext::require_online`] is set, the adapter also asks Sichuan's status service for the
//! resident's current status (Sichuan is the issuer, so the ID may go to it), and reports that.

use crate::adapter::{ReadContext, RegionAdapter};
use crate::codec::{Armor, Field, SignedFormat};
use crate::model::{CodeError, Degraded, NativeReading, ReadOutcome, RegionCode, ResidentId};
use crate::regions::online;
use crate::trust::KeyAlgorithm;

pub const FORMAT: SignedFormat = SignedFormat {
    region: RegionCode::SICHUAN,
    prefix: "TFJKT1.",
    status_prefix: None,
    separator: '.',
    armor: Armor::Base64Url,
    algorithm: KeyAlgorithm::EcdsaP256Sha256,
    second_algorithm: None,
    layout: &[
        Field::Issuer,
        Field::Serial,
        Field::ResidentId,
        Field::Name,
        Field::Label,
        Field::SignedAt,
        Field::ValidUntil,
    ],
};

pub struct SichuanAdapter;

#[async_trait::async_trait]
impl RegionAdapter for SichuanAdapter {
    fn region(&self) -> RegionCode {
        FORMAT.region
    }

    fn prefix(&self) -> &'static str {
        FORMAT.prefix
    }

    async fn read(&self, payload: &str, ctx: &ReadContext<'_>) -> Result<ReadOutcome, CodeError> {
        // The signature is checked even when the live status will win: a forged payload must not
        // make huren ask Sichuan about anyone.
        let signed = FORMAT.reading(FORMAT.read(payload, ctx)?);
        if !ctx.require_online {
            return Ok(ReadOutcome::Read(signed));
        }
        let id = match &signed.subject.id {
            Some(id) => id.clone(),
            None => return Ok(ReadOutcome::Read(signed)),
        };
        let live =
            online::read_resident(RegionCode::SICHUAN, &id, &signed.subject.name, ctx).await?;
        Ok(match live {
            ReadOutcome::Read(live) => ReadOutcome::Read(merge(signed, live)),
            ReadOutcome::Degraded(failed) => ReadOutcome::Degraded(still_degraded(signed, failed)),
        })
    }

    async fn read_resident(
        &self,
        id: &ResidentId,
        name: &str,
        ctx: &ReadContext<'_>,
    ) -> Result<ReadOutcome, CodeError> {
        online::read_resident(RegionCode::SICHUAN, id, name, ctx).await
    }
}

/// The signed subject and issuer with the live status.
fn merge(signed: NativeReading, live: NativeReading) -> NativeReading {
    let mut notes = live.notes;
    notes.push(signed_note(&signed));
    NativeReading {
        region: signed.region,
        issuer_id: signed.issuer_id,
        native_label: live.native_label,
        subject: signed.subject,
        refreshed_at: live.refreshed_at,
        valid_until: signed.valid_until,
        source: live.source,
        checked_in_at: None,
        status_ref: signed.status_ref,
        notes,
        // Either is the region's own word: its issuer key or its service's record.
        synthetic: signed.synthetic || live.synthetic,
    }
}

/// A failed live check stays degraded: the agreement asked for a live status and there is none,
/// so the signed label must not pass for one. The signed subject and issuer still say who it is.
fn still_degraded(signed: NativeReading, failed: Degraded) -> Degraded {
    let mut why = failed.why;
    why.push(signed_note(&signed));
    Degraded {
        region: signed.region,
        subject: signed.subject,
        issuer_id: signed.issuer_id,
        signed_at: Some(signed.refreshed_at),
        valid_until: signed.valid_until,
        why,
        unlisted: failed.unlisted,
    }
}

fn signed_note(signed: &NativeReading) -> String {
    format!(
        "signed status {} at {}; live status from Sichuan's service",
        signed.native_label, signed.refreshed_at
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regions::test_kit;

    #[tokio::test]
    async fn meets_the_signed_region_contract() {
        test_kit::signed_region_contract(&SichuanAdapter, &FORMAT, "红码", "绿码").await;
    }

    use crate::adapter::LookupQuery;
    use crate::issue::issue;
    use crate::model::Source;
    use crate::regions::test_kit::{NOW, forge_label, request};
    use crate::testing::{
        FakeLookup, TestIssuers, context, degraded_reading, flat, online_reading, resident_id,
    };

    fn resident() -> LookupQuery {
        LookupQuery::Resident {
            id: resident_id(),
            name: "张三".into(),
        }
    }

    #[tokio::test]
    async fn when_the_agreement_requires_it_the_live_status_wins() {
        let issuers = TestIssuers::generate().unwrap();
        let signer = issuers.signer(RegionCode::SICHUAN);
        let lookup = FakeLookup::new();
        let later = NOW + time::Duration::hours(3);
        lookup.answer(
            RegionCode::SICHUAN,
            resident(),
            Ok(online_reading(RegionCode::SICHUAN, "黄码", later)),
        );
        let payload = issue(RegionCode::SICHUAN, &request("绿码"), signer, NOW).unwrap();

        let offline = SichuanAdapter
            .read(&payload, &context(&issuers.ring, &lookup, later))
            .await
            .map(flat)
            .unwrap();
        assert_eq!(offline.native_label, "绿码");
        assert!(lookup.calls().is_empty());

        let mut ctx = context(&issuers.ring, &lookup, later);
        ctx.require_online = true;
        let live = SichuanAdapter.read(&payload, &ctx).await.map(flat).unwrap();
        assert_eq!(live.native_label, "黄码");
        assert_eq!(live.source, Source::Online);
        assert_eq!(live.refreshed_at, later);
        assert_eq!(live.subject.id, Some(resident_id()));
        assert_eq!(lookup.calls(), vec![(RegionCode::SICHUAN, resident())]);
    }

    #[tokio::test]
    async fn a_required_live_check_that_fails_stays_degraded() {
        let issuers = TestIssuers::generate().unwrap();
        let lookup = FakeLookup::new();
        lookup.answer(
            RegionCode::SICHUAN,
            resident(),
            Ok(degraded_reading(RegionCode::SICHUAN)),
        );
        let payload = issue(
            RegionCode::SICHUAN,
            &request("绿码"),
            issuers.signer(RegionCode::SICHUAN),
            NOW,
        )
        .unwrap();
        let mut ctx = context(&issuers.ring, &lookup, NOW);
        ctx.require_online = true;
        let reading = SichuanAdapter.read(&payload, &ctx).await.map(flat).unwrap();
        assert_eq!(reading.source, Source::Degraded);
    }

    #[tokio::test]
    async fn a_forged_payload_never_reaches_the_status_service() {
        let issuers = TestIssuers::generate().unwrap();
        let lookup = FakeLookup::new();
        let payload = issue(
            RegionCode::SICHUAN,
            &request("红码"),
            issuers.signer(RegionCode::SICHUAN),
            NOW,
        )
        .unwrap();
        let forged = forge_label(&FORMAT, &payload, "红码", "绿码");
        let mut ctx = context(&issuers.ring, &lookup, NOW);
        ctx.require_online = true;
        assert!(SichuanAdapter.read(&forged, &ctx).await.is_err());
        assert!(lookup.calls().is_empty());
    }
}
