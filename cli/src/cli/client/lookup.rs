//! `huren lookup`: a person without a phone (无码人员) looked up by the ID card's number and
//! name, judged under the checkpoint's rules, printed like `huren verify`.

use huren_proto::v1::LookupPersonRequest;
use huren_proto::v1::lookup_service_client::LookupServiceClient;

use crate::cli::client::{CallerArgs, FailOn, fail_on, print_verification};
use crate::report::status::CallError;

#[derive(Debug, clap::Args)]
pub struct LookupArgs {
    /// The 18-character resident ID number on the card (checked by the gateway: check digit,
    /// birth date); it goes only to the household province and never comes back.
    #[arg(long, value_name = "ID")]
    pub id: String,
    /// The name as printed on the card.
    #[arg(long)]
    pub name: String,
    /// Region whose rules apply [default: the caller's province]; only provinces may name another.
    #[arg(long, value_name = "CODE")]
    pub verifying_region: Option<String>,
    /// Why the person is looked up; written to the audit log.
    #[arg(long, default_value = "checkpoint-entry: no phone")]
    pub purpose: String,
    /// Print the answer as JSON in the proto3 mapping grpcurl prints.
    #[arg(long)]
    pub json: bool,
    /// Exit non-zero when the answer is of these kinds (comma-separated): deny (not let
    /// through), review, reject.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    pub fail_on: Vec<FailOn>,
    #[command(flatten)]
    pub caller: CallerArgs,
}

pub async fn lookup(args: LookupArgs) -> anyhow::Result<()> {
    let mut client = LookupServiceClient::new(args.caller.channel("checkpoint").await?);
    let response = client
        .lookup_person(args.caller.request(LookupPersonRequest {
            resident_id_number: args.id.clone(),
            name: args.name.clone(),
            verifying_region: args.verifying_region.clone().unwrap_or_default(),
            purpose: args.purpose.clone(),
        }))
        .await
        .map_err(|s| CallError::context("LookupPerson", s))?
        .into_inner();
    let kinds = print_verification(response.verification, args.json)?;
    fail_on::check(&args.fail_on, [kinds])
}
