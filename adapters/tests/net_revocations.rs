//! Guangdong's revocation list over TLS: a code withdrawn when its holder's status changed is
//! refused once the gateway has fetched the service's signed list.

mod net_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use huren_adapters::net::{NetError, StatusClient};
use huren_adapters::regions::guangdong::revocations::RevocationLists;
use huren_adapters::regions::guangdong::{RefreshError, refresh_revocations};
use huren_adapters::sim::{Faults, IssueInput};
use huren_adapters::testing::{KeyRing, flat};
use huren_adapters::{
    CodeError, Colour, IssuerSigner, ReadContext, RegionCode, default_adapters_with,
};
use net_support::*;
use time::OffsetDateTime;

#[tokio::test]
async fn a_code_revoked_after_a_status_change_is_refused_once_the_list_is_fetched() {
    let pki = pki();
    let gd = start(&pki, RegionCode::GUANGDONG, Faults::default()).await;
    let signer = IssuerSigner::from_pki(pki.path(), "440000").unwrap();
    let mut ring = KeyRing::new().with_signer(RegionCode::GUANGDONG, &signer);
    ring.set_status_service(RegionCode::GUANGDONG, gd.status_service().unwrap());
    let lists = Arc::new(RevocationLists::default());
    let adapters = default_adapters_with(lists.clone()).unwrap();
    let client = StatusClient::new(Default::default());
    let deadline = || Instant::now() + Duration::from_secs(2);

    let green = gd
        .issue(IssueInput::new(resident(), "张三", Colour::Green))
        .await
        .unwrap();
    let other = gd
        .issue(IssueInput::new(second_resident(), "赵六", Colour::Green))
        .await
        .unwrap();
    assert!(
        refresh_revocations(&client, &ring, &lists, deadline())
            .await
            .unwrap()
    );
    let ctx = ReadContext::new(&ring, &client, OffsetDateTime::now_utc(), deadline());
    let read = adapters
        .claim(&green.payload)
        .unwrap()
        .read(&green.payload, &ctx)
        .await;
    assert_eq!(flat(read.unwrap()).native_label, "绿码");

    gd.set_status(&resident(), Colour::Red).await.unwrap();
    // Lists are signed with one-second timestamps; a newer list must carry a later time.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        refresh_revocations(&client, &ring, &lists, deadline())
            .await
            .unwrap()
    );
    let ctx = ReadContext::new(&ring, &client, OffsetDateTime::now_utc(), deadline());
    let read = adapters
        .claim(&green.payload)
        .unwrap()
        .read(&green.payload, &ctx)
        .await;
    assert!(
        matches!(read, Err(CodeError::CodeRevoked { ref serial, .. }) if *serial == green.code_id),
        "{read:?}"
    );
    let still = adapters
        .claim(&other.payload)
        .unwrap()
        .read(&other.payload, &ctx)
        .await;
    assert_eq!(
        flat(still.unwrap()).native_label,
        "绿码",
        "only the changed holder's code is revoked"
    );
}

#[tokio::test]
async fn a_list_from_an_impostor_is_never_fetched() {
    let pki = pki();
    let faults = Faults {
        wrong_identity: true,
        ..Faults::default()
    };
    let gd = start(&pki, RegionCode::GUANGDONG, faults).await;
    let signer = IssuerSigner::from_pki(pki.path(), "440000").unwrap();
    let mut ring = KeyRing::new().with_signer(RegionCode::GUANGDONG, &signer);
    ring.set_status_service(RegionCode::GUANGDONG, gd.status_service().unwrap());
    let lists = RevocationLists::default();
    let err = refresh_revocations(
        &StatusClient::new(Default::default()),
        &ring,
        &lists,
        Instant::now() + Duration::from_secs(2),
    )
    .await;
    assert!(
        matches!(err, Err(RefreshError::Net(NetError::Identity(_)))),
        "{err:?}"
    );
}
