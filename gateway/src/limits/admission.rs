//! A node-wide limit on calls in progress, decided for each call **as it arrives**, on its
//! connection's task ([`crate::connections`]), before the call has a task of its own: past the
//! limit a call may wait a few milliseconds for a permit ([`wait`](super::wait); none by
//! default), then is refused with the [`refusal`](super::refusal) answer (a longer queue would
//! only turn overload into timeouts). Before it asks for a permit, a call must pass the
//! [`queue`](super::queue) admission: the node not too far behind, the caller's deadline not
//! shorter than the wait. A refused caller is told to come back after a delay that grows with
//! how far over its limit the node is ([`backoff`](super::backoff)).
//!
//! Deciding at arrival is what makes the limit a limit: a call that waits in the runtime's queue
//! for its first poll already holds its permit, so a burst is refused while it arrives, not after
//! the node has queued it behind the calls it is already running.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::body::Body;

use super::backoff::Pressure;
use super::lag::Lag;
use super::queue::{self, Admission as Queue};
use super::refusal::{Refusals, Why};
use super::wait::{self, Waiters};

/// Health stays answerable under load, or a busy node would look dead to its balancer.
const UNLIMITED: &str = "/grpc.health.v1.Health/";

/// One pool of permits for the whole node, shared by every connection.
#[derive(Debug)]
pub struct Admission {
    permits: Arc<Semaphore>,
    waiters: Waiters,
    /// How long a call that finds every permit taken may wait for one.
    wait: Duration,
    max_queue: Duration,
    lag: Lag,
    pressure: Arc<Pressure>,
    refusals: Refusals,
}

/// What admission decided for one call as it arrived.
#[derive(Debug)]
pub enum Arrival {
    /// A health call: never limited, holds no permit.
    Exempt,
    /// A permit: the call runs, and gives it back when its answer starts.
    Admitted(Ticket),
    /// Every permit is taken, but the call may wait this long for one ([`Admission::wait`]).
    Wait(Duration),
    /// Refused now, for this reason.
    Refused(Verdict),
}

/// Why a call was refused without being run; [`Admission::answer`] turns it into the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// RESOURCE_EXHAUSTED / OVERLOADED, with a `RetryInfo` of `delay`.
    Overloaded { why: Why, delay: Duration },
    /// DEADLINE_EXCEEDED: the caller's deadline `asked` passes before the call, `lag` behind,
    /// could start.
    TooLate { lag: Duration, asked: Duration },
}

/// A call's permit, held until its answer starts (as tower's limit holds it).
#[derive(Debug)]
pub struct Ticket {
    _permit: OwnedSemaphorePermit,
    pressure: Arc<Pressure>,
}

impl Ticket {
    /// The call's answer has started: the permit goes back, and the call counts as served for
    /// the backoff's estimate. A call dropped before that (its caller cancelled) gives its
    /// permit back without counting.
    pub fn served(self) {
        self.pressure.served();
    }
}

