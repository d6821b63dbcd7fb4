//! The `ytvc-server` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    ytvc_server::cli::main()
}
