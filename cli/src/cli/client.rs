//! Thin gRPC client commands against a running gateway: verify, lookup, manifest, workers,
//! summary.
//! Tables for people, `--json` for machines; a refused call prints its gRPC code, message and
//! `ErrorInfo` reason and exits non-zero.

mod caller;
mod fail_on;
mod lookup;
mod manifest;
mod own_cert;
mod table;
mod workers;

use std::path::PathBuf;

use anyhow::Context as _;
use huren::recognition::wire::timestamp;
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{GetNationalSummaryRequest, VerifyCodeRequest};
use time::OffsetDateTime;

pub use caller::CallerArgs;
pub use fail_on::FailOn;
pub use lookup::{LookupArgs, lookup};
pub use manifest::manifest;
pub use workers::workers;

use crate::report::status::CallError;
use crate::report::{answers, json};

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The QR payload as scanned (the gateway trims a scanner's CR/LF and reads a region's URL
    /// form), or `-` to read payloads from stdin, one per line, as a USB scanner types them.
    pub payload: String,
    /// Region whose rules apply [default: the caller's province]; only provinces may name another.
    #[arg(long, value_name = "CODE")]
    pub verifying_region: Option<String>,
    /// Why the code is checked; written to the audit log.
    #[arg(long, default_value = "checkpoint-entry")]
    pub purpose: String,
    /// Print the answer as JSON in the proto3 mapping grpcurl prints (lowerCamel fields, full
    /// enum names, RFC 3339 times); with `-`, NDJSON: one JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Exit non-zero when any answer is of these kinds (comma-separated), after printing them
    /// all: deny (not let through), review, reject (forged, revoked, expired, malformed).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    pub fail_on: Vec<FailOn>,
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
    /// CSV or .xlsx file: seat,payload. A header row (seat/座位, payload/健康码) may name the
    /// columns in any order; CSV may be UTF-8 or GBK.
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
    /// Print JSON in the proto3 mapping grpcurl prints. `manifest watch` prints NDJSON: one JSON
    /// object per line, the check's answer first, then each change until departure.
    #[arg(long)]
    pub json: bool,
    /// Exit non-zero when any answer is of these kinds (comma-separated), after printing them
    /// all: deny (not let through), review, reject (forged, revoked, expired, malformed).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    pub fail_on: Vec<FailOn>,
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
    /// CSV or .xlsx file: worker_ref,payload or worker_ref,id_number,name (your own residents).
    /// A header row (worker_ref/工号, payload/健康码, id_number/身份证号, name/姓名) may name the
    /// columns in any order; CSV may be UTF-8 or GBK.
    pub file: PathBuf,
    /// Destination province, e.g. 330000.
    #[arg(long, value_name = "CODE")]
    pub to: String,
    #[arg(long, default_value = "labour-export")]
    pub purpose: String,
    /// Write each signed receipt to DIR/<worker_ref>.json (check with `huren receipt verify`).
    #[arg(long, value_name = "DIR")]
    pub receipts: Option<PathBuf>,
    /// Print the answer as JSON in the proto3 mapping grpcurl prints.
    #[arg(long)]
    pub json: bool,
    /// Exit non-zero when any answer is of these kinds (comma-separated), after printing them
    /// all: deny (not let through), review, reject (forged, revoked, expired, malformed).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    pub fail_on: Vec<FailOn>,
    #[command(flatten)]
    pub caller: CallerArgs,
}

#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// How far back to count, e.g. 15m, 1h, 1d, 14d (at most 14 days: the gateway keeps a day by
    /// minute and 14 days by hour).
    #[arg(long, default_value = "1h", value_parser = parse_since)]
    pub since: time::Duration,
    /// Print the answer as JSON in the proto3 mapping grpcurl prints.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

pub async fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let mut client = RecognitionServiceClient::new(args.caller.channel("checkpoint").await?);
    let mut answers = Vec::new();
    if args.payload == "-" {
        // One scan per line; the line ending and any stray spaces go to the gateway, which
        // trims them as it does for every client.
        let mut lines =
            tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(tokio::io::stdin()));
        while let Some(line) = lines.next_line().await.context("cannot read stdin")? {
            if line.trim().is_empty() {
                continue;
            }
            if !answers.is_empty() && !args.json {
                println!();
            }
            answers.push(verify_one(&mut client, &args, line).await?);
        }
    } else {
        answers.push(verify_one(&mut client, &args, args.payload.clone()).await?);
    }
    fail_on::check(&args.fail_on, answers)
}

async fn verify_one(
    client: &mut RecognitionServiceClient<tonic::transport::Channel>,
    args: &VerifyArgs,
    payload: String,
) -> anyhow::Result<fail_on::Kinds> {
    let response = client
        .verify_code(args.caller.request(VerifyCodeRequest {
            payload,
            verifying_region: args.verifying_region.clone().unwrap_or_default(),
            purpose: args.purpose.clone(),
        }))
        .await
        .map_err(|s| CallError::context("VerifyCode", s))?
        .into_inner();
    print_verification(response.verification, args.json)
}

/// Prints a judging call's answer as a table, or with `json` in the proto3 JSON mapping, and
/// says what kind of answer it was, for `--fail-on`.
fn print_verification(
    v: Option<huren_proto::v1::Verification>,
    json: bool,
) -> anyhow::Result<fail_on::Kinds> {
    let v = v.context("the gateway answered without a verification")?;
    if json {
        println!("{}", json::proto(&v));
    } else {
        print!("{}", answers::verification(&v));
    }
    Ok(fail_on::Kinds::of_verification(&v))
}

pub async fn summary(args: SummaryArgs) -> anyhow::Result<()> {
    let mut client = CoordinationServiceClient::new(args.caller.channel("national").await?);
    let end = OffsetDateTime::now_utc();
    let response = client
        .get_national_summary(args.caller.request(GetNationalSummaryRequest {
            start_time: Some(timestamp(end - args.since)),
            end_time: Some(timestamp(end)),
            window: None,
        }))
        .await
        .map_err(|s| CallError::context("GetNationalSummary", s))?
        .into_inner();
    if args.json {
        println!("{}", json::proto(&response));
    } else {
        print!("{}", answers::summary(&response));
    }
    Ok(())
}

/// A duration as people write it (`90s`, `15m`, `1h`, `1d`, `2h 30m`), up to the window the
/// gateway keeps.
fn parse_since(s: &str) -> Result<time::Duration, String> {
    let max = huren::services::coordination::MAX_WINDOW;
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{s}: {e}; write e.g. 15m, 1h, 1d or 14d"))
        .and_then(|d| time::Duration::try_from(d).map_err(|e| format!("{s}: {e}")))?;
    if d > max || d <= time::Duration::ZERO {
        return Err(format!(
            "{s}: between 1s and {}",
            humantime::format_duration(max.unsigned_abs())
        ));
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
        assert_eq!(parse_since("14d").unwrap(), time::Duration::days(14));
        assert!(parse_since("15d").is_err());
        assert_eq!(parse_since("1d").unwrap(), time::Duration::hours(24));
        assert_eq!(parse_since("1h 30m").unwrap(), time::Duration::minutes(90));
        assert!(parse_since("h").is_err());
    }
}
