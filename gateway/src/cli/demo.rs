//! `huren demo`: the whole system on loopback, as each role sees it.

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep everything serving after the report and print how to connect.
    #[arg(long)]
    pub keep: bool,
}

pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'demo' is not built yet")
}
