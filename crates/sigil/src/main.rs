//! The `sigil` binary: a shim over `sigil::cli`.

fn main() -> std::process::ExitCode {
    sigil::cli::main()
}
