//! `huren demo`: the whole system on loopback, used the way its users use it, with a report of
//! what each role asked, was told and was refused — and a check of every result.
//!
//! Setup ([`crate::loopback::stack`]): a dev PKI and signed registry in a fresh temp directory, the seven
//! reference regional services and a gateway over real mutual TLS on 127.0.0.1:0. Then, as real
//! gRPC clients with the dev role certificates: (a) [`train`] a charter train checked by its
//! carrier, (b) [`workers`] Henan confirming workers to Zhejiang with receipts checked offline,
//! (c) [`checkpoint`] the Yuhang checkpoint scanning every region's code, (d) [`watch`] a
//! passenger turning red before departure, (d2) [`status_list`] a Hunan code withdrawn through
//! Hunan's signed status list and refused at Zhejiang's checkpoint, (e) [`national`] the national summary, and [`roles`]
//! one refused call per role. [`check`] judges every expectation; any failure exits non-zero.
//!
//! That is `huren demo --single`; `huren demo` runs [`federated`]: four nodes as processes.

pub mod audit;
pub mod batch;
pub mod check;
pub mod checkpoint;
pub mod federated;
pub mod keep;
pub mod national;
pub mod passengers;
pub mod receipts;
pub mod roles;
pub mod status_list;
pub mod train;
pub mod watch;
pub mod withdrawn;
pub mod workers;

use anyhow::Context as _;
use time::OffsetDateTime;

use crate::loopback::people::People;
use crate::loopback::stack::{Dirs, Regions, Stack};
use crate::loopback::{codes, stack};
use check::{Checks, Timer};

use crate::report::{Table, names};

/// Options of `huren demo`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep serving after the report until Ctrl-C.
    pub keep: bool,
    /// Seed of the made-up people and colour mix.
    pub seed: u64,
    /// Today's one-node demo instead of the federation.
    pub single: bool,
}

/// Runs the demo; an error when a scenario's expectations failed.
pub async fn run(options: Options) -> anyhow::Result<()> {
    if !options.single {
        return federated::run(options.seed, options.keep).await;
    }
    let total = Timer::start();
    println!(
        "huren demo — mutual recognition of regional health codes (互认), end to end on loopback\n"
    );
    let dirs = Dirs::fresh("demo")?;
    let (stack, setup_lines) = match setup(dirs.clone()).await {
        Ok(started) => started,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dirs.root);
            return Err(e.context("setting up the demo system"));
        }
    };
    for line in setup_lines {
        println!("{line}");
    }
    let mut checks = Checks::default();
    let outcome = scenarios(&stack, options.seed, &mut checks).await;
    audit::run(
        &stack,
        outcome.as_ref().ok().and_then(|o| o.counted),
        &mut checks,
    );
    roles::print_visibility(&stack, &checks);

    println!(
        "\n{} checks passed, {} failed; demo took {}",
        checks.passed(),
        checks.failed().len(),
        total.show()
    );
    if !checks.skipped().is_empty() {
        println!("not checked, because this gateway does not offer it yet:");
        for line in checks.skipped() {
            println!("  {line}");
        }
    }
    if options.keep {
        keep::print_how_to_connect(
            &stack,
            outcome.as_ref().ok().and_then(|o| o.sample.as_deref()),
        )?;
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        println!("stopping");
    }
    stack.shutdown().await;
    let _ = std::fs::remove_dir_all(&dirs.root);
    if let Err(e) = outcome {
        return Err(e.context("the demo did not complete"));
    }
    checks.outcome()
}

/// PKI, services, registry (with the demo's edits) and the gateway; the lines describing them.
async fn setup(dirs: Dirs) -> anyhow::Result<(Stack, Vec<String>)> {
    let timer = Timer::start();
    let mut lines = vec!["setup".to_string()];
    let now = OffsetDateTime::now_utc();
    let mut regions = Regions::start(dirs).await?;
    // So that scenarios (c) and (d2) see a withdrawn code refused within a second or two.
    regions.revocations_every = Some(withdrawn::REVOCATION_REFRESH);
    lines.push(format!(
        "  dev PKI: national root, 7 region CAs, gateway and {} client certificates in {}",
        regions.manifest.clients.len(),
        regions.dirs.pki.display()
    ));
    let mut t = Table::new([
        "region",
        "",
        "system",
        "status service (HTTPS)",
        "the registry lists it for",
    ]);
    for (code, service) in &regions.services {
        t.row([
            code.as_str().to_string(),
            names::region(code.as_str()).to_string(),
            huren_adapters::vocabulary::vocabulary(code.as_str())
                .map_or("", |v| v.system)
                .to_string(),
            service.url(),
            stack::role(*code)
                .unwrap_or("- (offline-signed codes only)")
                .to_string(),
        ]);
    }
    lines.push("  seven reference regional services:".to_string());
    lines.push(t.to_string().trim_end().to_string());
    let edits = train::edit_registry(&mut regions, now)?;
    lines.push(format!(
        "  signed registry (dev keys, thresholds, transparency log) with the demo's changes, in {}:",
        regions.dirs.registry.display()
    ));
    lines.extend(edits.into_iter().map(|e| format!("    {e}")));
    let stack = regions.start_gateway().await?;
    lines.push(format!(
        "  gateway on {} (mutual TLS 1.3; callers named by SPIFFE ids in their certificates); ready in {}",
        stack.addr()?,
        timer.show()
    ));
    Ok((stack, lines))
}

