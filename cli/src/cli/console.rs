//! `huren console --role checkpoint|national`: the checkpoint's scanning page or the national
//! dashboard, served on loopback by a process that calls the gateway with the operator's
//! client certificate.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use anyhow::bail;

use super::client::CallerArgs;
use crate::console::{checkpoint, listen, national};

/// Which page a certificate given with --cert is for (with --role, the role says it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Page {
    Checkpoint,
    National,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serve the page here; loopback only, since the page acts with your certificate.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7480")]
    pub listen: SocketAddr,
    /// With --cert: which page to serve (with --role checkpoint|national the role says it).
    #[arg(long, value_enum)]
    pub page: Option<Page>,
    /// Checkpoint: why codes are checked; written to the audit log.
    #[arg(long, default_value = "checkpoint-entry")]
    pub purpose: String,
    /// National: how often to ask the gateway for the summary, e.g. 5s.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub refresh: std::time::Duration,
    /// National: how far back the matrix, routes and totals reach, e.g. 1h or 1d (the series
    /// always shows the last hour, minute by minute).
    #[arg(long, default_value = "1h", value_parser = parse_window)]
    pub window: time::Duration,
    #[command(flatten)]
    pub caller: CallerArgs,
}

fn parse_window(s: &str) -> Result<time::Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("{s}: {e}; write e.g. 1h or 1d"))
        .and_then(|d| time::Duration::try_from(d).map_err(|e| format!("{s}: {e}")))
}

impl Args {
    fn page(&self) -> anyhow::Result<Page> {
        match (self.caller.role.as_deref(), self.page) {
            (Some("checkpoint"), None | Some(Page::Checkpoint)) => Ok(Page::Checkpoint),
            (Some("national"), None | Some(Page::National)) => Ok(Page::National),
            (None, Some(page)) if self.caller.cert.is_some() => Ok(page),
            (Some(role), _) if role != "checkpoint" && role != "national" => {
                bail!("the console has pages for --role checkpoint and --role national, not {role}")
            }
            (Some(role), Some(page)) => {
                bail!("--role {role} does not go with --page {page:?}; leave --page out")
            }
            _ => bail!(
                "say whose console: --role checkpoint (the scanning page) or --role national \
                 (the dashboard); with --cert, --page checkpoint|national"
            ),
        }
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let page = args.page()?;
    let role = match page {
        Page::Checkpoint => "checkpoint",
        Page::National => "national",
    };
    // The address first: a console that could not serve need not have connected.
    let listener = listen::bind(args.listen).await?;
    let channel = args.caller.channel(role).await?;
    let router = match page {
        Page::Checkpoint => checkpoint::router(Arc::new(checkpoint::Checkpoint::new(
            channel,
            args.caller.clone(),
            args.purpose.clone(),
        ))),
        Page::National => {
            let snapshot = Arc::new(RwLock::new(national::poller::Snapshot::default()));
            let poller = national::poller::Poller {
                channel,
                caller: args.caller.clone(),
                window: args.window,
                every: args.refresh,
                snapshot: snapshot.clone(),
            };
            tokio::spawn(poller.run());
            national::router(snapshot)
        }
    };
    let addr = listener.local_addr()?;
    println!(
        "{role} console on http://{addr}/ (calling {}; Ctrl-C stops it)",
        args.caller.gateway
    );
    listen::serve(listener, router).await?;
    Ok(())
}
