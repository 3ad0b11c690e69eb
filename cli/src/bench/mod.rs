//! Benchmarks that print huren's figures beside baselines measured in the same run, so the
//! overhead of huren reads as a ratio: the raw signature-verify rate of the same algorithm on
//! one core, and a bare mutual-TLS gRPC round trip against the same gateway.
//!
//! The system under test runs on its own runtime ([`server`]) so its threads' CPU ([`cpu`]) is
//! measured apart from the load generator's ([`load`]); the overload benchmark goes further and
//! runs it in its own process ([`node_process`]). Every run is bounded by a duration and an
//! optional request budget. See BENCHMARKS.md for how to read the tables.

pub mod allocs;
pub mod anchor;
pub mod cpu;
pub mod federation;
pub mod figures;
pub mod generator;
pub mod load;
pub mod machine;
pub mod manifest;
pub mod memory;
pub mod node_process;
pub mod online;
pub mod open_loop;
pub mod out;
pub mod overload;
pub mod raw;
pub mod server;
pub mod status_lists;
pub mod verify;
pub mod wire;
