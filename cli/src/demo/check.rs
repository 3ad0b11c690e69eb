//! The demo checks its own results: every expectation is printed as it is judged, and the
//! process exits non-zero if any failed.

use std::time::{Duration, Instant};

/// Expectations judged so far.
#[derive(Debug, Default)]
pub struct Checks {
    passed: usize,
    failed: Vec<String>,
    /// Scenarios this gateway cannot run yet (a method answered UNIMPLEMENTED).
    skipped: Vec<String>,
    /// Role → an example of what it was shown about a person, for the closing table.
    seen: std::collections::BTreeMap<&'static str, String>,
}

impl Checks {
    /// Prints `[ok] what` or `[FAIL] what: detail` and remembers the outcome.
    pub fn expect(&mut self, what: impl AsRef<str>, ok: bool, detail: impl AsRef<str>) {
        let what = what.as_ref();
        if ok {
            self.passed += 1;
            println!("  [ok]   {what}");
        } else {
            let line = format!("{what}: {}", detail.as_ref());
            println!("  [FAIL] {line}");
            self.failed.push(line);
        }
    }

    /// Expects `got == want`, printing both when they differ.
    pub fn equal<T: PartialEq + std::fmt::Debug>(
        &mut self,
        what: impl AsRef<str>,
        got: T,
        want: T,
    ) {
        let detail = format!("got {got:?}, expected {want:?}");
        self.expect(what, got == want, detail);
    }

    /// A scenario that could not run at all counts as one failed expectation, unless the
    /// gateway says the capability is not built (UNIMPLEMENTED): then it is reported as not run,
    /// and nothing is claimed about it.
    pub fn scenario_failed(&mut self, scenario: &str, error: &anyhow::Error) {
        let unimplemented = error.chain().any(|cause| {
            cause
                .downcast_ref::<crate::report::status::CallError>()
                .is_some_and(|e| e.0.code() == tonic::Code::Unimplemented)
        });
        if unimplemented {
            let line = format!("scenario {scenario} NOT RUN: {error:#}");
            println!("  [skip] {line}");
            self.skipped.push(line);
            return;
        }
        let line = format!("scenario {scenario} did not complete: {error:#}");
        println!("  [FAIL] {line}");
        self.failed.push(line);
    }

    /// A check whose capability lands on another branch: printed as `[pending]` with what is
    /// missing, neither passed nor failed, and listed at the end.
    pub fn pending(&mut self, what: impl AsRef<str>, why: impl AsRef<str>) {
        let line = format!("{}: {}", what.as_ref(), why.as_ref());
        println!("  [pending] {line}");
        self.skipped.push(line);
    }

    /// Remembers an example of what `role` was shown (the first one wins).
    pub fn saw(&mut self, role: &'static str, example: impl Into<String>) {
        self.seen.entry(role).or_insert_with(|| example.into());
    }

    /// What `role` was shown, if a scenario recorded it.
    pub fn seen(&self, role: &str) -> Option<&str> {
        self.seen.get(role).map(String::as_str)
    }

    /// The demo's exit: an error listing every failed check, if any failed.
    pub fn outcome(&self) -> anyhow::Result<()> {
        if self.failed.is_empty() {
            return Ok(());
        }
        anyhow::bail!(
            "{} of {} checks failed:\n  {}",
            self.failed.len(),
            self.passed + self.failed.len(),
            self.failed.join("\n  ")
        )
    }

    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    pub fn passed(&self) -> usize {
        self.passed
    }

    pub fn failed(&self) -> &[String] {
        &self.failed
    }
}

/// Measures a step.
pub struct Timer(Instant);

impl Timer {
    pub fn start() -> Self {
        Self(Instant::now())
    }

    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    /// `1.23 s` or `456 ms`.
    pub fn show(&self) -> String {
        show(self.elapsed())
    }
}

pub fn show(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Deadline the demo gives its bulk calls (a 1,000-passenger manifest checked online, 500
/// workers looked up at Henan's service): the gateway's default of 2 s is for one scan.
pub const BULK_DEADLINE: Duration = Duration::from_secs(30);

/// `message` as a request with [`BULK_DEADLINE`].
pub fn bulk<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(BULK_DEADLINE);
    request
}

/// Whether `text` contains any of `ids` (resident ID numbers): a linear scan for 18-character
/// runs of 17 digits and a digit or X, each looked up in the set.
pub fn shows_an_id(text: &str, ids: &std::collections::HashSet<String>) -> bool {
    let b = text.as_bytes();
    let mut run = 0;
    for (i, c) in b.iter().enumerate() {
        if c.is_ascii_digit() || *c == b'X' {
            run += 1;
            if run >= 18 && ids.contains(&text[i + 1 - 18..=i]) {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_found_anywhere_in_a_text() {
        let ids: std::collections::HashSet<String> = ["11010519491231002X".to_string()].into();
        assert!(shows_an_id("subject 11010519491231002X here", &ids));
        assert!(shows_an_id("x911010519491231002X", &ids));
        assert!(!shows_an_id("11**************2X 110105194912310021", &ids));
    }
}
