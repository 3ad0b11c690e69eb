//! Heap allocations so far in this process, when the binary was built with feature
//! `alloc-count` (which installs the counting allocator in `main.rs`); `None` otherwise, so a
//! normal build pays nothing and prints no column it cannot fill.

/// Allocations (including reallocations) since the process started; `None` without the
/// counting allocator.
pub fn so_far() -> Option<u64> {
    counted()
}

#[cfg(feature = "alloc-count")]
fn counted() -> Option<u64> {
    let stats = stats_alloc::INSTRUMENTED_SYSTEM.stats();
    Some((stats.allocations + stats.reallocations) as u64)
}

#[cfg(not(feature = "alloc-count"))]
fn counted() -> Option<u64> {
    None
}
