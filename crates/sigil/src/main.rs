//! The `sigil` binary: a shim over `sigil::cli`.

/// mimalloc instead of glibc malloc: per-thread arenas of glibc kept the memory of a large
/// configuration load resident, and small allocations dominate the request path.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    sigil::cli::main()
}
