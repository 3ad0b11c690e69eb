//! The Python interpreter the interop tests run their independent implementations with:
//! `.ci/run` installs grpcio, securesystemslib and cryptography in a virtualenv and sets
//! HUREN_PYTHON; outside CI a test skips loudly when that is unset, under CI it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The interpreter, or `None` to skip `test` (never under CI).
pub fn python(test: &str) -> Option<PathBuf> {
    match std::env::var_os("HUREN_PYTHON") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but HUREN_PYTHON is unset: .ci/run must provide its python")
        }
        None => {
            eprintln!(
                "\n*** SKIPPING {test}: set HUREN_PYTHON to the python of .ci/run's virtualenv \
                 (bash .ci/run does) ***\n"
            );
            None
        }
    }
}

/// A script of `tests/python/`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

/// Runs `python script args…`: whether it exited 0, and its stdout and stderr together.
pub fn run(python: &Path, script_name: &str, args: &[String]) -> (bool, String) {
    let output = Command::new(python)
        .arg(script(script_name))
        .args(args)
        .output()
        .expect("python runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}
