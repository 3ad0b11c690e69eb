//! Status lists end to end inside the crate: round trips, every refusal, deltas, and properties
//! of the decoder under arbitrary and mutated bytes.

use std::time::Duration;

use proptest::prelude::*;
use time::OffsetDateTime;

use super::*;
use crate::codec::IssuerSigner;
use crate::model::RegionCode;
use crate::testing::KeyRing;
use crate::trust::{KeyAlgorithm, TrustError};

const NOW: i64 = 1_600_000_000;
const HOUR: Duration = Duration::from_secs(3600);

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).unwrap()
}

struct Fixture {
    signer: IssuerSigner,
    trust: KeyRing,
}

fn fixture(algorithm: KeyAlgorithm) -> Fixture {
    let signer = IssuerSigner::generate("hn-2020-01", algorithm).unwrap();
    let trust = KeyRing::new().with_signer(RegionCode::HUNAN, &signer);
    Fixture { signer, trust }
}

fn issuance(sequence: u64) -> Issuance {
    Issuance {
        region: RegionCode::HUNAN,
        list_id: 7,
        sequence,
        issued_at: now(),
        expires_at: now() + time::Duration::hours(24),
    }
}

fn sample_bits(count: u32) -> StatusBits {
    let mut bits = StatusBits::new(count);
    bits.set(3, CodeStatus::Withdrawn);
    bits.set(count / 2, CodeStatus::Suspended);
    bits
}

fn list(f: &Fixture, sequence: u64, bits: StatusBits) -> StatusList {
    StatusList::issue(&f.signer, &issuance(sequence), bits).unwrap()
}

fn lookup(store: &StatusLists, index: u32, at: OffsetDateTime) -> ListStatus {
    store.status(RegionCode::HUNAN, "hn-2020-01", 7, index, at, HOUR)
}

#[test]
fn a_status_list_round_trips_under_both_issuer_algorithms() {
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256Sha256] {
        let f = fixture(algorithm);
        let issued = list(&f, 1, sample_bits(1000));
        let opened = StatusList::open(&issued.to_bytes(), &f.trust).unwrap();
        assert_eq!(opened, issued);
        let mut store = StatusLists::new();
        assert_eq!(
            store.apply(opened, now()),
            Ok(Applied::Installed { sequence: 1 })
        );
        assert_eq!(lookup(&store, 0, now()), ListStatus::Valid);
        assert_eq!(lookup(&store, 3, now()), ListStatus::Withdrawn);
        assert_eq!(lookup(&store, 500, now()), ListStatus::Suspended);
        assert_eq!(lookup(&store, 1000, now()), ListStatus::Missing);
    }
}

#[test]
fn status_list_lookups_of_unheld_lists_are_missing() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let mut store = StatusLists::new();
    store.apply(list(&f, 1, sample_bits(10)), now()).unwrap();
    let at = now();
    assert_eq!(
        store.status(RegionCode::HUBEI, "hn-2020-01", 7, 3, at, HOUR),
        ListStatus::Missing
    );
    assert_eq!(
        store.status(RegionCode::HUNAN, "other", 7, 3, at, HOUR),
        ListStatus::Missing
    );
    assert_eq!(
        store.status(RegionCode::HUNAN, "hn-2020-01", 8, 3, at, HOUR),
        ListStatus::Missing
    );
}

#[test]
fn a_status_list_older_than_the_agreement_allows_is_stale() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let mut store = StatusLists::new();
    store.apply(list(&f, 1, sample_bits(10)), now()).unwrap();
    let later = now() + time::Duration::minutes(61);
    assert_eq!(
        lookup(&store, 3, now() + time::Duration::minutes(60)),
        ListStatus::Withdrawn
    );
    assert_eq!(lookup(&store, 3, later), ListStatus::Stale);
    assert_eq!(
        lookup(&store, 0, later),
        ListStatus::Stale,
        "never Valid from a stale list"
    );
    let long = store.status(RegionCode::HUNAN, "hn-2020-01", 7, 0, later, 2 * HOUR);
    assert_eq!(long, ListStatus::Valid);
    // A held list that has since expired is stale whatever the agreement allows.
    let expired = now() + time::Duration::hours(24);
    let any_age = store.status(RegionCode::HUNAN, "hn-2020-01", 7, 0, expired, 100 * HOUR);
    assert_eq!(any_age, ListStatus::Stale);
}

