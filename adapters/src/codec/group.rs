//! Group verification: the Ed25519 signatures of concurrent single-code calls checked together.
//!
//! Like the audit's group commit, no call waits for company. A call that finds no check running
//! leads one at once, over its own signature and whatever is queued; calls that arrive while a
//! check runs queue, and when it ends the oldest of them is handed the lead and takes them all.
//! The check runs on the callers' own tasks (no thread of its own, so no cross-thread hand-off
//! beyond waking the followers, who must be woken anyway) and synchronously inside one poll, so
//! a leader cannot be dropped half way: it has either not started or delivered every answer. A
//! follower dropped while queued leaves the queue; one dropped after being handed the lead hands
//! it on. An answer of `false` only means "not passed here": the caller's read then checks the
//! signature alone, so a forged code fails with the error it always did.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::codec::batch::{self, SignedParts};

/// One node's group verifier: every single-code call of the node goes through the same one.
#[derive(Debug, Default)]
pub struct GroupVerifier {
    state: Mutex<State>,
    checks: AtomicU64,
    signatures: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    /// A leader is checking, or has been handed the lead and not yet taken it.
    checking: bool,
    next_ticket: u64,
    /// Waiting for the next check, oldest first.
    queue: Vec<Queued>,
    /// Answers (or the lead) delivered to followers who have not yet collected them.
    settled: Vec<(u64, Settled)>,
}

#[derive(Debug)]
struct Queued {
    ticket: u64,
    parts: SignedParts,
    waker: Waker,
}

#[derive(Debug)]
enum Settled {
    Passed(bool),
    /// Lead the next check; the follower's own parts come back with it.
    Lead(SignedParts),
}

/// How many checks ran and how many signatures they carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupFigures {
    pub checks: u64,
    pub signatures: u64,
}

impl GroupFigures {
    /// Signatures a check, on average (0 before the first).
    pub fn mean_group(&self) -> f64 {
        if self.checks == 0 {
            0.0
        } else {
            self.signatures as f64 / self.checks as f64
        }
    }
}

impl GroupVerifier {
    /// Did `parts`' signature pass (checked with whichever others are waiting)?
    pub fn verify(&self, parts: SignedParts) -> Check<'_> {
        Check {
            group: self,
            parts: Some(parts),
            ticket: None,
        }
    }

    pub fn figures(&self) -> GroupFigures {
        GroupFigures {
            checks: self.checks.load(Ordering::Relaxed),
            signatures: self.signatures.load(Ordering::Relaxed),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned lock still holds consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks `own` with `followers` (the queue taken under the lock, `checking` already set),
    /// answers the followers, and hands the lead to the oldest of those who queued meanwhile.
    fn lead(&self, own: SignedParts, followers: Vec<Queued>) -> bool {
        let mut all = Vec::with_capacity(followers.len() + 1);
        let mut answer = Vec::with_capacity(followers.len());
        all.push(own);
        for q in followers {
            all.push(q.parts);
            answer.push((q.ticket, q.waker));
        }
        self.checks.fetch_add(1, Ordering::Relaxed);
        self.signatures
            .fetch_add(all.len() as u64, Ordering::Relaxed);
        // A panic inside the cryptography must not leave the others waiting forever: they are
        // answered "not passed" and check alone.
        let passed = std::panic::catch_unwind(|| batch::verify_each(&all))
            .unwrap_or_else(|_| vec![false; all.len()]);
        let mut wake = Vec::with_capacity(answer.len() + 1);
        {
            let mut state = self.state();
            for ((ticket, waker), ok) in answer.into_iter().zip(passed.iter().skip(1)) {
                state.settled.push((ticket, Settled::Passed(*ok)));
                wake.push(waker);
            }
            wake.extend(state.hand_on());
        }
        for w in wake {
            w.wake();
        }
        passed.first().copied().unwrap_or(false)
    }
}

impl State {
    /// Gives the lead to the oldest queued call (its waker is returned, to wake after unlocking),
    /// or ends the checking when nobody waits.
    fn hand_on(&mut self) -> Option<Waker> {
        if self.queue.is_empty() {
            self.checking = false;
            return None;
        }
        let next = self.queue.remove(0);
        self.settled.push((next.ticket, Settled::Lead(next.parts)));
        Some(next.waker)
    }

    fn take_settled(&mut self, ticket: u64) -> Option<Settled> {
        let at = self.settled.iter().position(|(t, _)| *t == ticket)?;
        Some(self.settled.swap_remove(at).1)
    }
}

/// One call's signature on its way through the group; resolves to whether it passed.
#[derive(Debug)]
pub struct Check<'g> {
    group: &'g GroupVerifier,
    /// Ours until queued (then the queue holds them) or answered.
    parts: Option<SignedParts>,
    /// Set while queued or holding an uncollected answer.
    ticket: Option<u64>,
}

