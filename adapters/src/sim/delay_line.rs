//! Holds the latency fault's answers until their deadline, to a fraction of a millisecond and
//! never earlier: one thread sleeps to the earliest deadline and releases every answer then due.
//!
//! tokio's timer rounds every sleep up to its next millisecond tick, and its driver looks at the
//! wheel only between tasks, so under load a 20 ms fault held lookups 22 ms on average: the
//! service said it added 20 ms and added more, and no client could reach the bound drawn from
//! the nominal figure.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::oneshot;

/// An answer waiting for its deadline; ordered by deadline, then by arrival.
struct Waiting {
    at: Instant,
    seq: u64,
    release: oneshot::Sender<()>,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    /// Earliest deadline on top.
    waiting: BinaryHeap<Reverse<Waiting>>,
    next_seq: u64,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when an earlier deadline arrives or the line closes.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Nothing panics while holding it; if something did, the queue is still well formed.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The line's thread: releases what is due, then sleeps to the next deadline.
    fn run(&self) {
        let mut queue = self.lock();
        // Runs until the line closes; every pass releases something or sleeps.
        loop {
            if queue.closed {
                return;
            }
            let now = Instant::now();
            let due = take_due(&mut queue.waiting, now);
            if !due.is_empty() {
                drop(queue);
                for release in due {
                    let _ = release.send(());
                }
                queue = self.lock();
                continue;
            }
            queue = match queue.waiting.peek() {
                Some(Reverse(next)) => {
                    let wait = next.at.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(queue, wait)
                        .map(|(q, _)| q)
                        .unwrap_or_else(|p| p.into_inner().0)
                }
                None => self.changed.wait(queue).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }
}

/// Takes every waiting answer whose deadline is `now` or earlier, earliest first; the later
/// ones stay.
fn take_due(waiting: &mut BinaryHeap<Reverse<Waiting>>, now: Instant) -> Vec<oneshot::Sender<()>> {
    let mut due = Vec::new();
    while waiting.peek().is_some_and(|Reverse(w)| w.at <= now) {
        if let Some(Reverse(w)) = waiting.pop() {
            due.push(w.release);
        }
    }
    due
}

/// The service's precise clock for its latency fault. Dropping it stops its thread; answers
/// still waiting then fall back to tokio's timer, which is late but never early.
pub struct DelayLine {
    shared: Arc<Shared>,
}

impl DelayLine {
    pub fn start() -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let line = shared.clone();
        std::thread::Builder::new()
            .name("sim-latency".into())
            .spawn(move || line.run())?;
        Ok(Self { shared })
    }

    /// Returns at `at` or later, never earlier.
    pub async fn until(&self, at: Instant) {
        if Instant::now() >= at {
            return;
        }
        let (release, released) = oneshot::channel();
        let queued = {
            let mut queue = self.shared.lock();
            if queue.closed {
                false
            } else {
                let seq = queue.next_seq;
                queue.next_seq += 1;
                let earliest = queue.waiting.peek().is_none_or(|Reverse(w)| at < w.at);
                queue.waiting.push(Reverse(Waiting { at, seq, release }));
                if earliest {
                    self.shared.changed.notify_one();
                }
                true
            }
        };
        if queued && released.await.is_ok() && Instant::now() >= at {
            return;
        }
        // The line closed under this answer: tokio's timer still never fires early.
        tokio::time::sleep_until(at.into()).await;
    }
}

impl DelayLine {
    /// Stops the thread; answers still waiting fall back to tokio's timer.
    fn close(&self) {
        let mut queue = self.shared.lock();
        queue.closed = true;
        queue.waiting.clear();
        self.shared.changed.notify_all();
    }
}

impl Drop for DelayLine {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn waiting(at: Instant, seq: u64) -> (Reverse<Waiting>, oneshot::Receiver<()>) {
        let (release, released) = oneshot::channel();
        (Reverse(Waiting { at, seq, release }), released)
    }

