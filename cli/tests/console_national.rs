//! The national dashboard in a real Chromium: after checkpoint scans and a province's worker
//! confirmations, the page's plotters charts carry the gateway's own numbers (the legend of
//! every verdict, the matrix cell, the route's bar) and the health table lists every region;
//! a screenshot lands in target/screenshots/.

mod browser;
mod console_kit;

use std::time::Duration;

use huren::recognition::wire::timestamp;
use huren_adapters::{Colour, RegionCode};
use huren_cli::loopback::codes::forge;
use huren_cli::loopback::people::People;
use huren_cli::loopback::stack::Stack;
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    ConfirmWorkersRequest, GetNationalSummaryRequest, VerifyCodeRequest, Worker, worker,
};

use browser::Browser;
use console_kit::{Console, code};

/// The words inside one chart's SVG <text> elements, as the page holds them.
fn texts(chart: &str) -> String {
    format!(
        "return Array.from(document.querySelectorAll('#chart-{chart} svg text'))\
         .map(t => t.textContent.trim())"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_charts_the_gateways_numbers() {
    let Some(browser) = Browser::find("console_national") else {
        return;
    };
    let stack = Stack::fresh("console-national").await.unwrap();
    let mut people = People::new(31);

    // A checkpoint scans three green Guangdong codes and one forged one.
    let mut checkpoint =
        RecognitionServiceClient::new(stack.channel("checkpoint", None).await.unwrap());
    for i in 0..4 {
        let green = code(&stack, &mut people, RegionCode::GUANGDONG, Colour::Green).await;
        let payload = if i == 3 { forge(&green) } else { green };
        checkpoint
            .verify_code(VerifyCodeRequest {
                payload,
                verifying_region: String::new(),
                purpose: "checkpoint-entry".into(),
            })
            .await
            .unwrap();
    }
    // Henan's labour office confirms two green workers and a red one to Zhejiang.
    let ha = RegionCode::HENAN;
    let mut workers = Vec::new();
    for (i, colour) in [Colour::Green, Colour::Green, Colour::Red]
        .into_iter()
        .enumerate()
    {
        let payload = code(&stack, &mut people, ha, colour).await;
        workers.push(Worker {
            worker_ref: format!("HA-{i}"),
            identity: Some(worker::Identity::Payload(payload)),
        });
    }
    RecognitionServiceClient::new(stack.channel("province", Some("410000")).await.unwrap())
        .confirm_workers(ConfirmWorkersRequest {
            destination_region: "330000".into(),
            workers,
            purpose: "labour-export".into(),
        })
        .await
        .unwrap();

    // What the gateway itself says, to hold the page to.
    let now = time::OffsetDateTime::now_utc();
    let summary = CoordinationServiceClient::new(stack.channel("national", None).await.unwrap())
        .get_national_summary(GetNationalSummaryRequest {
            start_time: Some(timestamp(now - time::Duration::hours(1))),
            end_time: Some(timestamp(now + time::Duration::minutes(1))),
            window: None,
        })
        .await
        .unwrap()
        .into_inner();
    let decisions: u64 = summary.verifications.iter().map(|v| v.count).sum();
    let zj_from_gd: u64 = summary
        .verifications
        .iter()
        .filter(|v| v.verifying_region == "330000" && v.issuing_region == "440000")
        .map(|v| v.count)
        .sum();
    assert_eq!(zj_from_gd, 4, "{summary:?}");
    let route = summary
        .confirmations
        .iter()
        .find(|c| c.origin_region == "410000" && c.destination_region == "330000")
        .expect("the Henan → Zhejiang route is counted");
    assert_eq!((route.confirmed, route.not_confirmed), (2, 1));

    let console = Console::start("national", &stack, &["--refresh", "1s"]).await;
    let session = browser.session(None, (1280, 1500)).await;
    session.client.goto(&console.url).await.unwrap();
    let want = format!("核验总数 {decisions} ");
    session
        .wait_for(
            &want,
            &format!("return document.getElementById('status').textContent.includes('{want}')"),
            Duration::from_secs(60),
        )
        .await;

    let verdicts = session.eval(&texts("verdicts")).await;
    for word in [
        "PASS",
        "REJECT",
        "HOME_QUARANTINE",
        "CENTRAL_QUARANTINE",
        "REVIEW",
    ] {
        assert!(
            verdicts.as_array().unwrap().iter().any(|t| t == word),
            "{word}: {verdicts}"
        );
    }
    let colours = session.eval(&texts("colours")).await;
    assert!(
        colours.as_array().unwrap().iter().any(|t| t == "GREEN"),
        "{colours}"
    );
    let matrix = session.eval(&texts("matrix")).await;
    let matrix = matrix.as_array().unwrap();
    assert!(
        matrix.iter().any(|t| t == "4"),
        "the 330000 × 440000 cell: {matrix:?}"
    );
    assert!(matrix.iter().any(|t| t == "330000") && matrix.iter().any(|t| t == "440000"));
    let routes = session.eval(&texts("routes")).await;
    assert!(
        routes
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "410000 → 330000"),
        "{routes}"
    );
    // The series is drawn: a line per verdict, and the PASS line rises in the current minute.
    let lines = session
        .eval("return document.querySelectorAll('#chart-verdicts svg polyline').length")
        .await;
    assert!(lines.as_u64().unwrap() >= 5, "{lines}");
    let health = session
        .eval("return Array.from(document.querySelectorAll('#health tr')).map(r => r.textContent)")
        .await;
    let health = health.as_array().unwrap();
    assert_eq!(health.len(), summary.region_health.len(), "{health:?}");
    assert!(
        health
            .iter()
            .any(|r| r.as_str().unwrap().contains("410000 河南")),
        "{health:?}"
    );
    // One node answers for every region: nothing is missing from the counts.
    let partial = session
        .eval("return document.getElementById('partial') !== null")
        .await;
    assert_eq!(partial, false);
    session.screenshot("national").await;

    session
        .eval("document.getElementById('lang').click(); return true")
        .await;
    let title = session
        .eval("return document.querySelector('h1').textContent")
        .await;
    assert_eq!(title, "National health-code recognition");
    session.screenshot("national-en").await;
    session.close().await;
    stack.shutdown().await;
}
