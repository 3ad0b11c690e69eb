//! Test support: a dev PKI and an in-process gateway on 127.0.0.1:0.
