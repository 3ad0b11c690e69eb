//! The `huren` command line: see `huren --help`.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    huren_cli::cli::main()
}