#[test]
fn an_expired_status_list_is_refused() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let mut store = StatusLists::new();
    let at = now() + time::Duration::hours(24);
    assert!(matches!(
        store.apply(list(&f, 1, sample_bits(10)), at),
        Err(Refusal::Expired(_))
    ));
    assert_eq!(lookup(&store, 3, now()), ListStatus::Missing);
}

#[test]
fn a_status_list_from_the_future_is_refused() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let mut store = StatusLists::new();
    let at = now() - time::Duration::minutes(6);
    assert!(matches!(
        store.apply(list(&f, 1, sample_bits(10)), at),
        Err(Refusal::IssuedInFuture(_))
    ));
}

#[test]
fn a_status_list_issued_just_within_the_clock_skew_is_taken() {
    // An issuer whose clock runs up to the allowed skew ahead is still believed; a second more
    // is a list from the future.
    let f = fixture(KeyAlgorithm::Ed25519);
    let skew = crate::codec::token::MAX_CLOCK_SKEW;
    let mut store = StatusLists::new();
    assert!(
        store
            .apply(list(&f, 1, sample_bits(10)), now() - skew)
            .is_ok()
    );
    let mut store = StatusLists::new();
    assert!(matches!(
        store.apply(
            list(&f, 1, sample_bits(10)),
            now() - skew - time::Duration::seconds(1)
        ),
        Err(Refusal::IssuedInFuture(_))
    ));
}

#[test]
fn a_list_is_named_region_issuer_and_id_in_logs_and_errors() {
    let key = ListKey {
        region: RegionCode::HUNAN,
        issuer: "hn-2020-01".into(),
        list_id: 7,
    };
    assert_eq!(key.to_string(), "430000/hn-2020-01/7");
}

#[test]
fn a_rolled_back_status_list_is_refused_and_the_newer_one_kept() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let mut store = StatusLists::new();
    let old = list(&f, 1, StatusBits::new(10));
    store.apply(list(&f, 2, sample_bits(10)), now()).unwrap();
    assert_eq!(
        store.apply(old, now()),
        Err(Refusal::Rollback {
            held: 2,
            offered: 1
        })
    );
    assert_eq!(lookup(&store, 3, now()), ListStatus::Withdrawn);
}

#[test]
fn the_same_status_list_twice_is_unchanged_and_a_different_one_is_equivocation() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let mut store = StatusLists::new();
    let first = list(&f, 1, sample_bits(10));
    store.apply(first.clone(), now()).unwrap();
    assert_eq!(store.apply(first, now()), Ok(Applied::Unchanged));
    assert_eq!(
        store.apply(list(&f, 1, StatusBits::new(10)), now()),
        Err(Refusal::Equivocation { sequence: 1 })
    );
    assert_eq!(lookup(&store, 3, now()), ListStatus::Withdrawn);
}

#[test]
fn a_status_list_signed_by_the_wrong_key_is_refused() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let impostor = IssuerSigner::generate("hn-2020-01", KeyAlgorithm::Ed25519).unwrap();
    let forged = StatusList::issue(&impostor, &issuance(1), sample_bits(10)).unwrap();
    assert!(matches!(
        StatusList::open(&forged.to_bytes(), &f.trust),
        Err(StatusListError::BadSignature { .. })
    ));
    // A key of the other algorithm under the listed id is refused too.
    let p256 = IssuerSigner::generate("hn-2020-01", KeyAlgorithm::EcdsaP256Sha256).unwrap();
    let forged = StatusList::issue(&p256, &issuance(1), sample_bits(10)).unwrap();
    assert!(StatusList::open(&forged.to_bytes(), &f.trust).is_err());
    // And an issuer the registry does not list for the region.
    let stranger = IssuerSigner::generate("hn-2099", KeyAlgorithm::Ed25519).unwrap();
    let forged = StatusList::issue(&stranger, &issuance(1), sample_bits(10)).unwrap();
    assert!(matches!(
        StatusList::open(&forged.to_bytes(), &f.trust),
        Err(StatusListError::Trust(TrustError::UnknownIssuer { .. }))
    ));
}

