//! `huren demo --keep`: how to connect to what keeps serving, and the train's manifest as a CSV
//! file to try `huren manifest check` with.

use std::path::Path;

use anyhow::Context as _;

use super::train;
use crate::loopback::stack::Stack;

pub fn write_manifest_csv(path: &Path, riders: &[train::Rider]) -> anyhow::Result<()> {
    let mut text = String::from("seat,payload\n");
    for r in riders {
        text.push_str(&format!("{},{}\n", r.seat, r.payload));
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

pub fn print_how_to_connect(stack: &Stack, sample: Option<&str>) -> anyhow::Result<()> {
    let addr = stack.addr()?;
    let pki = stack.pki().display().to_string();
    let root = stack.regions.dirs.root.display().to_string();
    println!("\neverything keeps serving until Ctrl-C (which stops it and removes {root}):");
    println!("  gateway   https://{addr}");
    if let Some(admin) = stack.admin_addr() {
        println!("  metrics   http://{admin}/metrics");
    }
    println!("  PKI       {pki}");
    println!("  registry  {}", stack.regions.dirs.registry.display());
    let g = format!("--gateway https://{addr} --pki {pki}");
    if let Some(payload) = sample {
        println!("try, in another terminal:");
        println!("  huren verify {g} '{payload}'");
        let c = format!("{pki}/clients/checkpoint-330110-yuhang-gate-1");
        println!(
            "  grpcurl -cacert {pki}/root/ca.pem -cert {c}.pem -key {c}.key -d '{{\"payload\":\"{payload}\"}}' localhost:{} huren.v1.RecognitionService/VerifyCode",
            addr.port()
        );
    }
    println!(
        "  huren manifest check {root}/train.csv --train {} --from 510000 --to 330100 --departs 2030-01-01T08:00:00Z {g}",
        train::TRAIN
    );
    println!("  huren summary {g}");
    println!(
        "  huren receipt verify {root}/receipts/HA-0001.json --registry {}",
        stack.regions.dirs.registry.display()
    );
    Ok(())
}
