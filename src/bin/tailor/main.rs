//! The `tailor` command: `tailor validate rules.json` checks rules documents (every
//! problem with its line and column); `tailor compile rules.json` validates a document exactly
//! as `validateRules` does and writes its compiled form (see the README,
//! "Compiling rules").

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

/// The command line is native only; `cargo test --target wasm32-unknown-unknown` builds
/// every binary of the package, so this one builds there too, as nothing.
#[cfg(target_arch = "wasm32")]
fn main() {}
