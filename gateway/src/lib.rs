//! huren (互认): the federated interop gateway between regional health-code systems.
//!
//! The binary is a thin shell over this library; `cli` wires subcommands to the parts.
//! The request path: [`acceptor`] (TLS, [`identity`]) → [`server`]'s pipeline ([`metrics`],
//! [`authz`], [`limits`]) → [`services`]; [`error`] decides what callers see.

#![forbid(unsafe_code)]

pub mod acceptor;
pub mod admin;
pub mod authz;
pub mod bench;
pub mod cli;
pub mod config;
pub mod connect;
pub mod demo;
pub mod error;
pub mod identity;
pub mod limits;
pub mod metrics;
pub mod node;
pub mod privacy;
pub mod readiness;
pub mod recognition;
pub mod region_ca;
pub mod report;
pub mod server;
pub mod services;
pub mod summary;
pub mod tls;

pub use error::Error;
pub use identity::{Peer, Role};
pub use server::{Gateway, GatewayBuilder, ShutdownHandle};
