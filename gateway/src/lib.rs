//! huren (互认): the federated interop gateway between regional health-code systems.
//!
//! This library is what a node runs; the `huren` binary (crate `huren-cli`) is a thin shell over
//! it and the only place that reads a dev PKI directory. The request path: [`acceptor`] (TLS,
//! [`identity`]) → [`server`]'s pipeline ([`metrics`], [`authz`], [`limits`]) → [`services`];
//! [`error`] decides what callers see.
//!
//! - Set-up: [`config`] (`huren.toml`, explicit TLS files), [`tls`] and [`region_ca`] (the
//!   server's rustls configuration, swappable while serving), [`node`] (registry, adapters,
//!   audit log and keys assembled into the services), [`admin`] (health and metrics port).
//! - Judging: [`recognition`] (the pure engine, the pipeline around it, receipts, wire values),
//!   [`privacy`] (subject refs), [`summary`] (national counters).
//! - Calling a gateway: [`connect`] (a mutual-TLS channel from PEM).

#![forbid(unsafe_code)]

pub mod acceptor;
pub mod admin;
pub mod authz;
pub mod config;
pub mod connect;
pub mod error;
pub mod identity;
pub mod limits;
pub mod metrics;
pub mod node;
pub mod privacy;
pub mod recognition;
pub mod region_ca;
pub mod server;
pub mod services;
pub mod summary;
pub mod tls;

pub use error::Error;
pub use identity::{Peer, Role};
pub use server::{Gateway, GatewayBuilder, ShutdownHandle};