    #[test]
    fn only_answers_whose_deadline_has_come_are_due() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        let mut heap = BinaryHeap::new();
        let mut receivers = Vec::new();
        for (i, at) in [now + ms(5), now - ms(1), now, now + ms(1)]
            .into_iter()
            .enumerate()
        {
            let (w, r) = waiting(at, i as u64);
            heap.push(w);
            receivers.push(r);
        }
        let due = take_due(&mut heap, now);
        assert_eq!(due.len(), 2, "the one past and the one exactly now");
        let left: Vec<Instant> = heap.iter().map(|Reverse(w)| w.at).collect();
        assert!(left.iter().all(|at| *at > now), "{left:?}");
        assert_eq!(left.len(), 2);
        // Released earliest first: the one a millisecond ago, then the one at `now`.
        for release in due {
            release.send(()).unwrap();
        }
        assert!(receivers[1].try_recv().is_ok() && receivers[2].try_recv().is_ok());
        assert!(receivers[0].try_recv().is_err() && receivers[3].try_recv().is_err());
    }

    #[test]
    fn nothing_is_due_before_its_deadline() {
        let now = Instant::now();
        let mut heap = BinaryHeap::new();
        let (w, _r) = waiting(now + Duration::from_nanos(1), 0);
        heap.push(w);
        assert!(take_due(&mut heap, now).is_empty());
        assert_eq!(heap.len(), 1);
    }

    #[test]
    fn equal_deadlines_keep_their_arrival_order() {
        let now = Instant::now();
        let (a, _ra) = waiting(now, 0);
        let (b, _rb) = waiting(now, 1);
        assert!(a.0 < b.0 && a.0 != b.0);
        let (c, _rc) = waiting(now, 0);
        assert!(a.0 == c.0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_hold_lasts_at_least_its_latency_and_not_much_more() {
        let line = Arc::new(DelayLine::start().unwrap());
        let mut holds = Vec::new();
        for i in 0..200u64 {
            let line = line.clone();
            holds.push(tokio::spawn(async move {
                let latency = Duration::from_micros(2_000 + (i * 137) % 9_000);
                let arrived = Instant::now();
                line.until(arrived + latency).await;
                (latency, arrived.elapsed())
            }));
        }
        // The same holds on tokio's timer, for the comparison printed below.
        let mut tokio_holds = Vec::new();
        for i in 0..200u64 {
            tokio_holds.push(tokio::spawn(async move {
                let latency = Duration::from_micros(2_000 + (i * 137) % 9_000);
                let arrived = Instant::now();
                tokio::time::sleep_until((arrived + latency).into()).await;
                arrived.elapsed() - latency
            }));
        }
        let mut over = Vec::new();
        for hold in holds {
            let (latency, held) = hold.await.unwrap();
            assert!(
                held >= latency,
                "held {held:?} for a latency of {latency:?}"
            );
            over.push(held - latency);
        }
        over.sort_unstable();
        let mut tokio_over = Vec::new();
        for hold in tokio_holds {
            tokio_over.push(hold.await.unwrap());
        }
        tokio_over.sort_unstable();
        println!(
            "held beyond the latency, median: {:?} on the delay line, {:?} on tokio's timer",
            over[over.len() / 2],
            tokio_over[tokio_over.len() / 2]
        );
        // Generous for a shared machine: tokio's timer alone rounds up to a whole millisecond.
        assert!(over[over.len() / 2] < Duration::from_millis(5), "{over:?}");
    }

    #[tokio::test]
    async fn a_line_closed_under_a_hold_still_holds_until_the_deadline() {
        let line = DelayLine::start().unwrap();
        let latency = Duration::from_millis(30);
        let arrived = Instant::now();
        let close = async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            line.close();
        };
        tokio::join!(line.until(arrived + latency), close);
        assert!(arrived.elapsed() >= latency);
        // And one that arrives after it closed.
        let arrived = Instant::now();
        line.until(arrived + latency).await;
        assert!(arrived.elapsed() >= latency);
    }
}
