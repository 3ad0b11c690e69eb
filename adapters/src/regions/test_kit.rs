//! The contract every signed region's adapter must meet, run by each region's unit tests.

use time::OffsetDateTime;
use time::macros::datetime;

use crate::adapter::RegionAdapter;
use crate::codec::SignedFormat;
use crate::issue::{IssueRequest, IssueStatus, issue};
use crate::model::{CodeError, Source};
use crate::testing::{FakeLookup, KeyRing, TestIssuers, context, flat, resident_id};
use crate::trust::TrustError;

pub(crate) const NOW: OffsetDateTime = datetime!(2020-03-01 08:00 UTC);

pub(crate) fn request(label: &str) -> IssueRequest {
    IssueRequest {
        serial: 42,
        ..IssueRequest::new(
            resident_id(),
            "张三",
            IssueStatus::Label(label.to_string()),
            NOW + time::Duration::days(7),
        )
    }
}

/// The payload with its body's `from` label replaced by `to`, the signature kept: a forgery.
pub(crate) fn forge_label(format: &SignedFormat, payload: &str, from: &str, to: &str) -> String {
    let rest = &payload[format.prefix.len()..];
    let (body, sig) = rest.split_once(format.separator).unwrap();
    let text = String::from_utf8(format.armor.decode(body).unwrap()).unwrap();
    assert!(text.contains(from), "label {from} not in body");
    let forged = format.armor.encode(text.replacen(from, to, 1).as_bytes());
    format!("{}{forged}{}{sig}", format.prefix, format.separator)
}

/// Issue → read → the same native status; forged label, flipped signature, expiry, revoked,
/// unknown and out-of-validity issuers all refused.
pub(crate) async fn signed_region_contract(
    adapter: &dyn RegionAdapter,
    format: &SignedFormat,
    red: &str,
    green: &str,
) {
    let region = adapter.region();
    let issuers = TestIssuers::generate().unwrap();
    let signer = issuers.signer(region);
    let lookup = FakeLookup::new();
    let ctx = context(&issuers.ring, &lookup, NOW);

    let payload = issue(region, &request(red), signer, NOW).unwrap();
    assert!(
        adapter.claims(&payload),
        "own payload not claimed: {payload}"
    );
    let reading = adapter.read(&payload, &ctx).await.map(flat).unwrap();
    assert_eq!(reading.native_label, red);
    assert_eq!(reading.region, region);
    assert_eq!(reading.issuer_id.as_deref(), Some(signer.issuer_id()));
    assert_eq!(reading.subject.id, Some(resident_id()));
    assert_eq!(reading.subject.name, "张三");
    assert_eq!(reading.refreshed_at, NOW);
    assert_eq!(reading.valid_until, Some(NOW + time::Duration::days(7)));
    assert_eq!(reading.source, Source::OfflineSigned);
    assert!(lookup.calls().is_empty(), "an offline read asked a service");

    // Red edited to green keeps the signature: must not pass.
    let forged = forge_label(format, &payload, red, green);
    assert!(matches!(
        adapter.read(&forged, &ctx).await,
        Err(CodeError::BadSignature { .. })
    ));

    // One character of the signature changed.
    let mut chars: Vec<char> = payload.chars().collect();
    let last = chars.len() - 3;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    let flipped: String = chars.into_iter().collect();
    let err = adapter.read(&flipped, &ctx).await.unwrap_err();
    assert!(
        matches!(
            err,
            CodeError::BadSignature { .. } | CodeError::Malformed { .. }
        ),
        "flipped signature gave {err:?}"
    );

    // A week and a minute later the code has expired.
    let late = context(
        &issuers.ring,
        &lookup,
        NOW + time::Duration::days(7) + time::Duration::minutes(1),
    );
    assert!(matches!(
        adapter.read(&payload, &late).await,
        Err(CodeError::Expired(_))
    ));

    // Issuer revoked from before the signing time.
    let mut revoked = issuers.ring.clone();
    revoked.revoke(
        region,
        signer.issuer_id(),
        NOW - time::Duration::hours(1),
        "key compromise",
    );
    let ctx_revoked = context(&revoked, &lookup, NOW);
    assert!(matches!(
        adapter.read(&payload, &ctx_revoked).await,
        Err(CodeError::Trust(TrustError::Revoked { .. }))
    ));
    // ... but revoked only from tomorrow: today's code still reads.
    let mut later = issuers.ring.clone();
    later.revoke(
        region,
        signer.issuer_id(),
        NOW + time::Duration::days(1),
        "rotation",
    );
    assert!(
        adapter
            .read(&payload, &context(&later, &lookup, NOW))
            .await
            .is_ok()
    );

    // Issuer certificate not valid at the signing time.
    let mut expired_cert = issuers.ring.clone();
    expired_cert.set_validity(
        region,
        signer.issuer_id(),
        NOW - time::Duration::days(30),
        NOW - time::Duration::days(1),
    );
    assert!(matches!(
        adapter
            .read(&payload, &context(&expired_cert, &lookup, NOW))
            .await,
        Err(CodeError::Trust(TrustError::NotValidAt { .. }))
    ));

    // A ring that lists another key for the region, not this issuer.
    let other = TestIssuers::generate().unwrap();
    let mut unknown = KeyRing::new();
    unknown.add_issuer(region, "someone-else", other.signer(region).public_key());
    assert!(matches!(
        adapter
            .read(&payload, &context(&unknown, &lookup, NOW))
            .await,
        Err(CodeError::Trust(TrustError::UnknownIssuer { .. }))
    ));

    // Same issuer id, different key (a look-alike issuer): the signature does not verify.
    let impostor = KeyRing::new().with_signer(region, other.signer(region));
    assert!(matches!(
        adapter
            .read(&payload, &context(&impostor, &lookup, NOW))
            .await,
        Err(CodeError::BadSignature { .. })
    ));
}