/// What the scenarios leave for `--keep`.
struct Outcome {
    /// A green passenger's code to try `huren verify` with.
    sample: Option<String>,
    /// Decisions the national summary counted.
    counted: Option<u64>,
}

async fn scenarios(stack: &Stack, seed: u64, checks: &mut Checks) -> anyhow::Result<Outcome> {
    let codes = codes::Codes::load(stack.pki())?;
    let mut people = People::new(seed);
    let now = OffsetDateTime::now_utc();

    println!(
        "\n(a) charter train {} Chengdu (510000) → Hangzhou (330100): the carrier checks 1,000 passengers before boarding",
        train::TRAIN
    );
    let timer = Timer::start();
    let riders = train::make_riders(&stack.regions, &codes, &mut people, now).await?;
    println!("  issued 1,000 codes in {}", timer.show());
    keep::write_manifest_csv(&stack.regions.dirs.root.join("train.csv"), &riders)?;
    let mut decisions = 0u64;
    scenario(
        "a",
        train::run(stack, &riders, checks).await,
        checks,
        &timer,
    );
    decisions += riders.len() as u64;

    println!("\n(b) Henan's labour office confirms 500 workers to Zhejiang (转码互认)");
    let timer = Timer::start();
    let receipts = stack.regions.dirs.root.join("receipts");
    let greens = match workers::run(stack, &mut people, &receipts, checks).await {
        Ok(greens) => Some(greens),
        Err(e) => {
            checks.scenario_failed("b", &e);
            None
        }
    };
    println!("  (b took {})", timer.show());
    if greens.is_some() {
        decisions += workers::WORKERS as u64;
    }

    println!(
        "\n(c) the Yuhang checkpoint (330110) scans codes from all seven regions, under Zhejiang's rules"
    );
    let timer = Timer::start();
    scenario(
        "c",
        checkpoint::run(stack, &codes, &mut people, checks).await,
        checks,
        &timer,
    );
    decisions += 7;

    println!("\n(d) a passenger turns red before departure, seen through WatchManifest");
    let timer = Timer::start();
    scenario(
        "d",
        watch::run(stack, &riders, checks).await,
        checks,
        &timer,
    );

    println!(
        "\n(d2) a Hunan passenger turns red: withdrawn in Hunan's next signed status list, refused at Zhejiang's checkpoint"
    );
    let timer = Timer::start();
    match status_list::run(stack, &mut people, checks).await {
        Ok(scans) => decisions += scans,
        Err(e) => checks.scenario_failed("d2", &e),
    }
    println!("  (d2 took {})", timer.show());

    println!("\n(e) the national summary (国务院联防联控): counts only, never a person");
    let timer = Timer::start();
    let expected = national::Expected {
        decisions_at_least: decisions,
        confirmations: greens.map(|g| (g, workers::WORKERS as u64 - g)),
    };
    let counted = match national::run(stack, expected, checks).await {
        Ok(total) => Some(total),
        Err(e) => {
            checks.scenario_failed("e", &e);
            None
        }
    };
    println!("  (e took {})", timer.show());

    println!("\nrefusals: each role asks for something outside its job");
    let timer = Timer::start();
    scenario("roles", roles::run(stack, checks).await, checks, &timer);

    let sample = riders
        .iter()
        .find(|r| r.kind == train::Kind::Genuine && r.colour == huren_adapters::Colour::Green)
        .map(|r| r.payload.clone());
    Ok(Outcome { sample, counted })
}

/// Reports how a scenario ended; whether it ran to the end.
fn scenario(name: &str, result: anyhow::Result<()>, checks: &mut Checks, timer: &Timer) -> bool {
    let ran = match result {
        Ok(()) => true,
        Err(e) => {
            checks.scenario_failed(name, &e);
            false
        }
    };
    println!("  ({name} took {})", timer.show());
    ran
}
