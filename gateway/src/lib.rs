//! huren (互认): the federated interop gateway between regional health-code systems.
//!
//! The binary is a thin shell over this library; `cli` wires subcommands to the parts.

#![forbid(unsafe_code)]

pub mod cli;
