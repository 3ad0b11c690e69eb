//! The `huren` command line (see `huren --help`): a thin shell over [`huren_cli`], whose
//! [`cli`](huren_cli::cli) module maps each subcommand to the library's parts; the modules are
//! listed in `cli/src/lib.rs`.

#![forbid(unsafe_code)]

/// With feature `alloc-count`, every heap allocation is counted, so `huren bench verify` can say
/// how many a code costs ([`huren_cli::bench::allocs`]).
#[cfg(feature = "alloc-count")]
#[global_allocator]
static COUNTED: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

fn main() -> std::process::ExitCode {
    huren_cli::cli::main()
}
