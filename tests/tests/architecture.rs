//! The workspace's layering, read from `cargo metadata` and `cargo tree`: one rule a line in
//! [`RULES`], and every broken rule printed before the test fails.

use std::process::Command;

use serde_json::Value;

/// Which dependency section a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `[dependencies]`: what everyone linking the crate gets.
    Normal,
    /// Any section: normal, dev or build.
    Any,
}

#[derive(Debug)]
enum Rule {
    /// `krate` does not list `dep` (directly) in the `kind` section.
    Forbid {
        krate: &'static str,
        dep: &'static str,
        kind: Kind,
    },
    /// No workspace crate depends on `krate`, in any section.
    NoDependents { krate: &'static str },
    /// Building `build` alone, without dev-dependencies, does not turn on `feature` of `dep`. A
    /// feature that does not exist is not on, so this rule holds before the feature is added.
    FeatureOff {
        build: &'static str,
        dep: &'static str,
        feature: &'static str,
    },
}

use Kind::{Any, Normal};
use Rule::{FeatureOff, Forbid, NoDependents};

// One rule a line, so adding a rule is adding a line.
#[rustfmt::skip]
const RULES: &[Rule] = &[
    // The library is what nodes link: no command-line, report or dev-PKI crates in it.
    Forbid { krate: "huren", dep: "clap", kind: Normal },
    Forbid { krate: "huren", dep: "anyhow", kind: Normal },
    Forbid { krate: "huren", dep: "hdrhistogram", kind: Normal },
    Forbid { krate: "huren", dep: "tracing-subscriber", kind: Normal },
    Forbid { krate: "huren", dep: "huren-certs", kind: Normal },
    // Data flows one way: proto → adapters → gateway.
    Forbid { krate: "huren-adapters", dep: "huren", kind: Any },
    Forbid { krate: "huren-adapters", dep: "huren-registry", kind: Any },
    // The tool sits on top of everything.
    NoDependents { krate: "huren-cli" },
    // Simulators and dev fixtures stay off the served path.
    FeatureOff { build: "huren", dep: "huren-adapters", feature: "sim" },
    FeatureOff { build: "huren", dep: "huren-registry", feature: "dev" },
];

fn cargo(args: &[&str]) -> String {
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args(args)
        .args(["--manifest-path", workspace])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("cargo prints UTF-8")
}

/// The workspace's own crates as `cargo metadata` lists them.
fn workspace_packages() -> Vec<Value> {
    let text = cargo(&["metadata", "--format-version", "1", "--no-deps"]);
    let metadata: Value = serde_json::from_str(&text).expect("cargo metadata prints JSON");
    metadata["packages"]
        .as_array()
        .expect("metadata lists packages")
        .clone()
}

/// `(dependency, kind)` of every dependency `package` declares; kind is `normal`, `dev` or `build`.
fn declared(package: &Value) -> Vec<(String, String)> {
    let deps = package["dependencies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    deps.iter()
        .map(|d| {
            let name = d["name"].as_str().unwrap_or_default().to_string();
            let kind = d["kind"].as_str().unwrap_or("normal").to_string();
            (name, kind)
        })
        .collect()
}

/// The features each crate is built with when `build` alone is built for its users.
fn features_of(build: &str) -> Vec<(String, Vec<String>)> {
    let text = cargo(&[
        "tree", "-p", build, "-e", "normal", "--prefix", "none", "-f", "{p}|{f}",
    ]);
    text.lines()
        // `(*)` marks a crate already listed above, with the same features.
        .filter(|line| !line.ends_with("(*)"))
        .filter_map(|line| {
            let (package, features) = line.split_once('|')?;
            let name = package.split_whitespace().next()?.to_string();
            let features = features.trim();
            let list = features
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect();
            Some((name, list))
        })
        .collect()
}

fn check(rule: &Rule, packages: &[Value]) -> Vec<String> {
    let name_of = |p: &Value| p["name"].as_str().unwrap_or_default().to_string();
    match *rule {
        Forbid { krate, dep, kind } => {
            let Some(package) = packages.iter().find(|p| name_of(p) == krate) else {
                return vec![format!("{rule:?}: no crate {krate} in the workspace")];
            };
            declared(package)
                .into_iter()
                .filter(|(name, k)| name == dep && (kind == Any || k == "normal"))
                .map(|(_, k)| format!("{krate} depends on {dep} ({k}), which {rule:?} forbids"))
                .collect()
        }
        NoDependents { krate } => packages
            .iter()
            .flat_map(|p| {
                let user = name_of(p);
                declared(p)
                    .into_iter()
                    .filter(|(name, _)| name == krate)
                    .map(move |(_, k)| {
                        format!("{user} depends on {krate} ({k}), which {rule:?} forbids")
                    })
            })
            .collect(),
        FeatureOff {
            build,
            dep,
            feature,
        } => features_of(build)
            .into_iter()
            .filter(|(name, features)| name == dep && features.iter().any(|f| f == feature))
            .map(|_| format!("building {build} turns on {dep}/{feature}, which {rule:?} forbids"))
            .collect(),
    }
}

#[test]
fn the_workspace_keeps_its_layers() {
    let packages = workspace_packages();
    let violations: Vec<String> = RULES.iter().flat_map(|r| check(r, &packages)).collect();
    for v in &violations {
        eprintln!("architecture: {v}");
    }
    assert!(
        violations.is_empty(),
        "{} architecture rule(s) broken:\n{}",
        violations.len(),
        violations.join("\n")
    );
}
