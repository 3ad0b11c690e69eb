//! `huren workers confirm FILE.csv`: a labour-exporting province confirms workers to a
//! destination (转码互认) and keeps the signed receipts.

use anyhow::bail;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{ConfirmWorkersRequest, ResidentIdentity, Worker, worker};

use super::{WorkersCommand, csv};
use crate::receipt_files::write_receipts;
use crate::report::status::CallError;
use crate::report::{answers, json};

pub async fn workers(cmd: WorkersCommand) -> anyhow::Result<()> {
    let WorkersCommand::Confirm(args) = cmd;
    let mut workers = Vec::new();
    for row in csv::read(&args.file, "worker_ref")? {
        let identity = match row.fields.as_slice() {
            [_, payload] => worker::Identity::Payload(payload.clone()),
            [_, id_number, name] => worker::Identity::Resident(ResidentIdentity {
                id_number: id_number.clone(),
                name: name.clone(),
            }),
            _ => bail!(
                "{} line {}: expected worker_ref,payload or worker_ref,id_number,name",
                args.file.display(),
                row.line
            ),
        };
        workers.push(Worker {
            worker_ref: row.fields[0].clone(),
            identity: Some(identity),
        });
    }
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
        println!("{}", json::confirmations(&response));
    } else {
        print!("{}", answers::confirmations(&response));
        if let Some(dir) = &args.receipts {
            println!("{written} receipts written to {}", dir.display());
        }
    }
    Ok(())
}
