//! `huren receipt …`: offline checks of recognition receipts.

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Not built yet: see the open issue for this capability.
    Todo,
}

pub async fn run(_cmd: Command) -> anyhow::Result<()> {
    anyhow::bail!("'receipt' is not built yet")
}
