//! `huren bench overload`: what the node does at several times its capacity. First its capacity
//! is measured in this run (VerifyCode of Guangdong's Ed25519 codes, closed loop); then a crowd
//! of callers offers a multiple of it, open loop, and the report says how much was still served
//! in time (goodput against that capacity), how fast and how the rest were refused, and how far
//! the process's memory grew.

use std::sync::Arc;
use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{Verdict, VerifyCodeRequest};
use tonic::transport::Channel;

use super::figures::{count, ms, percent, ratio};
use super::load::{self, Bounds};
use super::memory::{self, mib};
use super::open_loop::{self, Outcome, Pace};
use super::server::{Server, connections_for};
use crate::loopback::codes::Codes;
use crate::loopback::people::People;
use crate::report::Table;

/// Goodput under overload should stay at least this share of the measured capacity.
pub const GOODPUT_TARGET: f64 = 0.90;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long the capacity run and the overload run each last.
    pub bounds: Bounds,
    /// Calls in flight while capacity is measured.
    pub in_flight: usize,
    /// Offered load as a multiple of the measured capacity.
    pub factor: f64,
    /// Separate mutual-TLS connections offering the overload.
    pub callers: usize,
    /// Each call's deadline (grpc-timeout) during the overload.
    pub deadline: Duration,
    /// Calls the generator keeps outstanding at most.
    pub outstanding: usize,
    /// The node's `limits.max_in_flight`; `None`: its default.
    pub max_in_flight: Option<usize>,
    /// Distinct codes, sent round robin.
    pub codes: usize,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    println!("huren bench overload — {}", super::machine::describe());
    let max_in_flight = options.max_in_flight;
    let server = Server::start_with(move |config| {
        if let Some(n) = max_in_flight {
            config.limits.max_in_flight = n;
        }
    })
    .await?;
    let result = measure(&server, &options).await;
    server.stop().await;
    result
}

