//! `huren manifest check|watch FILE.csv`: a charter train's passengers from a CSV file, decided
//! once or followed until departure, as a carrier.

use anyhow::Context as _;
use huren_proto::v1::manifests_service_client::ManifestsServiceClient;
use huren_proto::v1::{CheckManifestRequest, Manifest, Passenger, WatchManifestRequest};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::fail_on::{self, Kinds};
use super::table::{self, Column};
use super::{ManifestArgs, ManifestCommand, timestamp};
use crate::report::status::CallError;
use crate::report::{answers, json};

pub async fn manifest(cmd: ManifestCommand) -> anyhow::Result<()> {
    match cmd {
        ManifestCommand::Check(args) => manifest_check(args).await,
        ManifestCommand::Watch(args) => manifest_watch(args).await,
    }
}

fn read_manifest(args: &ManifestArgs) -> anyhow::Result<Manifest> {
    let passengers = table::read(&args.file, &[&[Column::Seat, Column::Payload]])?
        .into_iter()
        .map(|row| Passenger {
            seat: row.get(Column::Seat).to_string(),
            payload: row.get(Column::Payload).to_string(),
        })
        .collect();
    let departs = OffsetDateTime::parse(&args.departs, &Rfc3339)
        .with_context(|| format!("--departs {}: not an RFC 3339 time", args.departs))?;
    Ok(Manifest {
        train_id: args.train.clone(),
        origin_region: args.from.clone(),
        destination_region: args.to.clone(),
        departure_time: Some(timestamp(departs)),
        passengers,
    })
}

async fn manifest_check(args: ManifestArgs) -> anyhow::Result<()> {
    let manifest = read_manifest(&args)?;
    let mut client = ManifestsServiceClient::new(args.caller.channel("carrier").await?);
    let response = client
        .check_manifest(args.caller.request(CheckManifestRequest {
            manifest: Some(manifest),
        }))
        .await
        .map_err(|s| CallError::context("CheckManifest", s))?
        .into_inner();
    if args.json {
        println!("{}", json::proto(&response));
    } else {
        print!("{}", answers::manifest(&response, args.all));
    }
    let kinds = response.decisions.iter().map(Kinds::of_decision);
    fail_on::check(&args.fail_on, kinds)
}

async fn manifest_watch(args: ManifestArgs) -> anyhow::Result<()> {
    let manifest = read_manifest(&args)?;
    let mut client = ManifestsServiceClient::new(args.caller.channel("carrier").await?);
    let mut stream = client
        .watch_manifest(WatchManifestRequest {
            manifest: Some(manifest),
        })
        .await
        .map_err(|s| CallError::context("WatchManifest", s))?
        .into_inner();
    let mut first = true;
    // Each passenger's latest decision, for --fail-on at departure.
    let mut latest = std::collections::HashMap::new();
    // Ends when the server sends the departure message or closes the stream.
    while let Some(event) = stream
        .message()
        .await
        .map_err(|s| CallError::context("WatchManifest", s))?
    {
        for d in &event.changes {
            latest.insert(d.seat.clone(), Kinds::of_decision(d));
        }
        if args.json {
            println!("{}", json::proto(&event));
        } else {
            let when = crate::report::names::time(event.event_time.as_ref());
            if let Some(t) = &event.totals {
                println!(
                    "{when} {} {}: {} BOARD, {} DENY, {} REVIEW",
                    if first { "initial" } else { "change" },
                    event.changes.len(),
                    t.board,
                    t.deny,
                    t.review
                );
            }
            let mut table = crate::report::Table::new(answers::DECISION_HEADER);
            for d in &event.changes {
                if !first || args.all || d.boarding != huren_proto::v1::Boarding::Board as i32 {
                    table.row(answers::decision_row(d));
                }
            }
            if !table.is_empty() {
                print!("{table}");
            }
            if event.departed {
                println!("{when} departed: watch ended");
            }
        }
        first = false;
        if event.departed {
            break;
        }
    }
    fail_on::check(&args.fail_on, latest.into_values())
}
