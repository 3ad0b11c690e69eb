//! Thin gRPC client commands against a running gateway: verify, manifest, workers, summary.

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {}
#[derive(Debug, clap::Args)]
pub struct SummaryArgs {}
#[derive(Debug, clap::Subcommand)]
pub enum ManifestCommand {
    /// Not built yet.
    Todo,
}
#[derive(Debug, clap::Subcommand)]
pub enum WorkersCommand {
    /// Not built yet.
    Todo,
}

pub async fn verify(_args: VerifyArgs) -> anyhow::Result<()> {
    anyhow::bail!("'verify' is not built yet")
}
pub async fn manifest(_cmd: ManifestCommand) -> anyhow::Result<()> {
    anyhow::bail!("'manifest' is not built yet")
}
pub async fn workers(_cmd: WorkersCommand) -> anyhow::Result<()> {
    anyhow::bail!("'workers' is not built yet")
}
pub async fn summary(_args: SummaryArgs) -> anyhow::Result<()> {
    anyhow::bail!("'summary' is not built yet")
}
