//! The raw signature-verify rate on one core, with the same functions the adapters call
//! (ed25519-dalek `verify_strict`, ring ECDSA P-256 with the low-s check), over a message the
//! size of a health code's signed text.

use std::time::{Duration, Instant};

use huren_adapters::codec::verify::verify;

use super::cpu::this_thread_cpu;

/// A clock for the raw loops: this thread's CPU time where Linux reports it, so the raw figures
/// compare with the server's CPU per code even when other processes share the cores; wall time
/// elsewhere.
struct Clock {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Clock {
    fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: this_thread_cpu(),
        }
    }

    fn wall(&self) -> Duration {
        self.wall.elapsed()
    }

    /// Time spent: CPU time when both readings exist, else wall time.
    fn spent(&self) -> Duration {
        match (self.cpu, this_thread_cpu()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => self.wall.elapsed(),
        }
    }
}
use huren_adapters::{IssuerSigner, KeyAlgorithm};

/// Verifications per second of the calling thread's CPU time, over `duration` of wall time.
pub fn rate(signer: &IssuerSigner, duration: Duration) -> anyhow::Result<f64> {
    let message = b"TFJKT1.c2MtMjAyMC0wMXwxMjM0NTY3ODl8NTEwMTA0MTk4ODAxMDEwMDFYfOeOi-S8n3znu7_noIF8MTU4MjE4NTYwMHwxNTgyNzkwNDAw";
    let signature = signer.sign(message)?;
    let key = signer.public_key();
    let algorithm = signer.algorithm();
    anyhow::ensure!(
        verify(&key, algorithm, message, &signature),
        "the baseline signature does not verify"
    );
    let clock = Clock::start();
    let mut n = 0u64;
    // Bounded by `duration`; checks the clock every 64 verifications.
    while clock.wall() < duration {
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
    Ok(n as f64 / clock.spent().as_secs_f64())
}

pub fn algorithm_name(a: KeyAlgorithm) -> &'static str {
    match a {
        KeyAlgorithm::Ed25519 => "Ed25519 (ed25519-dalek verify_strict)",
        KeyAlgorithm::EcdsaP256Sha256 => "ECDSA P-256 (ring)",
        KeyAlgorithm::Sm2Sm3 => "SM2 with SM3 (RustCrypto sm2)",
    }
}

/// Ed25519 verifications per second on the calling thread with `verify_batch`, `batch` distinct
/// messages at a time: the floor of what batch checking can reach.
pub fn batch_rate(signer: &IssuerSigner, batch: usize, duration: Duration) -> anyhow::Result<f64> {
    anyhow::ensure!(
        signer.algorithm() == KeyAlgorithm::Ed25519,
        "batch verification is for Ed25519"
    );
    let key: [u8; 32] = signer
        .public_key()
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("an Ed25519 key has 32 bytes"))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key)?;
    let mut messages = Vec::with_capacity(batch);
    let mut signatures = Vec::with_capacity(batch);
    for i in 0..batch.max(1) {
        let message = format!(
            "TFJKT1.c2MtMjAyMC0wMXwxMjM0NTY3ODl8NTEwMTA0MTk4ODAxMDEwMDFYfOeOi-S8n3znu7_noIF8MTU4MjE4NTYwMHwx{i:08}"
        );
        let signature: [u8; 64] = signer
            .sign(message.as_bytes())?
            .try_into()
            .map_err(|_| anyhow::anyhow!("an Ed25519 signature has 64 bytes"))?;
        messages.push(message.into_bytes());
        signatures.push(ed25519_dalek::Signature::from_bytes(&signature));
    }
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let keys = vec![key; refs.len()];
    ed25519_dalek::verify_batch(&refs, &signatures, &keys)?;
    let clock = Clock::start();
    let mut n = 0u64;
    // Bounded by `duration`.
    while clock.wall() < duration {
        std::hint::black_box(ed25519_dalek::verify_batch(&refs, &signatures, &keys)).ok();
        n += refs.len() as u64;
    }
    Ok(n as f64 / clock.spent().as_secs_f64())
}
