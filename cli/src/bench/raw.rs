//! The raw signature-verify rate on one core, with the same functions the adapters call
//! (ed25519-dalek `verify_strict`, ring ECDSA P-256 with the low-s check), over a message the
//! size of a health code's signed text.

use std::time::{Duration, Instant};

use huren_adapters::codec::verify::verify;
use huren_adapters::{IssuerSigner, KeyAlgorithm};

/// Verifications per second on the calling thread for `duration`.
pub fn rate(signer: &IssuerSigner, duration: Duration) -> anyhow::Result<f64> {
    let message = b"TFJKT1.c2MtMjAyMC0wMXwxMjM0NTY3ODl8NTEwMTA0MTk4ODAxMDEwMDFYfOeOi-S8n3znu7_noIF8MTU4MjE4NTYwMHwxNTgyNzkwNDAw";
    let signature = signer.sign(message)?;
    let key = signer.public_key();
    let algorithm = signer.algorithm();
    anyhow::ensure!(
        verify(&key, algorithm, message, &signature),
        "the baseline signature does not verify"
    );
    let start = Instant::now();
    let mut n = 0u64;
    // Bounded by `duration`; checks the clock every 64 verifications.
    while start.elapsed() < duration {
        for _ in 0..64 {
            std::hint::black_box(verify(
                &key,
                algorithm,
                std::hint::black_box(message),
                &signature,
            ));
        }
        n += 64;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub fn algorithm_name(a: KeyAlgorithm) -> &'static str {
    match a {
        KeyAlgorithm::Ed25519 => "Ed25519 (ed25519-dalek verify_strict)",
        KeyAlgorithm::EcdsaP256Sha256 => "ECDSA P-256 (ring)",
    }
}
