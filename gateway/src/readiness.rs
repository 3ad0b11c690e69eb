//! Why the node must not take calls right now, beyond starting and draining: `/readyz` and the
//! health service follow it, so a balancer stops sending calls a node could only refuse.
//!
//! Each condition is a watched reason, `None` while all is well: the audit writer (a failed
//! write stops it, and every decision fails closed until it resumes) and the registry's expiry
//! (nothing passes under an expired registry until a newer one is published).

use std::pin::Pin;

use futures::future::select_all;
use tokio::sync::watch;

/// The conditions a node is ready under. Empty (always ready) by default; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
struct Condition {
    what: &'static str,
    why_not: watch::Receiver<Option<String>>,
}

impl Readiness {
    /// Adds a condition: the node is not ready while `why_not` holds a reason.
    pub fn with(mut self, what: &'static str, why_not: watch::Receiver<Option<String>>) -> Self {
        self.conditions.push(Condition { what, why_not });
        self
    }

    /// Every reason the node is not ready now, or `None` when it is.
    pub fn blocked(&self) -> Option<String> {
        let reasons: Vec<String> = self
            .conditions
            .iter()
            .filter_map(|c| Some(format!("{}: {}", c.what, c.why_not.borrow().as_ref()?)))
            .collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    /// Resolves once any condition changes. A condition whose source is gone is dropped (its
    /// last reason no longer changes); with none left this never resolves.
    pub async fn changed(&mut self) {
        loop {
            if self.conditions.is_empty() {
                return std::future::pending().await;
            }
            let waits = self.conditions.iter_mut().map(|c| {
                Box::pin(c.why_not.changed())
                    as Pin<Box<dyn Future<Output = Result<(), watch::error::RecvError>> + Send>>
            });
            let (changed, index, _) = select_all(waits).await;
            if changed.is_ok() {
                return;
            }
            self.conditions.remove(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reason_makes_the_node_unready_until_it_clears() {
        let (tx, rx) = watch::channel(None);
        let mut readiness = Readiness::default().with("audit log", rx);
        assert_eq!(readiness.blocked(), None);
        tx.send_replace(Some("disk full".into()));
        readiness.changed().await;
        assert_eq!(readiness.blocked().as_deref(), Some("audit log: disk full"));
        tx.send_replace(None);
        readiness.changed().await;
        assert_eq!(readiness.blocked(), None);
    }
}
