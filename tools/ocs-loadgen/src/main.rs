//! `ocs-loadgen`: see `cli` for the command line and the crate docs for what it does.

fn main() -> std::process::ExitCode {
    ocs_loadgen::cli::main()
}
