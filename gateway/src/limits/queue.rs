//! Admission by how far behind the node is ([`Lag`](super::lag::Lag)): while calls wait longer
//! than the node's budget for a CPU, a new call is refused at once with a backoff, and a call
//! whose caller's deadline is shorter than that wait is not started: its answer could only come
//! too late. A refusal here costs microseconds, so the node's CPU goes to calls that can still
//! finish in time (CoDel's rule: shed by time spent queued, not by queue length).

use std::time::Duration;

use crate::error::Error;

/// What admission decides for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admit,
    /// The caller's deadline passes before the call could start.
    TooLate,
    /// The node is further behind than its budget.
    Behind,
}

/// Whether a call, with the client's deadline `asked`, may start while the node lags by `lag`;
/// the decision alone, with nothing to allocate, for the refusal path.
pub fn check(lag: Duration, asked: Option<Duration>, budget: Duration) -> Admission {
    match asked {
        // The caller is gone by the time its call would start: work done now is thrown away.
        Some(asked) if lag >= asked => Admission::TooLate,
        _ if lag > budget => Admission::Behind,
        _ => Admission::Admit,
    }
}

/// [`check`] with an error per refusal, as the tests read it. The node itself answers a call
/// shed for lag with a ready-made refusal ([`Refusals`](super::refusal::Refusals)) that says
/// the same, and a call too late with [`too_late`].
#[cfg(test)]
pub fn admit(lag: Duration, asked: Option<Duration>, budget: Duration) -> Result<(), Error> {
    match check(lag, asked, budget) {
        Admission::Admit => Ok(()),
        Admission::TooLate => Err(too_late(lag, asked.unwrap_or_default())),
        Admission::Behind => Err(Error::Overloaded(format!(
            "this node is {} ms behind, past its budget of {} ms for calls waiting to start; retry with backoff",
            lag.as_millis(),
            budget.as_millis()
        ))),
    }
}

/// The answer to a call whose caller's deadline `asked` passes before it could start.
pub fn too_late(lag: Duration, asked: Duration) -> Error {
    Error::DeadlineExceeded(format!(
        "this node is {} ms behind, so the client's deadline of {asked:?} passes before the call could start",
        lag.as_millis()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Duration = Duration::from_millis(100);
    const SECOND: Option<Duration> = Some(Duration::from_secs(1));

    #[test]
    fn a_node_within_its_budget_admits() {
        assert!(admit(Duration::ZERO, SECOND, BUDGET).is_ok());
        assert!(admit(Duration::from_millis(100), SECOND, BUDGET).is_ok());
        assert!(admit(Duration::from_millis(100), None, BUDGET).is_ok());
    }

    #[test]
    fn a_node_past_its_budget_sheds_with_a_backoff() {
        let refused = admit(Duration::from_millis(150), SECOND, BUDGET).expect_err("shed");
        assert!(matches!(refused, Error::Overloaded(_)), "{refused:?}");
        let status = tonic::Status::from(refused);
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(
            status.message().contains("budget of 100 ms"),
            "{}",
            status.message()
        );
        // Without a client deadline the budget still applies.
        let refused = admit(Duration::from_millis(150), None, BUDGET);
        assert!(matches!(refused, Err(Error::Overloaded(_))), "{refused:?}");
    }

    #[test]
    fn a_call_that_could_only_start_after_its_deadline_is_not_started() {
        let short = Some(Duration::from_millis(50));
        let refused = admit(Duration::from_millis(60), short, BUDGET).expect_err("too late");
        assert!(matches!(refused, Error::DeadlineExceeded(_)), "{refused:?}");
        assert_eq!(
            check(Duration::from_millis(50), short, BUDGET),
            Admission::TooLate
        );
        // Past the budget with a deadline still ahead: shed, not too late.
        assert_eq!(
            check(Duration::from_millis(150), SECOND, BUDGET),
            Admission::Behind
        );
        assert_eq!(
            check(Duration::from_millis(100), SECOND, BUDGET),
            Admission::Admit
        );
    }
}
