//! `huren region …`: reference regional services and their codes.

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Not built yet: see the open issue for this capability.
    Todo,
}

pub async fn run(_cmd: Command) -> anyhow::Result<()> {
    anyhow::bail!("'region' is not built yet")
}
