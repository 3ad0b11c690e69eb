//! `huren registry …`: the offline signing ceremony for the trust registry.

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Not built yet: see the open issue for this capability.
    Todo,
}

pub async fn run(_cmd: Command) -> anyhow::Result<()> {
    anyhow::bail!("'registry' is not built yet")
}
