//! The seven reference regions, one module each, and the default adapter set built from them.
//!
//! | region | module | transport | payload prefix |
//! |---|---|---|---|
//! | 330000 Zhejiang | [`zhejiang`] | online | `https://hzgov.huren.dev/healthAct/index.html?stateCouncilBarCode=` |
//! | 440000 Guangdong | [`guangdong`] | offline, Ed25519 | `YKM1.`, v2 `YKM2.` |
//! | 510000 Sichuan | [`sichuan`] | offline P-256 + optional online | `TFJKT1.` |
//! | 430000 Hunan | [`hunan`] | offline, P-256 | `EHC1:430000:`, v2 `EHC2:430000:` |
//! | 410000 Henan | [`henan`] | online | `https://yushiban.huren.dev/jkm/q?code=` |
//! | 420000 Hubei | [`hubei`] | offline, Ed25519 | `HBJKM1.`, v2 `HBJKM2.` |
//! | 000000 national | [`national`] | offline, Ed25519 | `FYJKXXM1.`, v2 `FYJKXXM2.` |
//!
//! A v2 code is the same body under the v2 prefix, its serial naming its entry in the issuer's
//! signed status list ([`crate::status_list`]); [`status_lists`] keeps a node's lists fresh.

use std::sync::Arc;

use crate::adapter::{AdapterSet, ConfigError, RegionAdapter};
use crate::codec::{SignedCode, SignedFormat, Verified, batch};
use crate::model::RegionCode;
use crate::trust::TrustView;

pub mod guangdong;
pub mod henan;
pub mod hubei;
pub mod hunan;
pub mod national;
pub mod online;
pub mod sichuan;
mod signed;
pub mod status_lists;
#[cfg(test)]
mod test_kit;
pub mod zhejiang;

/// The reference regions' signed formats.
const SIGNED_FORMATS: [&SignedFormat; 5] = [
    &guangdong::FORMAT,
    &sichuan::FORMAT,
    &hunan::FORMAT,
    &hubei::FORMAT,
    &national::FORMAT,
];

/// The signed format of a region that has one.
pub fn signed_format(region: RegionCode) -> Option<&'static SignedFormat> {
    SIGNED_FORMATS.into_iter().find(|f| f.region == region)
}

/// Batch-checks the Ed25519 signatures of whichever `payloads` a reference signed format claims
/// ([`crate::codec::batch`]); the answer goes into [`crate::ReadContext::verified`]. Payloads of
/// other formats, or that fail to decode, are simply left out and read alone.
pub fn verify_signed<'p>(
    payloads: impl IntoIterator<Item = &'p str>,
    trust: &dyn TrustView,
) -> Verified {
    let codes: Vec<_> = payloads
        .into_iter()
        .filter_map(|p| signed_code(p, trust))
        .collect();
    batch::verify_codes(codes)
}

/// What `payload`'s Ed25519 signature covers and its body, when a reference signed format claims
/// it and it decodes that far ([`SignedFormat::signed_code`]); for a single code's group check.
pub fn signed_code(payload: &str, trust: &dyn TrustView) -> Option<SignedCode> {
    let format = SIGNED_FORMATS.iter().find(|f| f.claims(payload))?;
    format.signed_code(payload, trust)
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
        Arc::new(zhejiang::ADAPTER),
        Arc::new(guangdong::GuangdongAdapter::new(revocations)),
        Arc::new(sichuan::SichuanAdapter),
        Arc::new(hunan::FORMAT),
        Arc::new(henan::ADAPTER),
        Arc::new(hubei::FORMAT),
        Arc::new(national::FORMAT),
    ];
    AdapterSet::new(adapters)
}

