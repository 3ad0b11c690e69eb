//! The checkpoint's scanning page in a real Chromium: a fake camera plays a generated QR code of
//! a green code (the page shows 通行 / PASS) and of a forged one (停 / STOP); a keyboard-wedge
//! scanner's line and the English switch work; a person without a phone is looked up by ID
//! card; screenshots land in target/screenshots/.

mod browser;
mod console_kit;

use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_cli::loopback::codes::forge;
use huren_cli::loopback::people::People;
use huren_cli::loopback::stack::Stack;

use browser::{Browser, Session, qr_video};
use console_kit::{Console, code};

const ANSWER: &str = "return document.getElementById('answer').dataset.answer";

/// Waits until the page shows `answer` (PASS or STOP) and returns the big word on screen.
async fn shown(session: &Session, answer: &str) -> String {
    session
        .wait_for(
            answer,
            &format!("return document.getElementById('answer').dataset.answer === '{answer}'"),
            Duration::from_secs(60),
        )
        .await;
    session
        .eval("return document.getElementById('word').textContent")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_camera_passes_a_green_code_and_stops_a_forged_one() {
    let Some(browser) = Browser::find("console_checkpoint") else {
        return;
    };
    let stack = Stack::fresh("console-checkpoint").await.unwrap();
    let green = code(
        &stack,
        &mut People::new(13),
        RegionCode::GUANGDONG,
        Colour::Green,
    )
    .await;
    let forged = forge(&green);
    // A Henan resident whose family registered a code for them; they carry only their ID card.
    let mut people = People::new(14);
    let elder = people.resident(RegionCode::HENAN);
    huren_cli::loopback::codes::Codes::load(stack.pki())
        .unwrap()
        .issue(
            &stack.regions,
            RegionCode::HENAN,
            &elder,
            Colour::Green,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let console = Console::start("checkpoint", &stack, &[]).await;

    // A phone's green code held up to the webcam.
    let session = browser
        .session(Some(&qr_video(&green, "checkpoint-green.y4m")), (1280, 960))
        .await;
    session.client.goto(&console.url).await.unwrap();
    assert_eq!(shown(&session, "PASS").await, "通行");
    let page = session.eval("return document.body.innerText").await;
    let page = page.as_str().unwrap();
    assert!(page.contains("绿码"), "{page}");
    assert!(page.contains("440000 广东"), "{page}");
    assert!(page.contains("离线签名校验"), "{page}");
    assert!(page.contains('*'), "a masked name: {page}");
    let form_open = session
        .eval("return !document.querySelector('#manual fieldset').disabled")
        .await;
    assert_eq!(form_open, true, "the ID-card form is open");
    session.screenshot("checkpoint").await;

    // English is one click away.
    session
        .eval("document.getElementById('lang').click(); return true")
        .await;
    let word = session
        .eval("return document.getElementById('word').textContent")
        .await;
    assert_eq!(word, "PASS");
    let camera = session
        .eval("return document.getElementById('camera-state').textContent")
        .await;
    assert!(
        camera.as_str().unwrap().starts_with("Camera on"),
        "{camera}"
    );
    session.screenshot("checkpoint-en").await;
    session.close().await;

    // A forged code held up to the webcam.
    let session = browser
        .session(
            Some(&qr_video(&forged, "checkpoint-forged.y4m")),
            (1280, 960),
        )
        .await;
    session.client.goto(&console.url).await.unwrap();
    assert_eq!(shown(&session, "STOP").await, "停");
    let verdict = session
        .eval("return document.getElementById('answer').dataset.verdict")
        .await;
    assert_eq!(verdict, "REJECT");
    session.screenshot("checkpoint-forged").await;

    // A keyboard-wedge scanner types the green code and CR/LF-like Enter into the focused field.
    session
        .eval("document.getElementById('camera').click(); return true")
        .await;
    // A frame already on its way may still answer; let it land before the scanner's line.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let typed = format!(
        "const i = document.getElementById('scan'); i.value = {}; \
         i.form.requestSubmit(); return true",
        serde_json::to_string(&format!("{green} ")).unwrap()
    );
    session.eval(&typed).await;
    assert_eq!(shown(&session, "PASS").await, "通行");
    assert_eq!(session.eval(ANSWER).await, "PASS");

    // An elderly Henan resident without a phone, looked up by the ID card's number and name.
    let stop = "document.getElementById('answer').dataset.answer = ''; return true";
    session.eval(stop).await;
    let typed = format!(
        "document.getElementById('id-number').value = {}; \
         document.getElementById('id-name').value = {}; \
         document.getElementById('manual').requestSubmit(); return true",
        serde_json::to_string(elder.id.expose()).unwrap(),
        serde_json::to_string(&elder.name).unwrap()
    );
    session.eval(&typed).await;
    assert_eq!(shown(&session, "PASS").await, "通行");
    let page = session.eval("return document.body.innerHTML").await;
    let page = page.as_str().unwrap();
    assert!(page.contains("410000 河南"), "{page}");
    assert!(page.contains("发码地区在线查询"), "{page}");
    assert!(
        !page.contains(elder.id.expose()),
        "the number is cleared and never shown: {page}"
    );
    session.screenshot("checkpoint-id-card").await;
    session.close().await;
    stack.shutdown().await;
}
