//! The signed trust registry.