/// Whether a status change in `region` withdraws the holder's earlier codes, as its reference
/// adapter says ([`RegionAdapter::withdraws_on_change`]).
pub fn withdraws_on_change(region: RegionCode) -> bool {
    default_adapters()
        .ok()
        .and_then(|set| set.for_region(region).map(|a| a.withdraws_on_change()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::CodeId;
    use crate::issue::issue;
    use crate::model::CodeError;
    use crate::regions::test_kit::{NOW, request};
    use crate::testing::TestIssuers;

    #[test]
    fn every_region_payload_is_claimed_by_exactly_its_own_adapter() {
        let set = default_adapters().unwrap();
        let issuers = TestIssuers::generate().unwrap();
        let mut payloads = vec![
            (
                RegionCode::ZHEJIANG,
                zhejiang::payload(&CodeId::random(), None),
            ),
            (RegionCode::HENAN, henan::payload(&CodeId::random())),
        ];
        for (region, _, _) in crate::testing::SIGNED_REGIONS {
            let label = crate::vocabulary::vocabulary(region.as_str())
                .unwrap()
                .labels[0]
                .0;
            let p = issue(region, &request(label), issuers.signer(region), NOW).unwrap();
            payloads.push((region, p));
        }
        assert_eq!(set.regions().count(), 7);
        for (region, payload) in &payloads {
            let claimants: Vec<_> = set
                .regions()
                .filter(|r| set.for_region(*r).unwrap().claims(payload))
                .collect();
            assert_eq!(claimants, vec![*region], "{payload}");
            assert_eq!(set.claim(payload).unwrap().region(), *region);
        }
    }

    #[test]
    fn a_scanned_payload_is_read_in_its_regions_own_form() {
        let set = default_adapters().unwrap();
        let issuers = TestIssuers::generate().unwrap();
        let id = CodeId::random();
        let zj = zhejiang::payload(&id, Some(RegionCode::parse("330100").unwrap()));
        let hn = henan::payload(&id);
        let mut cases = vec![
            (format!("{zj}\r\n"), zj.clone()),
            (format!(" {hn} "), hn.clone()),
            (
                format!(
                    "HTTP://HZGOV.huren.dev/healthAct/index.html?from=singlemessage&cityCode=330100&stateCouncilBarCode={id}"
                ),
                zj.clone(),
            ),
            (
                format!("http://yushiban.huren.dev/jkm/q?code={id}&isappinstalled=0"),
                hn,
            ),
        ];
        for (region, _, _) in crate::testing::SIGNED_REGIONS {
            let label = crate::vocabulary::vocabulary(region.as_str())
                .unwrap()
                .labels[0]
                .0;
            let p = issue(region, &request(label), issuers.signer(region), NOW).unwrap();
            cases.push((format!("{p} \r\n"), p.clone()));
            let encoded = p.replace(':', "%3A").replace('.', "%2E");
            cases.push((format!("https://hc.example.cn/hc?code={encoded}"), p));
        }
        for (scanned, canonical) in &cases {
            assert_eq!(set.scanned(scanned), canonical.as_str(), "{scanned}");
            assert!(set.claim(&set.scanned(scanned)).is_ok(), "{scanned}");
        }
        // Not a region's URL, or no valid code in it: trimmed only, judged (and refused) as is.
        for other in [
            " hello\n",
            "https://example.com/hc?code=hello",
            &format!("{zj}x"),
        ] {
            assert_eq!(set.scanned(other), other.trim());
        }
    }

    /// A code whose signature a group or batch check passed is read from the body decoded there:
    /// the same answer as a lone read, every refusal a lone read makes still made (the key the
    /// read asks the registry for, not the one the check used), and a forgery that keeps the
    /// genuine code's signature on an edited body is refused as forged.
    #[tokio::test]
    async fn a_read_after_a_passed_check_answers_as_a_lone_read() {
        use crate::regions::test_kit::forge_label;
        use crate::testing::{FakeLookup, KeyRing, context, flat};
        use crate::trust::TrustError;

        let set = default_adapters().unwrap();
        let issuers = TestIssuers::generate().unwrap();
        let lookup = FakeLookup::new();
        let ed25519 = crate::testing::SIGNED_REGIONS
            .into_iter()
            .filter(|(_, _, a)| *a == crate::trust::KeyAlgorithm::Ed25519);
        for (region, _, _) in ed25519 {
            let format = signed_format(region).unwrap();
            let labels = crate::vocabulary::vocabulary(region.as_str())
                .unwrap()
                .labels;
            let (red, green) = (labels[labels.len() - 1].0, labels[0].0);
            let payload = issue(region, &request(red), issuers.signer(region), NOW).unwrap();
            let forged = forge_label(format, &payload, red, green);
            let adapter = set.claim(&payload).unwrap();
            let alone = context(&issuers.ring, &lookup, NOW);
            let verified = verify_signed([payload.as_str(), forged.as_str()], &issuers.ring);
            assert_eq!(verified.len(), 1, "{region}: the genuine code only");
            let mut checked = context(&issuers.ring, &lookup, NOW);
            checked.verified = Some(&verified);

            let want = adapter.read(&payload, &alone).await.map(flat).unwrap();
            let got = adapter.read(&payload, &checked).await.map(flat).unwrap();
            assert_eq!(got, want, "{region}");
            assert!(
                matches!(
                    adapter.read(&forged, &checked).await,
                    Err(CodeError::BadSignature { .. })
                ),
                "{region}: same signature, edited body"
            );

            // The registry the read is given decides, whatever the check used.
            let mut revoked = issuers.ring.clone();
            let issuer = issuers.signer(region).issuer_id();
            revoked.revoke(region, issuer, NOW - time::Duration::hours(1), "compromise");
            let mut ctx = context(&revoked, &lookup, NOW);
            ctx.verified = Some(&verified);
            assert!(matches!(
                adapter.read(&payload, &ctx).await,
                Err(CodeError::Trust(TrustError::Revoked { .. }))
            ));
            let other = TestIssuers::generate().unwrap();
            let impostor = KeyRing::new().with_signer(region, other.signer(region));
            let mut ctx = context(&impostor, &lookup, NOW);
            ctx.verified = Some(&verified);
            assert!(
                matches!(
                    adapter.read(&payload, &ctx).await,
                    Err(CodeError::BadSignature { .. })
                ),
                "{region}: another key under the same issuer id"
            );
            let late = NOW + time::Duration::days(8);
            let mut ctx = context(&issuers.ring, &lookup, late);
            ctx.verified = Some(&verified);
            assert!(matches!(
                adapter.read(&payload, &ctx).await,
                Err(CodeError::Expired(_))
            ));
        }
    }

    /// What a single VerifyCode call spends on a Guangdong code around its signature check
    /// (decoding for the group check, recording that it passed, the read), the check itself left
    /// out (release build, by hand):
    /// `cargo test --release -p huren-adapters --lib regions::tests::single_call_decoding_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement, not a check"]
    fn single_call_decoding_cost() {
        use crate::testing::{FakeLookup, context};
        let issuers = TestIssuers::generate().unwrap();
        let lookup = FakeLookup::new();
        let region = RegionCode::GUANGDONG;
        let payload = issue(region, &request("绿码"), issuers.signer(region), NOW).unwrap();
        let rounds = 200_000u32;
        for run in 0..3 {
            let clock = std::time::Instant::now();
            for _ in 0..rounds {
                let code = signed_code(&payload, &issuers.ring).unwrap();
                drop(std::hint::black_box(code.parts.clone()));
                let mut passed = Verified::default();
                passed.insert_code(code);
                let passed = Arc::new(passed);
                let mut ctx = context(&issuers.ring, &lookup, NOW);
                ctx.verified = Some(&passed);
                std::hint::black_box(guangdong::FORMAT.read(&payload, &ctx).unwrap());
            }
            let each = clock.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
            println!(
                "run {run}: {each:.2} µs a call ({} bytes of payload)",
                payload.len()
            );
        }
    }

    #[test]
    fn a_payload_no_adapter_claims_is_not_claimed() {
        let set = default_adapters().unwrap();
        for payload in [
            "",
            "hello",
            "https://example.com/?stateCouncilBarCode=00",
            "ykm1.abc",
        ] {
            assert!(matches!(set.claim(payload), Err(CodeError::NotClaimed)));
        }
    }

    struct Shadow;

    #[async_trait::async_trait]
    impl RegionAdapter for Shadow {
        fn region(&self) -> RegionCode {
            RegionCode::parse("110000").unwrap()
        }
        fn prefix(&self) -> &'static str {
            "YKM"
        }
        async fn read(
            &self,
            _: &str,
            _: &crate::adapter::ReadContext<'_>,
        ) -> Result<crate::model::ReadOutcome, CodeError> {
            Err(CodeError::NotClaimed)
        }
    }

    #[test]
    fn adapters_whose_prefixes_overlap_are_refused_at_start_up() {
        let adapters: Vec<Arc<dyn RegionAdapter>> = vec![
            Arc::new(guangdong::GuangdongAdapter::new(Default::default())),
            Arc::new(Shadow),
        ];
        assert!(matches!(
            AdapterSet::new(adapters),
            Err(ConfigError::OverlappingPrefixes { .. })
        ));
        let twice: Vec<Arc<dyn RegionAdapter>> =
            vec![Arc::new(national::FORMAT), Arc::new(national::FORMAT)];
        assert!(matches!(
            AdapterSet::new(twice),
            Err(ConfigError::DuplicateRegion(_))
        ));
    }

    #[test]
    fn online_regions_have_nothing_to_sign() {
        let issuers = TestIssuers::generate().unwrap();
        let signer = issuers.signer(RegionCode::NATIONAL);
        for region in [RegionCode::ZHEJIANG, RegionCode::HENAN] {
            assert!(matches!(
                issue(region, &request("绿码"), signer, NOW),
                Err(CodeError::Unsupported(_))
            ));
        }
    }
}
