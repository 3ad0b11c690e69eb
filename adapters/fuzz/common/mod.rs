//! What every fuzz target shares: a registry key ring, a status lookup that never grows, and a
//! way to run an adapter's read without a runtime.

#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use huren_adapters::codec::SignedFormat;
use huren_adapters::testing::TestIssuers;
use huren_adapters::{
    CodeError, LookupQuery, ReadContext, ReadOutcome, RegionCode, StatusLookup, StatusService,
};
use time::OffsetDateTime;

/// Answers every lookup "unknown code" and keeps nothing, so long runs do not grow.
pub struct NullLookup;

#[async_trait::async_trait]
impl StatusLookup for NullLookup {
    async fn lookup(
        &self,
        _: RegionCode,
        _: &LookupQuery,
        _: Option<&StatusService>,
        _: Duration,
        _: Instant,
    ) -> Result<ReadOutcome, CodeError> {
        Err(CodeError::UnknownCode)
    }
}

pub fn issuers() -> &'static TestIssuers {
    static ISSUERS: OnceLock<TestIssuers> = OnceLock::new();
    ISSUERS.get_or_init(|| TestIssuers::generate().expect("test keys"))
}

pub fn context() -> ReadContext<'static> {
    static LOOKUP: NullLookup = NullLookup;
    ReadContext::new(
        &issuers().ring,
        &LOOKUP,
        OffsetDateTime::now_utc(),
        Instant::now() + Duration::from_secs(1),
    )
}

/// Reads never wait on the null lookup, so one poll finishes them.
pub fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("a read waited on nothing"),
    }
}

/// The format's prefix followed by the fuzzer's bytes, so every input reaches the parser.
pub fn fuzz_signed(format: &SignedFormat, data: &[u8]) {
    let payload = format!("{}{}", format.prefix, String::from_utf8_lossy(data));
    let _ = format.read(&payload, &context());
}
