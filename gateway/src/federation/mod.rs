//! Federation between nodes: a read that needs a regional service goes to the node that serves
//! the region ([`serve`] on that side), and comes back as a signed [`statement`].
//!
//! See `gateway/FEDERATION.md` for who forwards what to whom and what crosses a province's
//! boundary.

pub mod forward;
pub mod index;
pub mod list_carry;
pub mod list_serve;
pub mod peers;
pub mod refusal;
pub mod relayed;
pub mod serve;
pub mod statement;
pub mod unary;
