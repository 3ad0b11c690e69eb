//! Parses the command line and runs one subcommand on a tokio runtime.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::report::lang::Lang;

pub mod appeal;
pub mod audit;
pub mod bench;
pub mod bench_registry;
pub mod certs;
pub mod client;
pub mod console;
pub mod demo;
pub mod durations;
pub mod federation;
pub mod log;
pub mod probe;
pub mod receipt;
pub mod region;
pub mod registry;
pub mod registry_node;
pub mod serve;

/// huren (互认): federated interop gateway between regional health-code systems.
#[derive(Debug, Parser)]
#[command(name = "huren", version, about, long_about = None)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human, env = "HUREN_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Language of table labels: en or zh (JSON keeps the API's names).
    #[arg(long, global = true, value_enum, default_value_t = Lang::En, env = "HUREN_LANG")]
    pub lang: Lang,
    /// Show times in UTC instead of the local zone (RFC 3339 with the offset either way).
    #[arg(long, global = true, env = "HUREN_UTC")]
    pub utc: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole system on loopback and show what each role sees (the main job).
    Demo(demo::Args),
    /// Serve the gateway over mutual TLS.
    Serve(serve::Args),
    /// Write a dev federation of four nodes to start by hand or with the demo.
    #[command(subcommand)]
    Federation(federation::Command),
    /// Create and inspect the dev PKI.
    #[command(subcommand)]
    Certs(certs::Command),
    /// Offline signing ceremony and inspection of the trust registry.
    #[command(subcommand)]
    Registry(registry::Command),
    /// Reference regional health-code services and their codes.
    #[command(subcommand)]
    Region(region::Command),
    /// Check recognition receipts offline.
    #[command(subcommand)]
    Receipt(receipt::Command),
    /// Check the hash-chained audit log.
    #[command(subcommand)]
    Audit(audit::Command),
    /// Verify one code against a running gateway.
    Verify(client::VerifyArgs),
    /// Look a person without a phone up by ID card (无码人员) at a running gateway.
    Lookup(client::LookupArgs),
    /// Charter-train manifests against a running gateway.
    #[command(subcommand)]
    Manifest(client::ManifestCommand),
    /// Worker confirmations (转码互认) against a running gateway.
    #[command(subcommand)]
    Workers(client::WorkersCommand),
    /// National summary from a running gateway.
    Summary(client::SummaryArgs),
    /// Cross-region appeals (复核) against a running gateway: file, show, list, answer.
    #[command(subcommand)]
    Appeal(appeal::Command),
    /// A page on loopback: --role checkpoint scans codes, --role national shows the dashboard.
    Console(console::Args),
    /// Benchmarks that print huren's figures beside baselines measured in the same run.
    #[command(subcommand)]
    Bench(bench::Command),
    /// Reverse-test a federation (反向测试): synthetic persons of every region and status word,
    /// verified under every province's rules, each verdict compared with the registry's prediction.
    Probe(probe::Args),
}

/// Entry point of the `huren` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before the runtime starts threads: the local offset is read while there is one thread.
    crate::report::lang::init(cli.lang, cli.utc);
    end_quietly_on_closed_stdout();
    // The demo and the benchmarks print a report on stdout; routine info logs would bury it.
    let quiet = matches!(cli.command, Command::Demo(_) | Command::Bench(_));
    log::init(cli.log_format, if quiet { "warn" } else { "info" });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            log::failure(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::failure(&crate::report::error::chain(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Demo(args) => demo::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Federation(cmd) => federation::run(cmd).await,
        Command::Certs(cmd) => certs::run(cmd).await,
        Command::Registry(cmd) => registry::run(cmd).await,
        Command::Region(cmd) => region::run(cmd).await,
        Command::Receipt(cmd) => receipt::run(cmd).await,
        Command::Audit(cmd) => audit::run(cmd).await,
        Command::Verify(args) => client::verify(args).await,
        Command::Lookup(args) => client::lookup(args).await,
        Command::Manifest(cmd) => client::manifest(cmd).await,
        Command::Workers(cmd) => client::workers(cmd).await,
        Command::Summary(args) => client::summary(args).await,
        Command::Appeal(cmd) => appeal::run(cmd).await,
        Command::Console(args) => console::run(args).await,
        Command::Bench(cmd) => bench::run(cmd).await,
        Command::Probe(args) => probe::run(args).await,
    }
}

/// Exit status of a command whose reader went away: what a shell reports for a process that
/// SIGPIPE ended (128 + 13), as `cat` or `grep` end in `… | head -1`.
pub const CLOSED_STDOUT_EXIT: i32 = 141;

/// `huren registry show | head -1`: once `head` has left, the next print to stdout fails with
/// a broken pipe, which `println!` turns into a panic. That is not a bug of huren: end quietly.
///
/// Rust ignores SIGPIPE, and restoring its default would not do here: socket writes through
/// `writev` (HTTP/2 clients and servers in the demo, the benchmarks and the client commands)
/// would then kill the process whenever a peer hangs up. So the one failure is recognised
/// where it surfaces, in the panic hook, and every other panic keeps the default report.
fn end_quietly_on_closed_stdout() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let closed_stdout = info.payload_as_str().is_some_and(|m| {
            m.starts_with("failed printing to stdout") && m.contains("Broken pipe")
        });
        if closed_stdout {
            // exit skips destructors: a federated demo's processes are stopped here.
            crate::federation::launcher::kill_everything_started();
            std::process::exit(CLOSED_STDOUT_EXIT);
        }
        report(info);
    }));
}
