//! `ocs-server`: see `ocs-server --help`.

fn main() -> std::process::ExitCode {
    ocs_server::cli::main()
}
