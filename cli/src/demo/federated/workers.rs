//! Scene 2: Henan's labour office confirms workers to Zhejiang at west, the node that serves
//! Henan: each worker is looked up by ID at Henan's own service, and the ID never leaves west.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::worker::Identity;
use huren_proto::v1::{ConfirmWorkersRequest, ResidentIdentity, Worker};

use super::Scene;
use crate::demo::check::{Checks, bulk};
use crate::federation::issue::KNOWN_AFTER;
use crate::report::status::CallError;

const WORKERS: usize = 12;
/// Every fourth worker has a red code.
const RED_EVERY: usize = 4;

pub async fn run(scene: &mut Scene<'_>, checks: &mut Checks) -> anyhow::Result<u64> {
    let mut workers = Vec::new();
    for i in 0..WORKERS {
        let colour = match i % RED_EVERY == RED_EVERY - 1 {
            true => Colour::Red,
            false => Colour::Green,
        };
        let (resident, _) = scene.issue(RegionCode::HENAN, colour)?;
        workers.push(Worker {
            worker_ref: format!("ha-{i:03}"),
            identity: Some(Identity::Resident(ResidentIdentity {
                id_number: resident.id.expose().to_string(),
                name: resident.name,
            })),
        });
    }
    tokio::time::sleep(KNOWN_AFTER).await;
    let channel = scene
        .federation
        .channel("west", "province", Some("410000"))
        .await?;
    let answer = RecognitionServiceClient::new(channel)
        .confirm_workers(bulk(ConfirmWorkersRequest {
            destination_region: "330000".into(),
            workers,
            purpose: "labour-export".into(),
        }))
        .await
        .map_err(|s| CallError::context("ConfirmWorkers at west", s))?
        .into_inner();
    let totals = answer.totals.unwrap_or_default();
    println!(
        "  {WORKERS} Henan workers looked up by ID at Henan's service through west: {} confirmed, {} not, {} errors",
        totals.confirmed, totals.not_confirmed, totals.errors
    );
    let reds = WORKERS / RED_EVERY;
    checks.equal(
        "every green worker confirmed to Zhejiang, the red ones not, none in error",
        (
            totals.confirmed as usize,
            totals.not_confirmed as usize,
            totals.errors,
        ),
        (WORKERS - reds, reds, 0),
    );
    let receipts = answer
        .confirmations
        .iter()
        .filter(|c| c.receipt.is_some())
        .count();
    checks.equal(
        "each confirmed worker carries a signed recognition receipt",
        receipts,
        WORKERS - reds,
    );
    Ok(WORKERS as u64)
}
