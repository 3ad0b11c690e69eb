//! Scenario (b), last step: every recognition receipt file checked offline against the registry
//! on disk (no gateway involved), then one altered and refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use time::OffsetDateTime;

use super::check::{Checks, Timer};
use crate::loopback::stack::Stack;
use crate::report::{answers, names};

/// Checks every receipt file against the registry on disk, then alters one and checks again.
pub async fn check_offline(
    stack: &Stack,
    dir: &Path,
    written: usize,
    checks: &mut Checks,
) -> anyhow::Result<()> {
    use huren::recognition::receipt;
    let timer = Timer::start();
    let now = OffsetDateTime::now_utc();
    let registry = Arc::new(
        huren_registry::store::load(&stack.regions.dirs.registry, None, now)
            .context("loading the registry to check receipts")?,
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    // One blocking task per core: the checks are pure CPU.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut tasks = Vec::new();
    for chunk in files.chunks(files.len().div_ceil(cores).max(1)) {
        let (chunk, registry) = (chunk.to_vec(), registry.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            chunk
                .into_iter()
                .map(|path| {
                    let checked = receipt::read_file(&path)
                        .and_then(|env| receipt::verify(&env, &registry, now))
                        .map_err(|e| format!("{}: {e}", path.display()));
                    (path, checked)
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut good = 0;
    let mut first_error = None;
    let mut example = None;
    for task in tasks {
        for (path, checked) in task.await? {
            match checked {
                Ok(checked) => {
                    good += 1;
                    example.get_or_insert((path, checked));
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    println!(
        "  checked {} receipt files offline against the registry in {} (no gateway involved)",
        files.len(),
        timer.show()
    );
    if let Some((path, checked)) = &example {
        println!(
            "  e.g. {}: subject_ref {}, {} → {} {}, valid until {}, agreement {}, signed by node {}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            answers::short(&checked.body.subject_ref),
            checked.body.origin_region,
            checked.body.destination_region,
            checked.body.destination_verdict.as_str(),
            names::time(Some(&huren::recognition::wire::timestamp(
                checked.body.valid_until
            ))),
            checked.body.agreement,
            checked.node_id
        );
    }
    checks.expect(
        format!("all {written} receipts verify offline"),
        good == written && files.len() == written,
        first_error.unwrap_or_else(|| format!("{good} of {written}")),
    );

    let Some((path, _)) = example else {
        return Ok(());
    };
    let mut env = receipt::read_file(&path)?;
    let text = String::from_utf8_lossy(&env.payload).replace("\"PASS\"", "\"REVIEW\"");
    let altered = if text.as_bytes() == env.payload.as_slice() {
        let mut p = env.payload.clone();
        if let Some(b) = p.last_mut() {
            *b ^= 1;
        }
        p
    } else {
        text.into_bytes()
    };
    env.payload = altered;
    let tampered = dir.join("tampered.json");
    receipt::write_file(&tampered, &env)?;
    let refused = receipt::verify(&receipt::read_file(&tampered)?, &registry, now);
    println!(
        "  the same receipt with its verdict edited: {}",
        match &refused {
            Ok(_) => "ACCEPTED".to_string(),
            Err(e) => format!("refused: {e}"),
        }
    );
    checks.expect(
        "an altered receipt is refused",
        refused.is_err(),
        "it verified",
    );
    Ok(())
}
