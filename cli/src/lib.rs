//! The `huren` tool: the commands an operator runs over the `huren` gateway library, which knows
//! nothing of them.
//!
//! - [`cli`]: argument parsing and one module per subcommand (`serve`, `certs`, `registry`,
//!   `region`, `audit`, `receipt`, the client calls, `demo`, `bench`).
//! - [`pki`]: a PKI directory from `huren certs init` resolved into the explicit TLS files and
//!   PEM the library takes; the dev PKI's default place.
//! - [`loopback`]: the whole system on 127.0.0.1 (dev PKI, signed registry, reference regional
//!   services, a gateway) with its residents and codes; [`demo`] and [`bench`] both start here.
//! - [`federation`]: a dev federation of four nodes as separate processes: `huren federation
//!   init` and the launcher the federated demo, its tests and `huren bench federation` use.
//! - [`demo`]: `huren demo`, every role's calls with a check of each result.
//! - [`bench`]: `huren bench verify | manifest`, figures beside same-run baselines.
//! - [`console`]: `huren console`, the checkpoint's scanning page and the national dashboard.
//! - [`report`]: how answers, errors and figures are printed (tables and JSON).
//! - [`receipt_files`]: signed recognition receipts as one file per worker.

#![forbid(unsafe_code)]

pub mod bench;
pub mod cli;
pub mod console;
pub mod demo;
pub mod federation;
pub mod loopback;
pub mod pki;
pub mod probe;
pub mod receipt_files;
pub mod report;
