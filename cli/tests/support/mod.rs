//! Running the real `huren` binary from a test with a bound on how long it may take.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A resident's ID number that `huren region issue` accepts (Guangdong, valid check digit).
pub const RESIDENT_ID: &str = "440524188001010014";

/// `huren region issue` of a green Guangdong code to [`RESIDENT_ID`] from the PKI in `pki`.
pub fn region_issue(pki: &str) -> Vec<String> {
    [
        "region",
        "issue",
        "--pki",
        pki,
        "--region",
        "440000",
        "--id",
        RESIDENT_ID,
        "--name",
        "张三",
        "--colour",
        "GREEN",
    ]
    .map(String::from)
    .to_vec()
}

/// `huren args` in `dir`, deaf to the environment's huren settings, so a developer's own
/// HUREN_* variables cannot change what a test runs.
pub fn command<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_huren"));
    command.args(args).current_dir(dir);
    for var in ["HUREN_CONFIG", "HUREN_PKI", "HUREN_REGISTRY", "HUREN_STATE"] {
        command.env_remove(var);
    }
    command
}

/// A path as the UTF-8 argument the CLI takes.
pub fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Runs `huren args` in `dir` within a minute, insists it succeeded and returns what it printed.
pub fn huren_ok<S: AsRef<OsStr> + std::fmt::Debug>(dir: &Path, args: &[S]) -> String {
    let out = huren_within(args, dir, Stdio::piped(), Duration::from_secs(60));
    assert!(
        out.status.success(),
        "huren {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `huren args` in `dir` with `stdout`, waiting at most `bound`: a command still running
/// then (one that should have refused its input, or ended) is killed and the test fails.
pub fn huren_within<S: AsRef<OsStr> + std::fmt::Debug>(
    args: &[S],
    dir: &Path,
    stdout: Stdio,
    bound: Duration,
) -> Output {
    let mut child = command(dir, args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > bound {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "huren {args:?} still running after {bound:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}
