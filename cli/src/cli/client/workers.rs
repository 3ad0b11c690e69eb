//! `huren workers confirm FILE.csv`: a labour-exporting province confirms workers to a
//! destination (转码互认) and keeps the signed receipts.

use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{ConfirmWorkersRequest, ResidentIdentity, Worker, worker};

use super::WorkersCommand;
use super::fail_on::{self, Kinds};
use super::table::{self, Column};
use crate::receipt_files::write_receipts;
use crate::report::status::CallError;
use crate::report::{answers, json};

pub async fn workers(cmd: WorkersCommand) -> anyhow::Result<()> {
    let WorkersCommand::Confirm(args) = cmd;
    args.caller.require_region("province", "workers confirm")?;
    let layouts: &[table::Layout] = &[
        &[Column::WorkerRef, Column::Payload],
        &[Column::WorkerRef, Column::IdNumber, Column::Name],
    ];
    let workers = table::read(&args.file, layouts)?
        .into_iter()
        .map(|row| {
            let identity = if row.layout.contains(&Column::Payload) {
                worker::Identity::Payload(row.get(Column::Payload).to_string())
            } else {
                worker::Identity::Resident(ResidentIdentity {
                    id_number: row.get(Column::IdNumber).to_string(),
                    name: row.get(Column::Name).to_string(),
                })
            };
            Worker {
                worker_ref: row.get(Column::WorkerRef).to_string(),
                identity: Some(identity),
            }
        })
        .collect();
    let mut client = RecognitionServiceClient::new(args.caller.channel("province").await?);
    let response = client
        .confirm_workers(args.caller.request(ConfirmWorkersRequest {
            destination_region: args.to.clone(),
            workers,
            purpose: args.purpose.clone(),
        }))
        .await
        .map_err(|s| CallError::context("ConfirmWorkers", s))?
        .into_inner();
    let written = match &args.receipts {
        Some(dir) => write_receipts(dir, &response)?,
        None => 0,
    };
    if args.json {
        println!("{}", json::proto(&response));
    } else {
        print!("{}", answers::confirmations(&response));
        if let Some(dir) = &args.receipts {
            println!("{written} receipts written to {}", dir.display());
        }
    }
    let kinds = response.confirmations.iter().map(Kinds::of_confirmation);
    fail_on::check(&args.fail_on, kinds)
}
