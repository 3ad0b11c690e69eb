//! huren (互认): the federated interop gateway between regional health-code systems.
//!
//! This library is what a node runs; the `huren` binary (crate `huren-cli`) is a thin shell over
//! it and the only place that reads a dev PKI directory.
//!
//! # Map
//!
//! **A call, outside in.** [`acceptor`] takes TLS connections ([`tls`], with [`region_ca`]
//! binding each province to its CA) and reads the caller's [`identity`] once per connection.
//! [`server`] stacks the pipeline in one place: [`metrics`] counts every call, [`authz`] applies
//! the role × method [`policy`] (a `gateway` caller only if [`node_admission`] finds it in the
//! registry), [`limits`] bound time, load and message size. Then the
//! [`services`] answer; [`error`] decides what a caller sees of any failure.
//!
//! **Judging.** [`recognition`]: the pure engine, the pipeline around it (adapters, audit,
//! counters), what each role sees, recognition receipts. It reads the node's registry through
//! [`registry_handle`] (whose expiry [`registry_expiry`] follows), keys people with [`privacy`]
//! and counts into [`summary`].
//!
//! **A node.** [`node`] assembles registry, adapters, audit log, counters and keys into the
//! services; [`config`] is `huren.toml`; [`admin`] serves `/metrics`, `/healthz`, `/readyz`;
//! [`connect`] is the client side of the mutual TLS.
//!
//! **A federation.** [`fanout`] asks every node the registry lists for its share of a national
//! query and merges the answers (partial, naming the missing nodes, when one does not answer).
//! The registry travels node to node: [`witnessing`] (every node cosigns checkpoints; the
//! publisher gathers k cosignatures before acting) and [`follow`] (pull each new version from a
//! peer, verify, keep).

#![forbid(unsafe_code)]

pub mod acceptor;
pub mod admin;
pub mod appeals;
pub mod authz;
pub mod cert_expiry;
pub mod config;
pub mod connect;
pub mod connections;
pub mod error;
pub mod fanout;
pub mod federation;
pub mod follow;
pub mod identity;
pub mod limits;
pub mod lookup;
pub mod metric_handles;
pub mod metrics;
pub mod metrics_catalog;
pub mod node;
pub mod node_admission;
pub mod node_gauges;
pub mod policy;
pub mod privacy;
pub mod readiness;
pub mod recognition;
pub mod region_ca;
pub mod registry_expiry;
pub mod registry_handle;
pub mod registry_witness;
pub mod server;
pub mod services;
pub mod summary;
pub mod summary_hours;
pub mod tls;
pub mod trust_domain;
pub mod witnessing;

pub use error::Error;
pub use identity::{Peer, Role};
pub use server::{Gateway, GatewayBuilder, ShutdownHandle};