impl Future for Check<'_> {
    type Output = bool;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let this = self.get_mut();
        let group = this.group;
        let mut state = group.state();
        let own = match this.ticket {
            None => {
                let Some(parts) = this.parts.take() else {
                    // Polled again after answering: nothing left to answer.
                    return Poll::Ready(false);
                };
                if state.checking {
                    let ticket = state.next_ticket;
                    state.next_ticket += 1;
                    state.queue.push(Queued {
                        ticket,
                        parts,
                        waker: cx.waker().clone(),
                    });
                    this.ticket = Some(ticket);
                    return Poll::Pending;
                }
                state.checking = true;
                parts
            }
            Some(ticket) => match state.take_settled(ticket) {
                Some(Settled::Passed(ok)) => {
                    this.ticket = None;
                    return Poll::Ready(ok);
                }
                Some(Settled::Lead(parts)) => {
                    this.ticket = None;
                    parts
                }
                None => {
                    if let Some(q) = state.queue.iter_mut().find(|q| q.ticket == ticket) {
                        q.waker.clone_from(cx.waker());
                    }
                    return Poll::Pending;
                }
            },
        };
        let followers = std::mem::take(&mut state.queue);
        drop(state);
        Poll::Ready(group.lead(own, followers))
    }
}

impl Drop for Check<'_> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket else {
            return;
        };
        let mut state = self.group.state();
        if let Some(at) = state.queue.iter().position(|q| q.ticket == ticket) {
            state.queue.remove(at);
            return;
        }
        let next = match state.take_settled(ticket) {
            Some(Settled::Lead(_)) => state.hand_on(),
            _ => None,
        };
        drop(state);
        if let Some(w) = next {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;
    use crate::codec::IssuerSigner;
    use crate::trust::KeyAlgorithm;

    /// Counts its wake-ups.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Count {
        fn times(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn codes(n: usize) -> Vec<SignedParts> {
        let signer = IssuerSigner::generate("t", KeyAlgorithm::Ed25519).unwrap();
        crate::codec::batch::tests::signed(&signer, n)
    }

    fn forged(mut p: SignedParts) -> SignedParts {
        p.message.push(b'!');
        p
    }

    fn poll(check: &mut Check<'_>, waker: &Arc<Count>) -> Poll<bool> {
        let waker = Waker::from(waker.clone());
        Pin::new(check).poll(&mut Context::from_waker(&waker))
    }

    /// Stands in for a leader whose check is under way: whoever polls now queues.
    fn check_running(group: &GroupVerifier) {
        group.state().checking = true;
    }

    /// What a running leader does when its check ends: `followers` were queued when it began.
    fn leader_ends(group: &GroupVerifier, own: SignedParts, followers: Vec<Queued>) -> bool {
        group.lead(own, followers)
    }

    fn taken(group: &GroupVerifier) -> Vec<Queued> {
        std::mem::take(&mut group.state().queue)
    }

    #[test]
    fn a_call_alone_checks_at_once_and_leaves_nothing_running() {
        let group = GroupVerifier::default();
        let [good, bad] = <[SignedParts; 2]>::try_from(codes(2)).unwrap();
        let w = Arc::new(Count::default());
        assert_eq!(poll(&mut group.verify(good), &w), Poll::Ready(true));
        assert_eq!(poll(&mut group.verify(forged(bad)), &w), Poll::Ready(false));
        assert_eq!(
            group.figures(),
            GroupFigures {
                checks: 2,
                signatures: 2
            }
        );
        assert_eq!(group.figures().mean_group(), 1.0);
        let state = group.state();
        assert!(!state.checking && state.queue.is_empty() && state.settled.is_empty());
        assert_eq!(w.times(), 0, "nobody waited, nobody is woken");
    }

    #[test]
    fn calls_arriving_during_a_check_are_checked_together_and_a_forgery_fails_alone() {
        let group = GroupVerifier::default();
        let mut parts = codes(5);
        parts[2] = forged(parts[2].clone());
        check_running(&group);
        let wakers: Vec<_> = (0..4).map(|_| Arc::new(Count::default())).collect();
        let mut checks: Vec<_> = parts[1..].iter().map(|p| group.verify(p.clone())).collect();
        for (c, w) in checks.iter_mut().zip(&wakers) {
            assert_eq!(poll(c, w), Poll::Pending, "queued, not checked alone");
        }
        assert_eq!(group.figures().checks, 0);
        assert!(leader_ends(&group, parts[0].clone(), taken(&group)));
        assert_eq!(
            group.figures(),
            GroupFigures {
                checks: 1,
                signatures: 5
            }
        );
        assert_eq!(group.figures().mean_group(), 5.0);
        for (i, (c, w)) in checks.iter_mut().zip(&wakers).enumerate() {
            assert_eq!(w.times(), 1, "follower {i} is woken once");
            assert_eq!(poll(c, w), Poll::Ready(i != 1), "follower {i}");
        }
        assert!(!group.state().checking);
    }

    #[test]
    fn the_oldest_call_queued_during_a_check_leads_the_next_one() {
        let group = GroupVerifier::default();
        let parts = codes(4);
        check_running(&group);
        let w: Vec<_> = (0..3).map(|_| Arc::new(Count::default())).collect();
        let mut a = group.verify(parts[1].clone());
        assert!(poll(&mut a, &w[0]).is_pending());
        let followers = taken(&group);
        // b and c arrive while the check of x and a runs.
        let mut b = group.verify(parts[2].clone());
        let mut c = group.verify(parts[3].clone());
        assert!(poll(&mut b, &w[1]).is_pending());
        assert!(poll(&mut c, &w[2]).is_pending());
        assert!(leader_ends(&group, parts[0].clone(), followers));
        assert!(
            group.state().checking,
            "the lead passes on, it does not lapse"
        );
        assert_eq!(
            (w[1].times(), w[2].times()),
            (1, 0),
            "only b is told to lead"
        );
        assert_eq!(poll(&mut a, &w[0]), Poll::Ready(true));
        assert_eq!(poll(&mut c, &w[2]), Poll::Pending, "c waits for b's check");
        assert_eq!(
            poll(&mut b, &w[1]),
            Poll::Ready(true),
            "b leads and checks c"
        );
        assert_eq!(w[2].times(), 1);
        assert_eq!(poll(&mut c, &w[2]), Poll::Ready(true));
        assert_eq!(group.figures().checks, 2);
        assert!(!group.state().checking);
    }

    #[test]
    fn a_follower_polled_again_is_woken_through_its_newest_waker() {
        let group = GroupVerifier::default();
        let parts = codes(2);
        check_running(&group);
        let (old, new) = (Arc::new(Count::default()), Arc::new(Count::default()));
        let mut a = group.verify(parts[1].clone());
        assert!(poll(&mut a, &old).is_pending());
        assert!(poll(&mut a, &new).is_pending());
        leader_ends(&group, parts[0].clone(), taken(&group));
        assert_eq!((old.times(), new.times()), (0, 1));
        assert_eq!(poll(&mut a, &new), Poll::Ready(true));
    }

    #[test]
    fn a_queued_call_that_is_dropped_leaves_the_queue() {
        let group = GroupVerifier::default();
        let parts = codes(3);
        check_running(&group);
        let w = Arc::new(Count::default());
        let mut a = group.verify(parts[1].clone());
        let mut b = group.verify(parts[2].clone());
        assert!(poll(&mut a, &w).is_pending());
        assert!(poll(&mut b, &w).is_pending());
        drop(a);
        let followers = taken(&group);
        assert_eq!(followers.len(), 1, "only b is left to check");
        leader_ends(&group, parts[0].clone(), followers);
        assert_eq!(poll(&mut b, &w), Poll::Ready(true));
        assert!(!group.state().checking);
    }

    #[test]
    fn a_call_dropped_after_being_handed_the_lead_hands_it_on() {
        let group = GroupVerifier::default();
        let parts = codes(4);
        check_running(&group);
        let w: Vec<_> = (0..2).map(|_| Arc::new(Count::default())).collect();
        let mut b = group.verify(parts[1].clone());
        let mut c = group.verify(parts[2].clone());
        assert!(poll(&mut b, &w[0]).is_pending());
        assert!(poll(&mut c, &w[1]).is_pending());
        leader_ends(&group, parts[0].clone(), Vec::new());
        assert_eq!(w[0].times(), 1, "b is told to lead");
        drop(b);
        assert_eq!(w[1].times(), 1, "c is told to lead instead");
        assert_eq!(poll(&mut c, &w[1]), Poll::Ready(true));
        assert!(!group.state().checking);
        // The last one handed the lead goes away too: nothing stays running.
        check_running(&group);
        let mut d = group.verify(parts[3].clone());
        assert!(poll(&mut d, &w[0]).is_pending());
        leader_ends(&group, parts[0].clone(), Vec::new());
        drop(d);
        let state = group.state();
        assert!(!state.checking && state.settled.is_empty());
    }

    #[test]
    fn a_call_dropped_with_its_answer_uncollected_leaves_nothing_behind() {
        let group = GroupVerifier::default();
        let parts = codes(2);
        check_running(&group);
        let w = Arc::new(Count::default());
        let mut a = group.verify(parts[1].clone());
        assert!(poll(&mut a, &w).is_pending());
        leader_ends(&group, parts[0].clone(), taken(&group));
        drop(a);
        let state = group.state();
        assert!(!state.checking && state.settled.is_empty() && state.queue.is_empty());
    }

    #[test]
    fn an_answered_check_polled_again_answers_nothing() {
        let group = GroupVerifier::default();
        let w = Arc::new(Count::default());
        let mut a = group.verify(codes(1).remove(0));
        assert_eq!(poll(&mut a, &w), Poll::Ready(true));
        assert_eq!(poll(&mut a, &w), Poll::Ready(false));
        assert_eq!(group.figures().checks, 1);
    }

    #[test]
    fn no_checks_mean_no_group_size() {
        assert_eq!(GroupFigures::default().mean_group(), 0.0);
    }

    /// Real tasks on real threads: every answer arrives and is right, whatever the interleaving.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_concurrent_calls_each_get_their_own_answer() {
        let group = Arc::new(GroupVerifier::default());
        let mut parts = codes(64);
        parts[17] = forged(parts[17].clone());
        let tasks: Vec<_> = parts
            .into_iter()
            .map(|p| {
                let group = group.clone();
                tokio::spawn(async move { group.verify(p).await })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), i != 17, "call {i}");
        }
        assert_eq!(group.figures().signatures, 64);
        assert!(!group.state().checking);
    }
}