impl Admission {
    /// `limit` calls in progress at once; while the node lags more than `max_queue` behind, new
    /// calls are refused without being run. Starts the lag probe on the current runtime. A call
    /// that finds every permit taken is refused at once unless [`admission_wait`] says otherwise.
    ///
    /// [`admission_wait`]: Admission::admission_wait
    pub fn new(limit: usize, max_queue: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            // As many may wait as may run: a waiting call holds its request head and a timer,
            // far less than a running one. Calls waiting are about the arrival rate times the
            // wait (a few dozen at a few milliseconds), so the cap matters when the wait is long.
            waiters: Waiters::new(limit),
            wait: Duration::ZERO,
            max_queue,
            lag: Lag::start(),
            pressure: Arc::default(),
            refusals: Refusals::new(limit, max_queue),
        }
    }

    /// A call that finds every permit taken waits up to `wait` for one (less when its deadline
    /// is near) before it is refused.
    pub fn admission_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// The decision for a call to `path` whose caller asked for `asked` (its `grpc-timeout`),
    /// made without waiting: for the connection's task, which must not stall.
    pub fn arrive(&self, path: &str, asked: Option<Duration>) -> Arrival {
        if path.starts_with(UNLIMITED) {
            return Arrival::Exempt;
        }
        let lag = self.lag.now();
        match queue::check(lag, asked, self.max_queue) {
            Queue::Admit => {}
            Queue::Behind => return self.refuse(Why::Behind, lag),
            Queue::TooLate => {
                return Arrival::Refused(Verdict::TooLate {
                    lag,
                    asked: asked.unwrap_or_default(),
                });
            }
        }
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Arrival::Admitted(self.ticket(permit));
        }
        match wait::patience(self.wait, asked, lag) {
            patience if patience.is_zero() => self.refuse(Why::AtLimit, lag),
            patience => Arrival::Wait(patience),
        }
    }

    /// For a call told to [`Arrival::Wait`]: a permit within `patience`, if a place among the
    /// waiters is free, or the refusal.
    pub async fn wait(&self, patience: Duration) -> Result<Ticket, Verdict> {
        let permit = match self.waiters.seat() {
            // tokio's semaphore serves waiters in order, so a call that waited longer is let in
            // first, and a permit that is freed goes to a waiter before any newcomer's
            // `try_acquire`.
            Some(_seat) => tokio::time::timeout(patience, self.permits.clone().acquire_owned())
                .await
                .ok()
                .and_then(Result::ok),
            None => None,
        };
        match permit {
            Some(permit) => Ok(self.ticket(permit)),
            None => Err(self.verdict(Why::AtLimit, self.lag.now())),
        }
    }

    /// The answer to a refused call: a ready-made one for load, a status for a late call.
    pub fn answer(&self, verdict: Verdict) -> http::Response<Body> {
        match verdict {
            Verdict::Overloaded { why, delay } => self.refusals.answer(why, delay),
            Verdict::TooLate { lag, asked } => {
                tonic::Status::from(queue::too_late(lag, asked)).into_http()
            }
        }
    }

    fn ticket(&self, permit: OwnedSemaphorePermit) -> Ticket {
        Ticket {
            _permit: permit,
            pressure: self.pressure.clone(),
        }
    }

    fn refuse(&self, why: Why, lag: Duration) -> Arrival {
        Arrival::Refused(self.verdict(why, lag))
    }

    fn verdict(&self, why: Why, lag: Duration) -> Verdict {
        Verdict::Overloaded {
            why,
            delay: self.pressure.refused(lag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALL: &str = "/huren.v1.RecognitionService/VerifyCode";
    const HEALTH: &str = "/grpc.health.v1.Health/Check";
    const SECOND: Option<Duration> = Some(Duration::from_secs(1));

    fn code_of(response: &http::Response<Body>) -> tonic::Code {
        tonic::Status::from_header_map(response.headers())
            .expect("a gRPC status")
            .code()
    }

    #[tokio::test]
    async fn calls_past_the_limit_are_refused_as_they_arrive_and_a_permit_comes_back() {
        let admission = Admission::new(2, Duration::from_millis(250));
        let Arrival::Admitted(first) = admission.arrive(CALL, SECOND) else {
            panic!("the first call is admitted");
        };
        let Arrival::Admitted(second) = admission.arrive(CALL, None) else {
            panic!("the second call is admitted");
        };
        let Arrival::Refused(verdict) = admission.arrive(CALL, SECOND) else {
            panic!("the third is refused");
        };
        match verdict {
            Verdict::Overloaded { why, delay } => {
                assert_eq!(why, Why::AtLimit);
                assert!((crate::limits::MIN_RETRY..=crate::limits::MAX_RETRY).contains(&delay));
            }
            other => panic!("refused for load, not {other:?}"),
        }
        let answer = admission.answer(verdict);
        assert_eq!(code_of(&answer), tonic::Code::ResourceExhausted);
        // Health is never limited, even now.
        assert!(matches!(admission.arrive(HEALTH, SECOND), Arrival::Exempt));
        // A call that ends gives its permit back, served or not.
        first.served();
        assert!(matches!(
            admission.arrive(CALL, SECOND),
            Arrival::Admitted(_)
        ));
        drop(second);
        assert!(matches!(
            admission.arrive(CALL, SECOND),
            Arrival::Admitted(_)
        ));
    }

    #[tokio::test]
    async fn calls_served_shorten_the_delay_a_refused_caller_is_told() {
        let delay_after = |served: usize| {
            let admission = Admission::new(1, Duration::from_millis(250));
            for _ in 0..served {
                let Arrival::Admitted(ticket) = admission.arrive(CALL, None) else {
                    panic!("admitted while nothing is in progress");
                };
                ticket.served();
            }
            let _busy = admission.arrive(CALL, None);
            match admission.arrive(CALL, None) {
                Arrival::Refused(Verdict::Overloaded { delay, .. }) => delay,
                other => panic!("refused for load, not {other:?}"),
            }
        };
        // One call refused against a thousand served lately: the node catches up at once, so
        // the caller is told the shortest delay (with its jitter).
        assert!(
            delay_after(1_000) <= Duration::from_millis(30),
            "{:?}",
            delay_after(1_000)
        );
        // Nothing served lately: the node knows of no rate to catch up at, so it says longer.
        assert!(
            delay_after(0) >= Duration::from_millis(100),
            "{:?}",
            delay_after(0)
        );
    }

    #[tokio::test]
    async fn a_call_that_may_wait_gets_the_next_free_permit_or_the_refusal() {
        let admission = Arc::new(
            Admission::new(1, Duration::from_millis(250))
                .admission_wait(Duration::from_millis(200)),
        );
        let Arrival::Admitted(busy) = admission.arrive(CALL, SECOND) else {
            panic!("admitted");
        };
        // Without a deadline it may wait the whole wait; with one, half of what is left.
        let Arrival::Wait(patience) = admission.arrive(CALL, None) else {
            panic!("told to wait");
        };
        assert_eq!(patience, Duration::from_millis(200));
        let Arrival::Wait(short) = admission.arrive(CALL, Some(Duration::from_millis(100))) else {
            panic!("told to wait");
        };
        assert_eq!(short, Duration::from_millis(50));

        // Nothing is freed: refused once the wait is over.
        let refused = admission.wait(Duration::from_millis(20)).await;
        assert!(
            matches!(
                refused,
                Err(Verdict::Overloaded {
                    why: Why::AtLimit,
                    ..
                })
            ),
            "{refused:?}"
        );
        // The permit is freed while the call waits: it gets it.
        let waiting = tokio::spawn({
            let admission = admission.clone();
            async move { admission.wait(Duration::from_secs(30)).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        busy.served();
        let ticket = waiting.await.expect("joined").expect("the freed permit");
        assert!(matches!(admission.arrive(CALL, None), Arrival::Wait(_)));
        drop(ticket);
        assert!(matches!(admission.arrive(CALL, None), Arrival::Admitted(_)));
    }

    #[test]
    fn a_late_call_is_told_its_deadline_passed() {
        let admission = Admission::new(1, Duration::from_millis(250));
        let answer = admission.answer(Verdict::TooLate {
            lag: Duration::from_millis(300),
            asked: Duration::from_millis(100),
        });
        let status = tonic::Status::from_header_map(answer.headers()).expect("a status");
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
        assert!(
            status.message().contains("300 ms behind"),
            "{}",
            status.message()
        );
    }
}
