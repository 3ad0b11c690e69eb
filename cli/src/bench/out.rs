//! Where a benchmark's words go: stdout for people, or stderr when `--json` keeps stdout for the
//! one JSON object a script reads.

use std::sync::atomic::{AtomicBool, Ordering};

static JSON: AtomicBool = AtomicBool::new(false);

/// From now on the human-readable lines go to stderr.
pub fn set_json(on: bool) {
    JSON.store(on, Ordering::Relaxed);
}

pub fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// Prints the benchmark's one JSON object on stdout, when `--json` asked for it.
pub fn report(value: &serde_json::Value) {
    if json() {
        println!("{value}");
    }
}

/// `println!` for progress and tables: stderr under `--json`.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        if $crate::bench::out::json() {
            eprintln!($($arg)*)
        } else {
            println!($($arg)*)
        }
    };
}

/// `print!`, the same way.
#[macro_export]
macro_rules! say_raw {
    ($($arg:tt)*) => {
        if $crate::bench::out::json() {
            eprint!($($arg)*)
        } else {
            print!($($arg)*)
        }
    };
}
