//! `huren demo`: the whole system on loopback, as its users use it (see [`crate::demo`]).

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep everything serving after the report, print how to connect, wait for Ctrl-C.
    #[arg(long)]
    pub keep: bool,
    /// Seed of the made-up residents and colour mix (the same seed, the same people).
    #[arg(long, default_value_t = 2020)]
    pub seed: u64,
    /// One gateway node hosting every region (the demo before federation), instead of four
    /// nodes as separate processes.
    #[arg(long)]
    pub single: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    crate::demo::run(crate::demo::Options {
        keep: args.keep,
        seed: args.seed,
        single: args.single,
    })
    .await
}
