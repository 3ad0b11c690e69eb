//! `huren bench …`: benchmarks printed beside same-run baselines.

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Not built yet: see the open issue for this capability.
    Todo,
}

pub async fn run(_cmd: Command) -> anyhow::Result<()> {
    anyhow::bail!("'bench' is not built yet")
}