#[test]
fn a_status_list_from_a_revoked_issuer_is_refused() {
    let mut f = fixture(KeyAlgorithm::Ed25519);
    f.trust.revoke(
        RegionCode::HUNAN,
        "hn-2020-01",
        now() - time::Duration::hours(1),
        "key leaked",
    );
    let issued = list(&f, 1, sample_bits(10));
    assert!(matches!(
        StatusList::open(&issued.to_bytes(), &f.trust),
        Err(StatusListError::Trust(TrustError::Revoked { .. }))
    ));
}

#[test]
fn a_truncated_status_list_is_refused_at_every_length() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let wire = list(&f, 1, sample_bits(1000)).to_bytes();
    for len in 0..wire.len() {
        assert!(
            StatusList::open(&wire[..len], &f.trust).is_err(),
            "accepted {len} of {} bytes",
            wire.len()
        );
    }
    let mut longer = wire.clone();
    longer.push(0);
    assert!(matches!(
        StatusList::open(&longer, &f.trust),
        Err(StatusListError::Format(FormatError::TrailingBytes(1)))
    ));
}

/// An issuer that signs the reserved value is refused like garbage: nothing a node holds may
/// ever carry it.
#[test]
fn a_status_list_carrying_the_reserved_value_is_refused() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let issued = list(&f, 1, StatusBits::new(8));
    let mut raw = issued.bits().as_bytes().to_vec();
    raw[1] = 0b0011_0000;
    // Re-sign honestly over the bad bits, so only the reserved value is wrong.
    let mut header = issued.header().clone();
    let reserved = StatusBits::from_verified_raw_for_tests(8, raw.clone());
    header.digest = reserved.digest();
    let signature = signed::sign_header(&f.signer, &header).unwrap();
    let wire = wire_of(&header, &signature, &raw);
    assert!(matches!(
        StatusList::open(&wire, &f.trust),
        Err(StatusListError::Format(FormatError::ReservedValue {
            index: 6
        }))
    ));
}

#[test]
fn status_bits_that_do_not_match_the_signed_digest_are_refused() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let issued = list(&f, 1, sample_bits(8));
    let mut raw = issued.bits().as_bytes().to_vec();
    raw[0] ^= 0b01;
    let wire = wire_of(issued.header(), issued.signature(), &raw);
    assert!(matches!(
        StatusList::open(&wire, &f.trust),
        Err(StatusListError::Format(FormatError::DigestMismatch))
    ));
}

fn wire_of(header: &ListHeader, signature: &[u8; 64], raw: &[u8]) -> Vec<u8> {
    let z = compress::deflate(raw);
    let mut out = signed::LIST_MAGIC.to_vec();
    out.push(1);
    header.write(&mut out);
    out.extend_from_slice(signature);
    out.extend_from_slice(&(z.len() as u32).to_be_bytes());
    out.extend_from_slice(&z);
    out
}

fn changed(mut bits: StatusBits) -> StatusBits {
    bits.set(3, CodeStatus::Valid);
    bits.set(4, CodeStatus::Withdrawn);
    bits.set(999, CodeStatus::Suspended);
    bits
}

#[test]
fn a_status_delta_turns_the_held_list_into_the_next() {
    let f = fixture(KeyAlgorithm::EcdsaP256Sha256);
    let a = list(&f, 1, sample_bits(1000));
    let b = list(&f, 2, changed(sample_bits(1000)).resized(1200));
    let delta = StatusDelta::between(&a, &b).unwrap();
    assert_eq!(delta.changes().len(), 3);
    let wire = delta.to_bytes();
    assert!(wire.len() < 300, "delta is {} bytes", wire.len());

    let mut store = StatusLists::new();
    store.apply(a.clone(), now()).unwrap();
    assert_eq!(
        store.apply_delta_bytes(&wire, &f.trust, now()),
        Ok(Applied::Installed { sequence: 2 })
    );
    assert_eq!(store.held(RegionCode::HUNAN, "hn-2020-01", 7), Some(&b));
    assert_eq!(lookup(&store, 3, now()), ListStatus::Valid);
    assert_eq!(lookup(&store, 4, now()), ListStatus::Withdrawn);
    assert_eq!(lookup(&store, 1100, now()), ListStatus::Valid);
    // Served again by another peer: nothing to do.
    assert_eq!(
        store.apply_delta_bytes(&wire, &f.trust, now()),
        Ok(Applied::Unchanged)
    );
    assert!(StatusDelta::between(&b, &a).is_none(), "no delta backwards");
}

