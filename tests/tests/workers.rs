//! ConfirmWorkers (转码互认) on a full node: Henan confirms workers to Zhejiang, by code or by ID
//! and name; a PASS carries a receipt that verifies offline against the registry and fails
//! once tampered with; other verdicts carry none; a bad row fails alone.

use huren::recognition::receipt::{self, ReceiptError};
use huren::recognition::wire;
use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    ConfirmWorkersRequest, ConfirmWorkersResponse, ResidentIdentity, Verdict, Worker, worker,
};
use huren_tests::node::{TestNode, resident_id};
use prost::Message;
use tonic::Code;

fn resident(worker_ref: &str, id: &str, name: &str) -> Worker {
    Worker {
        worker_ref: worker_ref.into(),
        identity: Some(worker::Identity::Resident(ResidentIdentity {
            id_number: id.into(),
            name: name.into(),
        })),
    }
}

fn by_code(worker_ref: &str, payload: &str) -> Worker {
    Worker {
        worker_ref: worker_ref.into(),
        identity: Some(worker::Identity::Payload(payload.into())),
    }
}

async fn confirm(node: &TestNode, workers: Vec<Worker>) -> ConfirmWorkersResponse {
    let mut henan =
        RecognitionServiceClient::new(node.channel_as("province", Some("410000")).await);
    henan
        .confirm_workers(ConfirmWorkersRequest {
            destination_region: "330000".into(),
            workers,
            purpose: "labour-export".into(),
        })
        .await
        .expect("confirmed")
        .into_inner()
}

#[tokio::test]
async fn henan_confirms_workers_to_zhejiang_and_each_pass_carries_a_receipt() {
    let node = TestNode::start().await;
    let (green, red, sichuan) = (
        resident_id("410102", 1),
        resident_id("410102", 2),
        resident_id("510104", 3),
    );
    let green_code = node
        .issue(RegionCode::HENAN, &green, "刘一", Colour::Green)
        .await;
    node.issue(RegionCode::HENAN, &red, "陈二", Colour::Red)
        .await;
    let sc = node
        .issue(RegionCode::SICHUAN, &sichuan, "张三", Colour::Green)
        .await;

    let response = confirm(
        &node,
        vec![
            resident("w1", &green, "刘一"),
            resident("w2", &red, "陈二"),
            by_code("w3", &sc.payload),
            resident("w4", "41010219900101000Z", "坏号"),
            Worker {
                worker_ref: "w5".into(),
                identity: None,
            },
            by_code("w6", &green_code.payload),
        ],
    )
    .await;
    let bytes = response.encode_to_vec();
    for id in [&green, &red, &sichuan] {
        assert!(
            !bytes.windows(id.len()).any(|w| w == id.as_bytes()),
            "no ID number in the answer"
        );
    }
    let totals = response.totals.expect("totals");
    assert_eq!(
        (totals.confirmed, totals.not_confirmed, totals.errors),
        (3, 1, 2)
    );
    let rows = &response.confirmations;
    assert_eq!(
        rows.iter()
            .map(|r| r.worker_ref.as_str())
            .collect::<Vec<_>>(),
        ["w1", "w2", "w3", "w4", "w5", "w6"]
    );
    assert_eq!(
        rows[5].receipt.as_ref().expect("receipt").subject_ref,
        rows[0].receipt.as_ref().expect("receipt").subject_ref,
        "the same worker by code or by ID is the same subject for Zhejiang"
    );
    let v1 = rows[0].verification.as_ref().expect("judged");
    assert_eq!(v1.verdict(), Verdict::Pass);
    assert_eq!(v1.verifying_region, "330000");
    let r1 = rows[0].receipt.as_ref().expect("a PASS has a receipt");
    assert_eq!(
        r1.subject_ref,
        v1.subject.as_ref().expect("subject").subject_ref
    );
    assert_eq!(
        rows[1].verification.as_ref().expect("judged").verdict(),
        Verdict::CentralQuarantine
    );
    assert!(rows[1].receipt.is_none(), "no receipt without a PASS");
    let r3 = rows[2]
        .receipt
        .as_ref()
        .expect("Sichuan's PASS has a receipt");
    assert_eq!(r3.agreement, "agreements/330000-510000");
    assert_eq!(
        rows[3].error.as_ref().expect("bad ID").code,
        Code::InvalidArgument as i32
    );
    assert_eq!(
        rows[4].error.as_ref().expect("no identity").code,
        Code::InvalidArgument as i32
    );

    // Offline, with nothing but the registry directory.
    let registry =
        huren_registry::store::load(&node.registry_dir(), None, time::OffsetDateTime::now_utc())
            .expect("registry");
    let now = time::OffsetDateTime::now_utc();
    let env = wire::from_envelope(r1.envelope.as_ref().expect("envelope"));
    let checked = receipt::verify(&env, &registry, now).expect("the receipt verifies");
    assert_eq!(checked.body.destination_region, "330000");
    assert_eq!(checked.body.origin_region, "410000");
    assert_eq!(checked.body.origin_colour, Colour::Green);
    assert_eq!(checked.node_id, "gateway-1");
    assert_eq!(checked.body.subject_ref, r1.subject_ref);
    assert!(checked.body.valid_until > now);

    // The file round trip D's demo and `huren receipt verify` use.
    let path = node.dir().join("w1.receipt.json");
    receipt::write_file(&path, &env).expect("written");
    let back = receipt::read_file(&path).expect("read");
    assert_eq!(back, env);

    let mut altered = env.clone();
    let text = String::from_utf8(altered.payload.clone()).expect("JSON");
    altered.payload = text.replace("GREEN", "RED").into_bytes();
    assert!(matches!(
        receipt::verify(&altered, &registry, now),
        Err(ReceiptError::BadSignature { .. })
    ));
    let mut stranger = env.clone();
    stranger.signatures[0].key_id = huren_registry::KeyId("00".repeat(32));
    assert!(matches!(
        receipt::verify(&stranger, &registry, now),
        Err(ReceiptError::UnknownKey(_))
    ));
    let later = checked.body.valid_until + time::Duration::seconds(1);
    assert!(matches!(
        receipt::verify(&env, &registry, later),
        Err(ReceiptError::Expired(_))
    ));

    // Four rows were judged (the two bad rows judged nobody), each on record.
    assert_eq!(node.audit_records().len(), 4);
}

#[tokio::test]
async fn only_provinces_confirm_workers_and_they_name_the_destination() {
    let node = TestNode::start().await;
    let code = node
        .issue(
            RegionCode::HUNAN,
            &resident_id("430102", 1),
            "周九",
            Colour::Green,
        )
        .await;
    let request = |destination: &str| ConfirmWorkersRequest {
        destination_region: destination.into(),
        workers: vec![by_code("w", &code.payload)],
        purpose: String::new(),
    };
    for (role, region) in [("checkpoint", None), ("carrier", None), ("national", None)] {
        let mut client = RecognitionServiceClient::new(node.channel_as(role, region).await);
        let status = client
            .confirm_workers(request("330000"))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
    }
    let mut henan =
        RecognitionServiceClient::new(node.channel_as("province", Some("410000")).await);
    let status = henan
        .confirm_workers(request(""))
        .await
        .expect_err("no destination");
    assert_eq!(status.code(), Code::InvalidArgument);
    let ok = henan
        .confirm_workers(request("330000"))
        .await
        .expect("a province may")
        .into_inner();
    assert_eq!(ok.totals.expect("totals").confirmed, 1);
}
