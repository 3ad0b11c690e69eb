//! The operator consoles of `huren console`: small web pages served on loopback by a process
//! that holds the operator's client certificate and calls the gateway over mutual TLS.
//!
//! - [`checkpoint`]: the scanning page of checkpoint staff: camera frames and a keyboard-wedge
//!   scanner's lines in, one big PASS / STOP out.
//! - [`national`]: the national dashboard: charts of the national summary, refreshed by polling.
//! - [`assets`]: the pages' HTML, JavaScript and CSS, compiled into the binary (no CDN, no npm).
//! - [`listen`]: the loopback-only HTTP listener both share.
//! - [`guard`]: refuses requests from other web pages the operator's browser has open.

pub mod assets;
pub mod checkpoint;
pub mod guard;
pub mod listen;
pub mod national;