#[test]
fn a_status_delta_for_another_base_is_refused() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let a = list(&f, 1, sample_bits(1000));
    let b = list(&f, 2, changed(sample_bits(1000)));
    let c = list(&f, 3, StatusBits::new(1000));
    let wire = StatusDelta::between(&b, &c).unwrap().to_bytes();
    let mut store = StatusLists::new();
    assert!(matches!(
        store.apply_delta_bytes(&wire, &f.trust, now()),
        Err(StatusListError::Refused(Refusal::DeltaBaseMismatch {
            held: None,
            ..
        }))
    ));
    store.apply(a, now()).unwrap();
    assert!(matches!(
        store.apply_delta_bytes(&wire, &f.trust, now()),
        Err(StatusListError::Refused(Refusal::DeltaBaseMismatch {
            held: Some(1),
            ..
        }))
    ));
    assert_eq!(lookup(&store, 3, now()), ListStatus::Withdrawn);
}

#[test]
fn a_status_delta_to_an_older_list_is_a_rollback() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let a = list(&f, 1, StatusBits::new(1000));
    let b = list(&f, 2, sample_bits(1000));
    let c = list(&f, 3, changed(sample_bits(1000)));
    let wire = StatusDelta::between(&a, &b).unwrap().to_bytes();
    let mut store = StatusLists::new();
    store.apply(c.clone(), now()).unwrap();
    assert_eq!(
        store.apply_delta_bytes(&wire, &f.trust, now()),
        Err(Refusal::Rollback {
            held: 3,
            offered: 2
        }
        .into())
    );
    assert_eq!(store.held(RegionCode::HUNAN, "hn-2020-01", 7), Some(&c));
}

#[test]
fn a_status_delta_whose_target_has_expired_is_refused() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let a = list(&f, 1, StatusBits::new(1000));
    let b = list(&f, 2, sample_bits(1000));
    let wire = StatusDelta::between(&a, &b).unwrap().to_bytes();
    let mut store = StatusLists::new();
    store.apply(a, now()).unwrap();
    let late = now() + time::Duration::hours(25);
    assert!(matches!(
        store.apply_delta_bytes(&wire, &f.trust, late),
        Err(StatusListError::Refused(Refusal::Expired(_)))
    ));
}

#[test]
fn a_status_delta_with_wrong_changes_never_yields_a_list() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let a = list(&f, 1, sample_bits(1000));
    let b = list(&f, 2, changed(sample_bits(1000)));
    let mut delta = StatusDelta::between(&a, &b).unwrap();
    delta.drop_change_for_tests();
    let wire = delta.to_bytes();
    let mut store = StatusLists::new();
    store.apply(a.clone(), now()).unwrap();
    assert!(matches!(
        store.apply_delta_bytes(&wire, &f.trust, now()),
        Err(StatusListError::Format(FormatError::DigestMismatch))
    ));
    assert_eq!(store.held(RegionCode::HUNAN, "hn-2020-01", 7), Some(&a));
}

#[test]
fn a_truncated_status_delta_is_refused_at_every_length() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let a = list(&f, 1, sample_bits(1000));
    let b = list(&f, 2, changed(sample_bits(1000)));
    let wire = StatusDelta::between(&a, &b).unwrap().to_bytes();
    let mut store = StatusLists::new();
    store.apply(a, now()).unwrap();
    for len in 0..wire.len() {
        assert!(
            store
                .apply_delta_bytes(&wire[..len], &f.trust, now())
                .is_err()
        );
    }
    assert_eq!(lookup(&store, 3, now()), ListStatus::Withdrawn);
}

