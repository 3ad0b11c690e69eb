//! The `huren` command line (see `huren --help`): a thin shell over [`huren_cli`], whose
//! [`cli`](huren_cli::cli) module maps each subcommand to the library's parts; the modules are
//! listed in `cli/src/lib.rs`.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    huren_cli::cli::main()
}
