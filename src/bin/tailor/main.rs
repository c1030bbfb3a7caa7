//! The `tailor` command: `tailor validate rules.json` checks rules documents (every
//! problem with its line and column); `tailor compile rules.json` validates a document exactly
//! as `validateRules` does and writes its compiled form (see the README,
//! "Compiling rules").

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
mod cli;

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn main() -> std::process::ExitCode {
    // Under WASI (the npm package's `bin`) the process starts at `/`: relative paths are
    // the user's working directory's, which the launcher passes as PWD.
    #[cfg(target_os = "wasi")]
    if let Ok(pwd) = std::env::var("PWD") {
        let _ = std::env::set_current_dir(pwd);
    }
    cli::main()
}

/// The command line runs natively and under WASI (the npm package's `bin`), never in the
/// browser; `cargo test --target wasm32-unknown-unknown` builds
/// every binary of the package, so this one builds there too, as nothing.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
fn main() {}
