//! A node that has fallen behind refuses new calls at once, with RESOURCE_EXHAUSTED and a
//! `RetryInfo`, instead of queueing them until their deadlines: over real sockets, with a
//! gateway whose only thread is held by a call (what CPU saturation looks like to the calls
//! queued behind it).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use huren::connect::ClientTls;
use huren::policy::Policy;
use huren::{GatewayBuilder, Role};
use huren_tests::{Pki, TestGateway, reason};
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::{Code, Request, Response, Status};
use tonic_prost::ProstCodec;

const PATH: &str = "/huren.test.Stall/Call";

/// A test-only method that holds its thread for the requested milliseconds (no await), and
/// counts the calls whose work it did.
#[derive(Debug, Clone, Default)]
struct Stall {
    ran: Arc<AtomicUsize>,
}

impl NamedService for Stall {
    const NAME: &'static str = "huren.test.Stall";
}

impl tower::Service<http::Request<Body>> for Stall {
    type Response = http::Response<Body>;
    type Error = std::convert::Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let ran = self.ran.clone();
        Box::pin(async move {
            let handler = tower::service_fn(move |request: Request<u32>| {
                let ran = ran.clone();
                async move {
                    ran.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(u64::from(*request.get_ref())));
                    Ok::<_, Status>(Response::new(String::from("done")))
                }
            });
            let mut grpc = tonic::server::Grpc::new(ProstCodec::<String, u32>::default());
            Ok(grpc.unary(handler, request).await)
        })
    }
}

/// A gateway on this test's single thread, so a stalled call stalls the whole node.
async fn stalled_node(max_queue_ms: u64, stall: Stall) -> TestGateway {
    TestGateway::start_with_config(
        Pki::new(),
        |c| c.limits.max_queue_ms = max_queue_ms,
        move |b: GatewayBuilder| {
            b.add_service(stall)
                .policy(Policy::default().allow(PATH, &Role::ALL))
        },
    )
    .await
}

/// Every call's deadline: far longer than anything here, so no answer is a timeout.
const DEADLINE: Duration = Duration::from_secs(30);

/// One call: hold the node's thread for `millis`.
async fn call(channel: tonic::transport::Channel, millis: u32) -> Result<String, Status> {
    let mut request = Request::new(millis);
    request.set_timeout(DEADLINE);
    huren_tests::probe::call_method(channel, PATH, request).await
}

/// From a client thread of its own (the node's thread will be held): one call holding the
/// node for `first_ms`, then, while it holds, calls holding it for each of `later_ms`, sent
/// `gap` apart.
/// Every answer, in the order the calls were sent, and how long the whole took.
async fn crowd(
    gw: &TestGateway,
    first_ms: u32,
    later_ms: Vec<u32>,
    gap: Duration,
) -> (Vec<Result<String, Status>>, Duration) {
    let (addr, tls): (_, ClientTls) = (gw.addr(), gw.pki.client("checkpoint", None));
    let client = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        runtime.block_on(async move {
            let channel = huren::connect::connect(addr, &tls).await.expect("connects");
            let started = Instant::now();
            let mut calls = vec![tokio::spawn(call(channel.clone(), first_ms))];
            for millis in later_ms {
                tokio::time::sleep(gap).await;
                calls.push(tokio::spawn(call(channel.clone(), millis)));
            }
            let mut answers = Vec::new();
            for c in calls {
                answers.push(c.await.expect("the call task ends"));
            }
            (answers, started.elapsed())
        })
    });
    // Keep this thread's runtime (the node's) turning while the client thread waits.
    loop {
        if client.is_finished() {
            return client.join().expect("the client thread ends");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn calls_that_waited_past_the_budget_are_refused_at_once_with_a_backoff() {
    let stall = Stall::default();
    let ran = stall.ran.clone();
    let gw = stalled_node(100, stall).await;
    // The first call holds the node for 1 s; four more arrive meanwhile.
    let (answers, took) = crowd(&gw, 1_000, vec![300; 4], Duration::from_millis(50)).await;
    assert!(answers[0].is_ok(), "{:?}", answers[0]);
    let refused: Vec<&Status> = answers[1..]
        .iter()
        .filter_map(|a| a.as_ref().err())
        .collect();
    // After the first call the four start one after another; while the node is more than
    // 100 ms behind (the first call's hold, or the next one's), they are refused.
    assert!(!refused.is_empty(), "nothing refused: {answers:?}");
    for status in &refused {
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert_eq!(reason(status).as_deref(), Some("OVERLOADED"));
        assert!(status.message().contains("behind"), "{}", status.message());
        let retry = tonic_types::StatusExt::get_error_details(*status)
            .retry_info()
            .and_then(|r| r.retry_delay);
        // The delay depends on how far over its limit the node is, within the bounds.
        let retry = retry.expect("a RetryInfo delay");
        assert!(
            (huren::limits::MIN_RETRY..=huren::limits::MAX_RETRY).contains(&retry),
            "{retry:?}"
        );
    }
    // Refused, not queued to their deadlines; and their work was never done.
    assert!(took < DEADLINE / 2, "took {took:?}");
    assert_eq!(ran.load(Ordering::SeqCst), answers.len() - refused.len());
}
