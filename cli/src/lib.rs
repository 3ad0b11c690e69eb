//! The `huren` tool: subcommands, the loopback demo, benchmarks and report printers over the
//! `huren` gateway library.

#![forbid(unsafe_code)]

pub mod bench;
pub mod cli;
pub mod demo;
pub mod loopback;
pub mod receipt_files;
pub mod report;
