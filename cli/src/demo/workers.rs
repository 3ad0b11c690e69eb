//! Scenario (b): Henan's labour office confirms 500 workers to Zhejiang (转码互认): Zhejiang's
//! verdict for each, a signed recognition receipt for every PASS written to disk, and every
//! receipt checked offline against the registry alone ([`super::receipts`]).

use std::path::Path;

use huren_adapters::sim::issue::label;
use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{ConfirmWorkersRequest, ResidentIdentity, Verdict, Worker, worker};
use time::OffsetDateTime;

use super::check::{Checks, Timer};
use crate::loopback::people::People;
use crate::loopback::stack::Stack;
use crate::report::answers;
use crate::report::status::CallError;

pub const WORKERS: usize = 500;
/// Workers sent by ID number and name (Henan's own residents); the rest by their code.
const BY_ID: usize = 400;

pub async fn run(
    stack: &Stack,
    people: &mut People,
    receipts_dir: &Path,
    checks: &mut Checks,
) -> anyhow::Result<u64> {
    let henan = stack.regions.service(RegionCode::HENAN)?;
    let mix = [
        (Colour::Green, 950),
        (Colour::Yellow, 35),
        (Colour::Red, 15),
    ];
    let mut workers = Vec::with_capacity(WORKERS);
    let mut ids = std::collections::HashSet::new();
    let mut greens = 0;
    let now = OffsetDateTime::now_utc();
    for i in 0..WORKERS {
        let who = people.resident(RegionCode::HENAN);
        ids.insert(who.id.expose().to_string());
        let colour = people.colour(&mix);
        greens += usize::from(colour == Colour::Green);
        let identity = if i < BY_ID {
            henan.store().upsert(
                &who.id,
                &who.name,
                label(RegionCode::HENAN, colour)?,
                None,
                now,
            )?;
            worker::Identity::Resident(ResidentIdentity {
                id_number: who.id.expose().to_string(),
                name: who.name.clone(),
            })
        } else {
            let issued = henan
                .issue(huren_adapters::sim::IssueInput::new(
                    who.id.clone(),
                    &who.name,
                    colour,
                ))
                .await?;
            worker::Identity::Payload(issued.payload)
        };
        workers.push(Worker {
            worker_ref: format!("HA-{:04}", i + 1),
            identity: Some(identity),
        });
    }
    println!(
        "  {WORKERS} workers ({BY_ID} by ID number + name, looked up at Henan's service; {} by their Henan code), {greens} of them 低风险 (green)",
        WORKERS - BY_ID
    );
    let mut client =
        RecognitionServiceClient::new(stack.channel("province", Some("410000")).await?);
    let timer = Timer::start();
    let response = client
        .confirm_workers(super::check::bulk(ConfirmWorkersRequest {
            destination_region: "330000".into(),
            workers,
            purpose: "labour-export".into(),
        }))
        .await
        .map_err(|s| CallError::context("ConfirmWorkers", s))?
        .into_inner();
    let took = timer.show();
    let totals = response.totals.unwrap_or_default();
    println!(
        "  ConfirmWorkers answered in {took}: {} confirmed, {} not confirmed, {} errors",
        totals.confirmed, totals.not_confirmed, totals.errors
    );
    let first_rows: Vec<String> = answers::confirmations(&response)
        .lines()
        .skip(1)
        .take(6)
        .map(String::from)
        .collect();
    println!("{}", first_rows.join("\n"));
    println!("  …");
    checks.equal(
        "every green worker confirmed, the others not, none in error",
        (
            totals.confirmed as usize,
            totals.not_confirmed as usize,
            totals.errors,
        ),
        (greens, WORKERS - greens, 0),
    );
    let with_receipt = response
        .confirmations
        .iter()
        .filter(|c| c.receipt.is_some())
        .count();
    let pass = response
        .confirmations
        .iter()
        .filter(|c| c.verification.as_ref().map(|v| v.verdict) == Some(Verdict::Pass as i32))
        .count();
    checks.expect(
        "a signed receipt for every PASS and only for a PASS",
        with_receipt == pass && pass == greens,
        format!("{with_receipt} receipts, {pass} PASS, {greens} green"),
    );
    let refs = response
        .confirmations
        .iter()
        .filter_map(|c| c.verification.as_ref()?.subject.as_ref())
        .filter(|s| s.subject_ref.len() >= 32)
        .count();
    let example = response
        .confirmations
        .iter()
        .find_map(|c| c.verification.as_ref()?.subject.as_ref())
        .map(|s| answers::short(&s.subject_ref))
        .unwrap_or_default();
    checks.expect(
        "no resident ID number anywhere in the province's answer (the IDs it sent included)",
        !super::check::shows_an_id(&format!("{response:?}"), &ids),
        "an ID number came back",
    );
    checks.saw(
        "province",
        format!("verdict, subject_ref {example}, signed receipts"),
    );
    checks.expect(
        format!("province sees a keyed subject_ref for every worker (e.g. {example}), never an ID number"),
        refs == WORKERS,
        format!("{refs} of {WORKERS} carry a subject_ref"),
    );

    let written = crate::receipt_files::write_receipts(receipts_dir, &response)?;
    println!("  {written} receipts written to {}", receipts_dir.display());
    super::receipts::check_offline(stack, receipts_dir, written, checks).await?;
    Ok(greens as u64)
}