#[test]
fn a_status_list_signature_is_not_a_code_signature() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let issued = list(&f, 1, sample_bits(10));
    let message = issued.header().signed_message();
    assert!(message.starts_with(header::SIGNING_DOMAIN));
    // No signed code format's payload starts with the domain.
    for region in [
        RegionCode::GUANGDONG,
        RegionCode::SICHUAN,
        RegionCode::HUNAN,
        RegionCode::HUBEI,
        RegionCode::NATIONAL,
    ] {
        let prefix = crate::regions::signed_format(region).unwrap().prefix;
        assert!(!header::SIGNING_DOMAIN.starts_with(prefix.as_bytes()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn status_list_decoder_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let f = fixture(KeyAlgorithm::Ed25519);
        let _ = StatusList::open(&bytes, &f.trust);
        let _ = StatusDelta::open(&bytes, &f.trust);
        let mut prefixed = signed::LIST_MAGIC.to_vec();
        prefixed.push(1);
        prefixed.extend_from_slice(&bytes);
        prop_assert!(StatusList::open(&prefixed, &f.trust).is_err());
    }

    #[test]
    fn status_list_any_mutation_of_a_signed_list_is_refused(
        seed in any::<u64>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let f = signed_fixture();
        let mut bits = StatusBits::new(4000);
        bits.set((seed % 4000) as u32, CodeStatus::Withdrawn);
        let wire = list(f, 1, bits).to_bytes();
        let mut mutated = wire.clone();
        for (at, xor) in &flips {
            let i = at.index(mutated.len());
            mutated[i] ^= xor;
        }
        prop_assume!(mutated != wire);
        // The header and signature are signed bit for bit, so any change there is refused. In
        // the compressed bits, DEFLATE ignores the padding bits of its last byte: flipping one
        // gives the same bits, which still match the signed digest. Whatever opens must be
        // exactly the issuer's list.
        let issued = StatusList::open(&wire, &f.trust).unwrap();
        match StatusList::open(&mutated, &f.trust) {
            Err(_) => {}
            Ok(opened) => prop_assert_eq!(&opened, &issued),
        }
        let signed_len = framing_len(&issued);
        if flips.iter().all(|(at, _)| at.index(wire.len()) < signed_len) {
            prop_assert!(StatusList::open(&mutated, &f.trust).is_err());
        }
    }

    #[test]
    fn status_list_any_mutation_of_a_delta_is_refused_or_harmless(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let f = signed_fixture();
        let a = list(f, 1, sample_bits(1000));
        let b = list(f, 2, changed(sample_bits(1000)));
        let wire = StatusDelta::between(&a, &b).unwrap().to_bytes();
        let mut mutated = wire.clone();
        for (at, xor) in &flips {
            let i = at.index(mutated.len());
            mutated[i] ^= xor;
        }
        let mut store = StatusLists::new();
        store.apply(a.clone(), now()).unwrap();
        // Recompression could in principle give another valid encoding; whatever is accepted
        // must be exactly the issuer's list B.
        match store.apply_delta_bytes(&mutated, &f.trust, now()) {
            Ok(_) => prop_assert_eq!(store.held(RegionCode::HUNAN, "hn-2020-01", 7), Some(&b)),
            Err(_) => prop_assert_eq!(store.held(RegionCode::HUNAN, "hn-2020-01", 7), Some(&a)),
        }
    }
}

/// Bytes of a list on the wire before its compressed bits: magic, version, header, signature
/// and the length of the compressed bits.
fn framing_len(list: &StatusList) -> usize {
    let mut header = Vec::new();
    list.header().write(&mut header);
    4 + 1 + header.len() + 64 + 4
}

/// Key generation dominates a proptest case; one key serves them all.
fn signed_fixture() -> &'static Fixture {
    static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    F.get_or_init(|| fixture(KeyAlgorithm::Ed25519))
}

