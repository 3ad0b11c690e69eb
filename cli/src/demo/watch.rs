//! Scenario (d): the carrier watches one car of the train until departure, a few seconds ahead;
//! Sichuan changes one passenger to red, and the change arrives on the stream as a DENY before
//! the train leaves. The stream then ends by itself at departure.

use std::time::Duration;

use anyhow::Context as _;
use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::manifests_service_client::ManifestsServiceClient;
use huren_proto::v1::{Boarding, WatchManifestRequest};
use time::OffsetDateTime;

use super::check::{Checks, Timer};
use super::train::{Kind, Rider, manifest};
use crate::loopback::stack::Stack;
use crate::report::names;
use crate::report::status::CallError;

/// Passengers in the watched car.
const CAR: usize = 40;
/// How far ahead the departure is.
const DEPARTS_IN: time::Duration = time::Duration::seconds(5);

pub async fn run(stack: &Stack, riders: &[Rider], checks: &mut Checks) -> anyhow::Result<()> {
    let car: Vec<Rider> = riders
        .iter()
        .filter(|r| {
            r.region == RegionCode::SICHUAN && r.kind == Kind::Genuine && r.colour == Colour::Green
        })
        .take(CAR)
        .cloned()
        .collect();
    let turning = car
        .get(CAR / 2)
        .context("not enough green Sichuan passengers")?;
    let departs = OffsetDateTime::now_utc() + DEPARTS_IN;
    let mut client = ManifestsServiceClient::new(stack.channel("carrier", None).await?);
    let timer = Timer::start();
    let mut stream = client
        .watch_manifest(WatchManifestRequest {
            manifest: Some(manifest(&car, departs)),
        })
        .await
        .map_err(|s| CallError::context("WatchManifest", s))?
        .into_inner();
    let bound = Duration::from_secs(DEPARTS_IN.whole_seconds() as u64 + 10);
    let mut events = 0;
    let mut seen_red = None;
    let mut departed = None;
    let mut first_board = 0;
    // Ends at departure (the server's last message), when the stream closes, or at the bound.
    loop {
        let next =
            tokio::time::timeout(bound.saturating_sub(timer.elapsed()), stream.message()).await;
        let event = match next {
            Err(_) => {
                println!("  no departure message within {bound:?}");
                break;
            }
            Ok(Err(status)) => return Err(CallError::context("WatchManifest stream", status)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(event))) => event,
        };
        events += 1;
        let at = timer.show();
        let totals = event.totals.unwrap_or_default();
        if events == 1 {
            first_board = totals.board;
            println!(
                "  {at}: first message, {} passengers: {} BOARD, {} DENY, {} REVIEW; departure in {} s",
                event.changes.len(),
                totals.board,
                totals.deny,
                totals.review,
                DEPARTS_IN.whole_seconds()
            );
            let who = &turning.resident;
            stack
                .regions
                .service(RegionCode::SICHUAN)?
                .set_status(&who.id, Colour::Red)
                .await
                .context("changing the passenger's status at Sichuan's service")?;
            println!(
                "  {}: Sichuan's service sets passenger {} ({}*) to 红码 (red)",
                timer.show(),
                turning.seat,
                who.name.chars().next().unwrap_or('?')
            );
            continue;
        }
        for change in &event.changes {
            println!(
                "  {at}: change: seat {} now {} ({}, {})",
                change.seat,
                names::boarding(change.boarding),
                change
                    .verification
                    .as_ref()
                    .map_or("-", |v| names::verdict(v.verdict)),
                change
                    .verification
                    .as_ref()
                    .and_then(|v| v.status.as_ref())
                    .map_or("-", |s| names::colour(s.colour)),
            );
            if change.seat == turning.seat && change.boarding == Boarding::Deny as i32 {
                seen_red.get_or_insert(timer.elapsed());
            }
        }
        if event.departed {
            println!(
                "  {at}: departed: {} BOARD, {} DENY, {} REVIEW; the stream ends",
                totals.board, totals.deny, totals.review
            );
            departed = Some(timer.elapsed());
            break;
        }
    }
    checks.equal(
        "the whole car boards at first",
        first_board as usize,
        car.len(),
    );
    checks.expect(
        format!(
            "the passenger turned red is seen as DENY before departure ({})",
            seen_red.map_or("never".to_string(), super::check::show)
        ),
        seen_red.is_some_and(|t| departed.is_none_or(|d| t <= d)),
        "no DENY change for that seat arrived",
    );
    checks.expect(
        "the stream ends cleanly with a departure message",
        departed.is_some(),
        "no message with departed = true",
    );
    Ok(())
}
