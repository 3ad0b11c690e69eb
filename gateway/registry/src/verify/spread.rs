//! Independent checks run across the cores: each thread takes the next unchecked item until none
//! are left, and the answers come back in the items' order, so the first error is the one a
//! one-by-one check would name.
//!
//! Taking items one at a time (rather than a fixed share each) matters on a shared machine: a
//! thread that loses its core for a while leaves its items to the others instead of holding the
//! whole check back.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Fewer items than this per extra thread are checked on the calling thread: starting a thread
/// costs about as much as a handful of certificate checks.
pub(super) const PER_THREAD: usize = 8;

thread_local! {
    /// Set on every thread taking part in a spread: a check that spreads again inside one runs
    /// on its own thread, since the cores are already taken.
    static SPREADING: Cell<bool> = const { Cell::new(false) };
}

/// The cores this process may use; asked once, because on Linux the answer comes from reading
/// cgroup and proc files.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// How many items each thread takes at least: no more threads than cores, and none for fewer
/// than [`PER_THREAD`] items.
pub(super) fn share(items: usize, cores: usize) -> usize {
    let threads = cores.min(items / PER_THREAD).max(1);
    items.div_ceil(threads).max(1)
}

/// Whether [`spread`] would use more than the calling thread for `items` items.
pub(super) fn would_spread(items: usize) -> bool {
    !SPREADING.get() && items.div_ceil(share(items, cores())) > 1
}

/// `check` of every item, in order, on up to as many threads as there are cores.
pub(super) fn spread<T: Sync, R: Send>(items: &[T], check: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if !would_spread(items.len()) {
        return items.iter().map(check).collect();
    }
    let threads = items.len().div_ceil(share(items.len(), cores()));
    let next = AtomicUsize::new(0);
    // Each answer carries its item's index, to be put back in order whichever thread took it.
    let take = || {
        let _spreading = Spreading::enter();
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            done.push((i, check(item)));
        }
        done
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads).map(|_| scope.spawn(take)).collect();
        let mut all = take();
        for other in others {
            // A panic in a check is the same panic it would have been on this thread.
            all.extend(
                other
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            );
        }
        all.sort_unstable_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, r)| r).collect()
    })
}

/// Marks this thread as taking part in a spread until dropped, a panic included.
struct Spreading(bool);

impl Spreading {
    fn enter() -> Self {
        Self(SPREADING.replace(true))
    }
}

impl Drop for Spreading {
    fn drop(&mut self) {
        SPREADING.set(self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_are_shared_out_by_core_and_never_too_few_per_thread() {
        assert_eq!(share(0, 2), 1);
        assert_eq!(share(7, 2), 7, "fewer than eight: one thread");
        assert_eq!(share(16, 2), 8);
        assert_eq!(share(40, 2), 20);
        assert_eq!(share(50, 4), 13);
        assert_eq!(share(20, 4), 10, "two threads of ten, not four of five");
        assert_eq!(share(1500, 1), 1500);
    }

    #[test]
    fn answers_come_back_in_item_order_whichever_thread_took_them() {
        let items: Vec<u32> = (0..200).collect();
        // Each check takes a while, as a certificate check does, so that the other threads start
        // before the calling thread has taken every item.
        let answers = spread(&items, |n| {
            std::thread::sleep(std::time::Duration::from_micros(200));
            (n * 3, std::thread::current().id())
        });
        let values: Vec<u32> = answers.iter().map(|(v, _)| *v).collect();
        assert_eq!(values, items.iter().map(|n| n * 3).collect::<Vec<_>>());
        let threads: std::collections::HashSet<_> = answers.iter().map(|(_, t)| *t).collect();
        if cores() > 1 {
            assert!(
                threads.len() > 1,
                "two hundred items use more than one core"
            );
        } else {
            assert_eq!(threads.len(), 1);
        }
        assert!(spread(&Vec::<u32>::new(), |n| *n).is_empty());
    }

    #[test]
    fn a_spread_inside_a_spread_stays_on_the_thread_that_took_the_item() {
        let outer: Vec<u32> = (0..32).collect();
        let inner: Vec<u32> = (0..64).collect();
        let answers = spread(&outer, |_| {
            let here = std::thread::current().id();
            spread(&inner, |_| std::thread::current().id())
                .into_iter()
                .all(|t| t == here)
        });
        assert!(answers.into_iter().all(|same| same));
        assert!(
            !SPREADING.get(),
            "the calling thread is free to spread again"
        );
        assert_eq!(would_spread(64), cores() > 1);
        assert!(
            !would_spread(PER_THREAD - 1),
            "too few items for a second thread"
        );
        assert_eq!(
            cores(),
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            "as many threads as the process may use cores"
        );
    }
}
