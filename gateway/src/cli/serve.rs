//! `huren serve`: the gateway over mutual TLS.

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'serve' is not built yet")
}