async fn measure(server: &Server, options: &Options) -> anyhow::Result<()> {
    let limits = huren::config::Limits {
        max_in_flight: options
            .max_in_flight
            .unwrap_or(huren::config::Limits::default().max_in_flight),
        ..Default::default()
    };
    println!(
        "VerifyCode of Guangdong Ed25519 codes for a province caller (Henan); node limits: max_in_flight {}, max_concurrent_streams {} per connection",
        limits.max_in_flight, limits.max_concurrent_streams
    );
    let payloads = Arc::new(issue_codes(server, options.codes).await?);

    let channels = Arc::new(
        server
            .channels(
                "province",
                Some("410000"),
                connections_for(options.in_flight),
            )
            .await?,
    );
    let closed = {
        let (channels, payloads) = (channels.clone(), payloads.clone());
        let timeout = options.bounds.call_timeout();
        load::run(options.in_flight, options.bounds, 1, move |i| {
            let call = verify(&channels, &payloads, i, timeout);
            async move { call.await.map_err(|s| crate::report::describe(&s)) }
        })
        .await
    };
    if closed.failed > 0 || closed.calls == 0 {
        anyhow::bail!(
            "the capacity run failed: {} of {} calls ({})",
            closed.failed,
            closed.calls + closed.failed,
            closed.first_error.unwrap_or_default()
        );
    }
    let capacity = closed.calls_per_sec();
    println!(
        "\ncapacity, closed loop at {} in flight for {:?}: {} calls/s (p50 {} ms, p99 {} ms)",
        options.in_flight,
        closed.elapsed,
        count(capacity),
        ms(closed.p50),
        ms(closed.p99)
    );

    let crowd = Arc::new(
        server
            .channels("province", Some("410000"), options.callers)
            .await?,
    );
    let pace = Pace {
        rate: capacity * options.factor,
        duration: options.bounds.duration,
        requests: options.bounds.requests,
        outstanding: options.outstanding,
        deadline: options.deadline,
    };
    println!(
        "overload, open loop: {:.1}× capacity = {} calls/s offered for {:?} by {} connections; each call's deadline {} ms; at most {} outstanding",
        options.factor,
        count(pace.rate),
        pace.duration,
        options.callers,
        pace.deadline.as_millis(),
        pace.outstanding
    );
    let rss_before = memory::rss();
    let sampler = memory::Sampler::start(Duration::from_millis(20));
    let tally = {
        let (crowd, payloads) = (crowd.clone(), payloads.clone());
        let deadline = options.deadline;
        open_loop::run(pace, move |i| {
            let call = verify(&crowd, &payloads, i, deadline);
            async move {
                match call.await {
                    Ok(()) => Outcome::Served,
                    Err(status) => Outcome::from_status(&status),
                }
            }
        })
        .await
    };
    let rss_peak = sampler.peak();
    drop(sampler);

    let offered = tally.offered() as f64;
    let share = |n: u64| percent(Some(n as f64), Some(offered));
    let mut table = Table::new(["outcome", "calls", "share", "p50 ms", "p99 ms"]);
    table.row([
        "served in time (PASS)".to_string(),
        count(tally.served.count() as f64),
        share(tally.served.count()),
        ms(tally.served.quantile(0.5)),
        ms(tally.served.quantile(0.99)),
    ]);
    let refused_all = tally.refused.count();
    table.row([
        "refused for load".to_string(),
        count(refused_all as f64),
        share(refused_all),
        ms(tally.refused.quantile(0.5)),
        ms(tally.refused.quantile(0.99)),
    ]);
    for (code, n) in &tally.refused_by_code {
        table.row([
            format!("  {code}"),
            count(*n as f64),
            share(*n),
            String::new(),
            String::new(),
        ]);
    }
    for (what, n) in [
        ("deadline exceeded", tally.timed_out),
        ("failed otherwise", tally.failed),
        ("not sent (generator bound)", tally.not_sent),
    ] {
        table.row([
            what.to_string(),
            count(n as f64),
            share(n),
            String::new(),
            String::new(),
        ]);
    }
    print!("{table}");
    let goodput = tally.goodput();
    println!(
        "goodput: {} calls/s = {} of capacity (target at least {})",
        count(goodput),
        ratio(Some(goodput), Some(capacity)),
        format_args!("{GOODPUT_TARGET:.2}x"),
    );
    println!(
        "refusals carrying RetryInfo: {} of {}",
        count(tally.refused_with_retry_info as f64),
        count(refused_all as f64)
    );
    println!(
        "memory (VmRSS of this one process: gateway, reference services and load generator): before {}, peak during overload {}, VmHWM {}",
        mib(rss_before),
        mib(rss_peak),
        mib(memory::high_water())
    );
    if let Some(why) = &tally.first_failure {
        println!("first other failure: {why}");
    }
    if tally.served.count() == 0 {
        anyhow::bail!("no call was served under overload");
    }
    if goodput < GOODPUT_TARGET * capacity {
        println!(
            "below target: goodput is {} of capacity",
            ratio(Some(goodput), Some(capacity))
        );
    }
    Ok(())
}

/// Green, genuine codes of Guangdong residents, signed ten minutes ago.
async fn issue_codes(server: &Server, n: usize) -> anyhow::Result<Vec<String>> {
    let stack = server.stack()?;
    let codes = Codes::load(stack.pki())?;
    let mut people = People::new(11);
    let signed_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(10);
    let mut payloads = Vec::with_capacity(n.max(1));
    for _ in 0..n.max(1) {
        let who = people.resident(RegionCode::GUANGDONG);
        payloads.push(
            codes
                .issue(
                    &stack.regions,
                    RegionCode::GUANGDONG,
                    &who,
                    Colour::Green,
                    signed_at,
                )
                .await?,
        );
    }
    Ok(payloads)
}

/// Call `i`: one VerifyCode on connection `i mod n` with `timeout` as its grpc-timeout; anything
/// but PASS is a failure (the path measured would not be the one meant).
fn verify(
    channels: &[Channel],
    payloads: &[String],
    i: u64,
    timeout: Duration,
) -> impl std::future::Future<Output = Result<(), tonic::Status>> + Send + 'static + use<> {
    let channel = channels[i as usize % channels.len()].clone();
    let payload = payloads[i as usize % payloads.len()].clone();
    async move {
        let mut request = tonic::Request::new(VerifyCodeRequest {
            payload,
            verifying_region: String::new(),
            purpose: "bench".into(),
        });
        request.set_timeout(timeout);
        let verdict = RecognitionServiceClient::new(channel)
            .verify_code(request)
            .await?
            .into_inner()
            .verification
            .map_or(Verdict::Unspecified as i32, |v| v.verdict);
        if verdict == Verdict::Pass as i32 {
            Ok(())
        } else {
            Err(tonic::Status::internal(format!(
                "verdict {} instead of PASS",
                crate::report::names::verdict(verdict)
            )))
        }
    }
}
