//! `huren appeal file | show | list | answer`: cross-region appeals (复核) against a running
//! gateway, as a checkpoint or a province (the same caller flags as `huren verify`).

use anyhow::Context as _;
use huren_proto::v1::appeals_service_client::AppealsServiceClient;
use huren_proto::v1::{
    AnswerAppealRequest, Appeal, AppealOutcome, AppealState, Colour, FileAppealRequest,
    GetAppealRequest, ListAppealsRequest, ListAppealsResponse,
};

use super::client::CallerArgs;
use crate::report::status::CallError;
use crate::report::{appeals as answers, json};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// File an appeal against a decision this gateway made for you (`audit_seq` of the answer).
    File(FileArgs),
    /// One appeal: for the caller that filed it and the issuing province.
    Show(ShowArgs),
    /// Your own appeals, or with --issuing (a province) your region's review queue.
    List(ListArgs),
    /// Answer an appeal as the issuing province: upheld, or corrected to a colour.
    Answer(AnswerArgs),
}

#[derive(Debug, clap::Args)]
pub struct FileArgs {
    /// The decision's audit sequence, as `huren verify` printed it ("appeal ref").
    #[arg(long, value_name = "SEQ")]
    pub decision: u64,
    /// The code the person shows (the one decided).
    #[arg(long)]
    pub payload: String,
    /// Why the person appeals.
    #[arg(long)]
    pub reason: String,
    /// How the region reaches the person (a phone number): only its keyed hash is kept.
    #[arg(long)]
    pub contact: String,
    /// Region whose rules decided [default: the caller's province].
    #[arg(long, value_name = "CODE")]
    pub verifying_region: Option<String>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The appeal id, e.g. 420000-3f9a0c2e71b4d5a8.
    pub appeal_id: String,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// A province's own region code: list its review queue instead of your own appeals.
    #[arg(long, value_name = "CODE")]
    pub issuing: Option<String>,
    /// Only open appeals.
    #[arg(long)]
    pub open: bool,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Outcome {
    Upheld,
    Corrected,
}

#[derive(Debug, clap::Args)]
pub struct AnswerArgs {
    pub appeal_id: String,
    #[arg(long, value_enum)]
    pub outcome: Outcome,
    /// With `corrected`: the person's status now, GREEN, YELLOW, RED or PENDING.
    #[arg(long, value_name = "COLOUR")]
    pub colour: Option<String>,
    /// What the region tells the filer.
    #[arg(long, default_value = "")]
    pub note: String,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::File(args) => file(args).await,
        Command::Show(args) => show(args).await,
        Command::List(args) => list(args).await,
        Command::Answer(args) => answer(args).await,
    }
}

fn print(appeal: &Appeal, as_json: bool) {
    if as_json {
        println!("{}", json::proto(appeal));
    } else {
        print!("{}", answers::appeal(appeal));
    }
}

async fn file(args: FileArgs) -> anyhow::Result<()> {
    let mut client = AppealsServiceClient::new(args.caller.channel("checkpoint").await?);
    let appeal = client
        .file_appeal(args.caller.request(FileAppealRequest {
            decision_seq: args.decision,
            payload: args.payload.clone(),
            verifying_region: args.verifying_region.clone().unwrap_or_default(),
            reason: args.reason.clone(),
            contact: args.contact.clone(),
        }))
        .await
        .map_err(|s| CallError::context("FileAppeal", s))?
        .into_inner()
        .appeal
        .context("the gateway answered without the appeal")?;
    print(&appeal, args.json);
    Ok(())
}

async fn show(args: ShowArgs) -> anyhow::Result<()> {
    let mut client = AppealsServiceClient::new(args.caller.channel("checkpoint").await?);
    let appeal = client
        .get_appeal(args.caller.request(GetAppealRequest {
            appeal_id: args.appeal_id.clone(),
        }))
        .await
        .map_err(|s| CallError::context("GetAppeal", s))?
        .into_inner()
        .appeal
        .context("the gateway answered without the appeal")?;
    print(&appeal, args.json);
    Ok(())
}

async fn list(args: ListArgs) -> anyhow::Result<()> {
    let default_role = match args.issuing {
        Some(_) => "province",
        None => "checkpoint",
    };
    let mut client = AppealsServiceClient::new(args.caller.channel(default_role).await?);
    let response: ListAppealsResponse = client
        .list_appeals(args.caller.request(ListAppealsRequest {
            issuing_region: args.issuing.clone().unwrap_or_default(),
            state: match args.open {
                true => AppealState::Open as i32,
                false => AppealState::Unspecified as i32,
            },
        }))
        .await
        .map_err(|s| CallError::context("ListAppeals", s))?
        .into_inner();
    if args.json {
        println!("{}", json::proto(&response));
    } else {
        print!("{}", answers::appeals(&response.appeals));
    }
    Ok(())
}

async fn answer(args: AnswerArgs) -> anyhow::Result<()> {
    args.caller
        .require_region("province", "huren appeal answer")?;
    let colour = match (&args.outcome, args.colour.as_deref()) {
        (Outcome::Corrected, Some(c)) => colour(c)?,
        (Outcome::Corrected, None) => anyhow::bail!("--outcome corrected needs --colour"),
        (Outcome::Upheld, _) => Colour::Unspecified,
    };
    let mut client = AppealsServiceClient::new(args.caller.channel("province").await?);
    let appeal = client
        .answer_appeal(args.caller.request(AnswerAppealRequest {
            appeal_id: args.appeal_id.clone(),
            outcome: match args.outcome {
                Outcome::Upheld => AppealOutcome::Upheld,
                Outcome::Corrected => AppealOutcome::Corrected,
            } as i32,
            corrected_colour: colour as i32,
            note: args.note.clone(),
        }))
        .await
        .map_err(|s| CallError::context("AnswerAppeal", s))?
        .into_inner()
        .appeal
        .context("the gateway answered without the appeal")?;
    print(&appeal, args.json);
    Ok(())
}

fn colour(word: &str) -> anyhow::Result<Colour> {
    Ok(match word.to_ascii_uppercase().as_str() {
        "GREEN" => Colour::Green,
        "YELLOW" => Colour::Yellow,
        "RED" => Colour::Red,
        "PENDING" => Colour::Pending,
        other => anyhow::bail!("--colour {other}: GREEN, YELLOW, RED or PENDING"),
    })
}
