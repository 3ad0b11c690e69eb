//! `huren federation init`: write a dev federation of four nodes and say how to start it.

use std::path::PathBuf;

use crate::federation::init::{InitRequest, init, start_commands};
use crate::federation::layout::DEFAULT_BASE_PORT;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write a dev federation: national (000000), zhejiang (330000), west (510000, 410000) and
    /// south (440000, 430000, 420000), with a PKI, a registry listing them, one huren.toml per
    /// node and federation.json.
    Init(InitArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Directory to write the federation to.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// First of the 30 loopback ports the federation uses (nodes, admin listeners, regional
    /// services).
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_BASE_PORT)]
    pub base_port: u16,
    /// Replace a federation already in DIR.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Init(args) => {
            let file = init(&InitRequest {
                out: args.out.clone(),
                base_port: args.base_port,
                force: args.force,
            })?;
            println!(
                "wrote a federation of {} nodes to {}",
                file.nodes.len(),
                args.out.display()
            );
            for node in &file.nodes {
                println!(
                    "  {:<9} serves {:<22} gRPC {}  admin http://{}/readyz",
                    node.node_id,
                    node.serves.join(", "),
                    node.listen,
                    node.admin
                );
            }
            println!("start the regional services and the nodes:");
            for line in start_commands(&args.out, &file) {
                println!("  {line}");
            }
            Ok(())
        }
    }
}
