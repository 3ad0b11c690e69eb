//! The loopback federation that `huren demo` and `huren bench` both stand up: a dev PKI and
//! signed registry ([`stack`]), the residents ([`people`]) and their native codes ([`codes`]).

pub mod codes;
pub mod people;
pub mod stack;
