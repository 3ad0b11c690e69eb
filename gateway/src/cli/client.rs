//! Thin gRPC client commands against a running gateway: verify, manifest, workers, summary.
//! Tables for people, `--json` for machines; a refused call prints its gRPC code, message and
//! `ErrorInfo` reason and exits non-zero.

mod caller;
mod csv;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::manifests_service_client::ManifestsServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    CheckManifestRequest, ConfirmWorkersRequest, GetNationalSummaryRequest, Manifest, Passenger,
    ResidentIdentity, VerifyCodeRequest, WatchManifestRequest, Worker, worker,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use caller::CallerArgs;

use crate::recognition::{receipt, wire};
use crate::report::status::CallError;
use crate::report::{answers, json};

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The QR payload exactly as scanned.
    pub payload: String,
    /// Region whose rules apply [default: the caller's province]; only provinces may name another.
    #[arg(long, value_name = "CODE")]
    pub verifying_region: Option<String>,
    /// Why the code is checked; written to the audit log.
    #[arg(long, default_value = "checkpoint-entry")]
    pub purpose: String,
    /// Print the answer as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum ManifestCommand {
    /// Decide boarding for every passenger of a CSV manifest (seat,payload) as a carrier.
    Check(ManifestArgs),
    /// Check the manifest, then follow boarding changes until departure.
    Watch(ManifestArgs),
}

#[derive(Debug, clap::Args)]
pub struct ManifestArgs {
    /// CSV file: seat,payload (a header row is optional).
    pub file: PathBuf,
    /// Train or bus id, e.g. D1234.
    #[arg(long)]
    pub train: String,
    /// Origin region, e.g. 510000.
    #[arg(long, value_name = "CODE")]
    pub from: String,
    /// Destination region, whose rules apply, e.g. 330100.
    #[arg(long, value_name = "CODE")]
    pub to: String,
    /// Departure time, RFC 3339 (e.g. 2020-02-20T08:00:00+08:00).
    #[arg(long, value_name = "TIME")]
    pub departs: String,
    /// List every passenger, not only those not boarding.
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum WorkersCommand {
    /// Confirm workers (转码互认) to a destination province as a labour-exporting province.
    Confirm(WorkersArgs),
}

#[derive(Debug, clap::Args)]
pub struct WorkersArgs {
    /// CSV file: worker_ref,payload or worker_ref,id_number,name (your own residents).
    pub file: PathBuf,
    /// Destination province, e.g. 330000.
    #[arg(long, value_name = "CODE")]
    pub to: String,
    #[arg(long, default_value = "labour-export")]
    pub purpose: String,
    /// Write each signed receipt to DIR/<worker_ref>.json (check with `huren receipt verify`).
    #[arg(long, value_name = "DIR")]
    pub receipts: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// How far back to count, e.g. 15m, 1h, 24h (at most 24h).
    #[arg(long, default_value = "1h", value_parser = parse_since)]
    pub since: time::Duration,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

pub async fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let mut client = RecognitionServiceClient::new(args.caller.channel("checkpoint").await?);
    let response = client
        .verify_code(args.caller.request(VerifyCodeRequest {
            payload: args.payload,
            verifying_region: args.verifying_region.unwrap_or_default(),
            purpose: args.purpose,
        }))
        .await
        .map_err(|s| CallError::context("VerifyCode", s))?
        .into_inner();
    let v = response
        .verification
        .context("the gateway answered without a verification")?;
    if args.json {
        println!("{}", json::verification(&v));
    } else {
        print!("{}", answers::verification(&v));
    }
    Ok(())
}

pub async fn manifest(cmd: ManifestCommand) -> anyhow::Result<()> {
    match cmd {
        ManifestCommand::Check(args) => manifest_check(args).await,
        ManifestCommand::Watch(args) => manifest_watch(args).await,
    }
}

fn read_manifest(args: &ManifestArgs) -> anyhow::Result<Manifest> {
    let rows = csv::read(&args.file, "seat")?;
    let mut passengers = Vec::with_capacity(rows.len());
    for row in rows {
        let [seat, payload] = row.fields.as_slice() else {
            bail!(
                "{} line {}: expected seat,payload",
                args.file.display(),
                row.line
            );
        };
        passengers.push(Passenger {
            seat: seat.clone(),
            payload: payload.clone(),
        });
    }
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
        println!("{}", json::manifest(&response));
    } else {
        print!("{}", answers::manifest(&response, args.all));
    }
    Ok(())
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
    // Ends when the server sends the departure message or closes the stream.
    while let Some(event) = stream
        .message()
        .await
        .map_err(|s| CallError::context("WatchManifest", s))?
    {
        if args.json {
            println!("{}", json::watch_event(&event));
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
    Ok(())
}

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

/// Writes each receipt as `DIR/<worker_ref>.json` in the format `huren receipt verify` reads
/// (JSON of the signed envelope); returns how many.
pub fn write_receipts(
    dir: &Path,
    response: &huren_proto::v1::ConfirmWorkersResponse,
) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut n = 0;
    for c in &response.confirmations {
        let Some(envelope) = c.receipt.as_ref().and_then(|r| r.envelope.as_ref()) else {
            continue;
        };
        let name: String = c
            .worker_ref
            .chars()
            .map(|ch| {
                if ch.is_alphanumeric() || ch == '-' || ch == '_' {
                    ch
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{name}.json"));
        receipt::write_file(&path, &wire::from_envelope(envelope))?;
        n += 1;
    }
    Ok(n)
}

pub async fn summary(args: SummaryArgs) -> anyhow::Result<()> {
    let mut client = CoordinationServiceClient::new(args.caller.channel("national").await?);
    let end = OffsetDateTime::now_utc();
    let response = client
        .get_national_summary(args.caller.request(GetNationalSummaryRequest {
            start_time: Some(timestamp(end - args.since)),
            end_time: Some(timestamp(end)),
        }))
        .await
        .map_err(|s| CallError::context("GetNationalSummary", s))?
        .into_inner();
    if args.json {
        println!("{}", json::summary(&response));
    } else {
        print!("{}", answers::summary(&response));
    }
    Ok(())
}

pub fn timestamp(t: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.unix_timestamp(),
        nanos: i32::try_from(t.nanosecond()).unwrap_or(0),
    }
}

/// `90s`, `15m`, `1h`, `24h` → a duration of at most 24 hours.
fn parse_since(s: &str) -> Result<time::Duration, String> {
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{s}: expected a number and a unit, e.g. 1h"))?;
    let d = match unit {
        "s" => time::Duration::seconds(n),
        "m" => time::Duration::minutes(n),
        "h" | "" => time::Duration::hours(n),
        _ => return Err(format!("{s}: the unit is s, m or h")),
    };
    if d > time::Duration::hours(24) || d <= time::Duration::ZERO {
        return Err(format!("{s}: between 1s and 24h"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_units_and_refuses_more_than_a_day() {
        assert_eq!(parse_since("15m").unwrap(), time::Duration::minutes(15));
        assert_eq!(parse_since("24h").unwrap(), time::Duration::hours(24));
        assert!(parse_since("25h").is_err());
        assert!(parse_since("1d").is_err());
        assert!(parse_since("h").is_err());
    }
}
