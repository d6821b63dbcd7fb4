//! The real `ytvc-server` command line, built with the tests so they can
//! start separate processes of it (`worker`): see `ytvc_e2e::WorkerProcess`.

fn main() -> std::process::ExitCode {
    ytvc_server::cli::main()
}