#[test]
fn an_archive_serves_a_delta_since_a_kept_version_and_the_whole_list_otherwise() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let issuer = ListArchive::new();
    let key = ListKey {
        region: RegionCode::HUNAN,
        issuer: "hn-2020-01".into(),
        list_id: 7,
    };
    assert_eq!(issuer.serve(&key, None), None, "nothing published yet");
    let mut bits = sample_bits(1000);
    issuer.install(list(&f, 1, bits.clone()), now()).unwrap();
    for sequence in 2..=7 {
        bits.set(sequence as u32 * 10, CodeStatus::Withdrawn);
        issuer
            .install(list(&f, sequence, bits.clone()), now())
            .unwrap();
    }
    assert_eq!(issuer.serve(&key, Some(7)), Some(Served::Current));
    assert!(matches!(issuer.serve(&key, None), Some(Served::Whole(_))));
    // Versions 3 to 6 are kept: a follower there gets a delta, one at 1 or 2 the whole list.
    assert!(matches!(
        issuer.serve(&key, Some(3)),
        Some(Served::Delta(_))
    ));
    assert!(matches!(
        issuer.serve(&key, Some(2)),
        Some(Served::Whole(_))
    ));

    // A follower applies whatever it is served and ends at the issuer's list.
    let node = ListArchive::new();
    let Some(Served::Whole(first)) = issuer.serve(&key, None) else {
        panic!("whole list")
    };
    node.apply_bytes(&first, &f.trust, now()).unwrap();
    assert_eq!(node.sequence(&key), Some(7));
    assert_eq!(node.index(), vec![(key.clone(), 7)]);
    bits.set(999, CodeStatus::Suspended);
    issuer.install(list(&f, 8, bits), now()).unwrap();
    let Some(Served::Delta(delta)) = issuer.serve(&key, node.sequence(&key)) else {
        panic!("a delta from 7")
    };
    assert_eq!(
        node.apply_bytes(&delta, &f.trust, now()),
        Ok(Applied::Installed { sequence: 8 })
    );
    assert_eq!(node.list(&key), issuer.list(&key));
    assert_eq!(
        node.status(RegionCode::HUNAN, "hn-2020-01", 7, 999, now(), HOUR),
        ListStatus::Suspended
    );
    // The node can now serve a peer exactly as the issuer would.
    assert_eq!(node.serve(&key, Some(7)), issuer.serve(&key, Some(7)));
    // A refused list leaves the held one in place.
    assert!(node.apply_bytes(&first, &f.trust, now()).is_err());
    assert_eq!(node.sequence(&key), Some(8));
}

#[test]
fn an_answer_naming_another_list_than_the_one_asked_is_refused_whole_or_delta() {
    let f = fixture(KeyAlgorithm::Ed25519);
    let asked = ListKey {
        region: RegionCode::HUNAN,
        issuer: "hn-2020-01".into(),
        list_id: 7,
    };
    let other = |list_id| Issuance {
        list_id,
        ..issuance(5)
    };
    let node = ListArchive::new();
    let held = list(&f, 1, sample_bits(1000));
    node.apply_answer(&asked, &held.to_bytes(), &f.trust, now())
        .unwrap();

    // List 3's genuine whole list, asked as list 7: nothing installed, not even list 3.
    let list_3 = StatusList::issue(&f.signer, &other(3), StatusBits::new(1000)).unwrap();
    let refused = node.apply_answer(&asked, &list_3.to_bytes(), &f.trust, now());
    let answered = ListKey {
        list_id: 3,
        ..asked.clone()
    };
    assert_eq!(
        refused,
        Err(StatusListError::Refused(Refusal::NotTheListAsked {
            asked: asked.clone(),
            answered: answered.clone(),
        }))
    );
    assert_eq!(node.index(), vec![(asked.clone(), 1)]);

    // A genuine delta of list 7 is refused when list 3 was asked; asked as list 7 it installs.
    let next = list(&f, 2, changed(sample_bits(1000)));
    let delta = StatusDelta::between(&held, &next).unwrap().to_bytes();
    assert!(matches!(
        node.apply_answer(&answered, &delta, &f.trust, now()),
        Err(StatusListError::Refused(Refusal::NotTheListAsked { .. }))
    ));
    assert_eq!(node.sequence(&asked), Some(1));
    assert_eq!(
        node.apply_answer(&asked, &delta, &f.trust, now()),
        Ok(Applied::Installed { sequence: 2 })
    );
    // Asked again for the list it now holds, the same delta changes nothing.
    assert_eq!(
        node.apply_answer(&asked, &delta, &f.trust, now()),
        Ok(Applied::Unchanged)
    );
}
