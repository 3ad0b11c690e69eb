//! Status lists at scale: criterion timings of a lookup, of opening a 1 M-code list and of
//! applying a 0.1 % delta; then (under `cargo bench`) the size-and-time table for 1, 10 and 30
//! million codes.
//!
//! `cargo bench -p huren-adapters --bench status_lists`; `... -- table` prints only the table;
//! `HUREN_STATUS_LIST_SIZES=1,10` picks the sizes, in millions of codes.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use huren_adapters::status_list::bench::{StatusListFigures, measure};

fn benches(c: &mut Criterion) {
    if table_only() {
        return;
    }
    let mut g = c.benchmark_group("status_lists");
    g.bench_function("measure_1m_codes", |b| {
        b.iter(|| black_box(measure(1_000_000).map(|f| f.list_bytes)))
    });
    g.finish();
}

fn table_only() -> bool {
    std::env::args().any(|a| a == "table")
}

fn sizes() -> Vec<u32> {
    std::env::var("HUREN_STATUS_LIST_SIZES")
        .ok()
        .map(|s| {
            s.split(',')
                .filter_map(|m| m.trim().parse::<u32>().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![1, 10, 30])
        .into_iter()
        .map(|m| m.saturating_mul(1_000_000))
        .collect()
}

fn table() {
    println!("\nstatus lists: 1 % withdrawn, 0.2 % suspended, delta after 0.1 % of codes change");
    for codes in sizes() {
        match measure(codes) {
            Ok(f) => print_row(&f),
            Err(e) => println!("{codes} codes: {e}"),
        }
    }
}

fn print_row(f: &StatusListFigures) {
    println!("{f}");
}

criterion_group! {
    name = group;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    targets = benches
}

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` runs each benchmark once as a smoke test; the table is for `cargo bench`.
    if std::env::args().any(|a| a == "--bench") {
        table();
    }
}
