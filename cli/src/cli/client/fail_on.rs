//! `--fail-on deny|review|reject`: a script's way to make the command exit non-zero when any
//! answer is of a kind it must act on (the answers are printed first, as always).

use huren_proto::v1::{Boarding, PassengerDecision, Verdict, Verification, WorkerConfirmation};

/// A kind of answer a script may fail on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Anyone not let through: a quarantine verdict or REJECT, a passenger not boarding, a
    /// worker not confirmed.
    Deny,
    /// A verdict or a boarding of REVIEW, or an entry the gateway could not judge.
    Review,
    /// A REJECT verdict: a forged, revoked, expired or malformed code.
    Reject,
}

/// The kinds one answer is of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Kinds {
    deny: bool,
    review: bool,
    reject: bool,
}

impl Kinds {
    pub fn of_verification(v: &Verification) -> Self {
        let verdict = Verdict::try_from(v.verdict).unwrap_or(Verdict::Unspecified);
        Self {
            deny: matches!(
                verdict,
                Verdict::HomeQuarantine | Verdict::CentralQuarantine | Verdict::Reject
            ),
            review: verdict == Verdict::Review,
            reject: verdict == Verdict::Reject,
        }
    }

    pub fn of_decision(d: &PassengerDecision) -> Self {
        let verdict = d.verification.as_ref().map(Self::of_verification);
        Self {
            deny: d.boarding == Boarding::Deny as i32,
            review: d.boarding == Boarding::Review as i32 || d.error.is_some(),
            reject: verdict.is_some_and(|k| k.reject),
        }
    }

    pub fn of_confirmation(c: &WorkerConfirmation) -> Self {
        let verdict = c.verification.as_ref().map(Self::of_verification);
        let passed = c
            .verification
            .as_ref()
            .is_some_and(|v| v.verdict == Verdict::Pass as i32);
        Self {
            deny: !passed,
            review: c.error.is_some() || verdict.is_some_and(|k| k.review),
            reject: verdict.is_some_and(|k| k.reject),
        }
    }

    fn is(self, kind: FailOn) -> bool {
        match kind {
            FailOn::Deny => self.deny,
            FailOn::Review => self.review,
            FailOn::Reject => self.reject,
        }
    }
}

/// Fails, naming how many answers matched, when any answer is of a kind in `fail_on`.
pub fn check(fail_on: &[FailOn], answers: impl IntoIterator<Item = Kinds>) -> anyhow::Result<()> {
    if fail_on.is_empty() {
        return Ok(());
    }
    let (mut total, mut matched) = (0usize, 0usize);
    for kinds in answers {
        total += 1;
        if fail_on.iter().any(|k| kinds.is(*k)) {
            matched += 1;
        }
    }
    if matched > 0 {
        let names: Vec<&str> = fail_on
            .iter()
            .map(|k| match k {
                FailOn::Deny => "deny",
                FailOn::Review => "review",
                FailOn::Reject => "reject",
            })
            .collect();
        anyhow::bail!(
            "--fail-on {}: {matched} of {total} answers matched",
            names.join(",")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verification(verdict: Verdict) -> Verification {
        Verification {
            verdict: verdict as i32,
            ..Default::default()
        }
    }

    #[test]
    fn fails_only_on_the_kinds_asked() {
        let answers = [Verdict::Pass, Verdict::Review, Verdict::Reject]
            .map(|v| Kinds::of_verification(&verification(v)));
        assert!(check(&[], answers).is_ok());
        assert!(check(&[FailOn::Reject], answers).is_err());
        let pass = [Kinds::of_verification(&verification(Verdict::Pass))];
        assert!(check(&[FailOn::Deny, FailOn::Review, FailOn::Reject], pass).is_ok());
        let review = [Kinds::of_verification(&verification(Verdict::Review))];
        assert!(check(&[FailOn::Deny, FailOn::Reject], review).is_ok());
        let e = check(&[FailOn::Review], answers).unwrap_err().to_string();
        assert_eq!(e, "--fail-on review: 1 of 3 answers matched");
    }
}
