//! Signed status lists: how an issuer withdraws or suspends single offline codes, and how a
//! verifying node holds the lists and answers "is this code still good?" with a bit test.
//!
//! # The model
//!
//! Every offline code names a status list (issuing region, issuer id, list id) and an index in
//! it. The issuer publishes each list signed with its own code-signing key, which a node checks
//! against the registry exactly like a code's signature. A list holds 2 bits per index:
//! 0 valid, 1 withdrawn (REJECT, `REVOKED_CODE`), 2 suspended pending review (REVIEW), 3
//! reserved and refused. Lists carry a sequence number and an expiry; a node installs a list
//! only forwards and never trusts an expired one, and a lookup in a list older than the
//! verifying agreement's `max_status_list_age` answers [`ListStatus::Stale`] (REVIEW).
//!
//! - [`bits`]: the 2-bit array, its digest and its differences.
//! - [`header`]: the signed fields and the domain-separated message.
//! - [`signed`]: a whole list on the wire: issue, open under the registry.
//! - [`delta`]: the changes from one sequence to the next, checked against the next's digest.
//! - [`reference`]: a code's (list id, index), packed into its signed serial.
//! - [`store`]: the held lists ([`StatusLists`]) and the scan-path lookup.
//! - [`archive`]: the lockable holder a node or an issuer's service shares ([`ListArchive`]):
//!   the current lists for lookups plus recent versions, to answer "the delta since N".
//! - [`bench`]: sizes and times at 1, 10 and 30 million codes. One run on the shared 2-core
//!   build machine (P-256 issuer, 1 % withdrawn, 0.2 % suspended):
//!
//! | codes | raw | signed list | build | open | 0.1 % delta | delta apply | lookup |
//! |---|---|---|---|---|---|---|---|
//! | 1 M | 250 KB | 20.7 KB | 19 ms | 9 ms | 1.5 KB | 0.3 ms | 290 ns |
//! | 10 M | 2.5 MB | 206 KB | 260 ms | 13 ms | 12.9 KB | 6.5 ms | 151 ns |
//! | 30 M | 7.5 MB | 618 KB | 530 ms | 66 ms | 38.2 KB | 27 ms | 367 ns |
//!
//! # What was taken from the field, and what was done differently
//!
//! From the **IETF OAuth Token Status List** (draft-ietf-oauth-status-list): the bit array
//! itself, with its layout for 2 bits per token (index `i` in byte `i / 4`, least significant
//! bits first), its status values (0 valid, 1 invalid, 2 suspended, 3 application-specific),
//! and zlib as the compression: the same bits could be served as an IETF `lst` unchanged. Not
//! taken: JOSE/COSE envelopes (a node verifies with the codecs' own Ed25519 / P-256 path and
//! needs no JSON or CBOR parser on fetched data), and trusting `iat`/`exp` alone, which lets a
//! replayed older list stand in for a newer one until it expires.
//!
//! From the **W3C Bitstring Status List**: one position per credential, separate "revocation"
//! and "suspension" meanings (here two values of one 2-bit entry rather than two lists, so one
//! lookup answers both), and its herd-privacy advice: an issuer should assign indices at random
//! within a large list (W3C's minimum is 131,072 entries) so fetching a list says nothing about
//! which code is being checked, and a node fetches whole lists, never per-code.
//!
//! From the **EU DCC gateway's revocation lists** (2022): partitioning, so that a verifier
//! downloads only what changed. The DCC partitions hashes by key id and hash prefix; here a list
//! is already per issuer (key id) and issuers split further by list id, each capped at
//! [`MAX_CODES`] (2^26) codes. Hashes of revoked certificates are not used: with an index in
//! every code a bit array is far smaller (2.5 MB for 10 M codes raw, about 200 KB compressed
//! with 1.2 % of codes withdrawn or suspended) and has a constant-time lookup.
//!
//! Done better than all three:
//! - **Rollback and equivocation**: a strictly increasing sequence per list, so an older list is
//!   refused even while unexpired; the same sequence with different contents is refused as
//!   equivocation instead of silently replacing the held list.
//! - **The signature covers a digest of the bits, not the compressed bytes**, so any node may
//!   recompress or rebuild a list from a delta without the issuer's key, and the result is
//!   still checked against the issuer's signature.
//! - **Signed deltas**: neither the IETF draft nor W3C has them; here a delta from sequence A to B
//!   carries B's signed header, and applying it must reproduce B's signed digest, so a bad delta
//!   can only be refused, never yield a wrong list. 0.1 % of 10 M codes changing is a ~13 KB
//!   delta instead of a ~200 KB list.
//! - **Cheap and safe on arrival**: the signature is checked before the bits are inflated, and
//!   they inflate into exactly the signed size, so an unsigned or bomb-shaped list costs no
//!   memory; the reserved value and stray padding bits are refused once, on arrival, so the
//!   scan path is a shift and a mask.
//! - **Domain separation**: the signed message starts with [`header::SIGNING_DOMAIN`], which no
//!   code payload starts with, so one issuer key signs codes and lists without either signature
//!   being usable as the other.
//!
//! # How a code points into a list
//!
//! A code's status reference is (issuing region, issuer id, list id, index). The region and the
//! issuer id are already signed fields of every offline format; list id and index travel in the
//! code's signed serial as `list_id << 32 | index` (index below [`MAX_CODES`]), in a new version
//! of each format, so codes issued before keep today's behaviour. Issuers should hand out
//! indices at random within a list, never in issue order, so that neither the list nor a delta
//! says when a given code was issued.

pub mod archive;
pub mod bench;
pub mod bits;
mod compress;
pub mod delta;
pub mod error;
pub mod header;
mod reader;
pub mod reference;
pub mod signed;
pub mod store;
#[cfg(test)]
mod tests;

pub use archive::{ListArchive, ListKey, Served};
pub use bits::{CodeStatus, MAX_CODES, StatusBits};
pub use delta::StatusDelta;
pub use error::{FormatError, IssueError, Refusal, StatusListError};
pub use header::ListHeader;
pub use reference::StatusRef;
pub use signed::{Issuance, StatusList};
pub use store::{Applied, ListStatus, StatusLists};
