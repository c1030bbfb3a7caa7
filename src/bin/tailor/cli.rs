//! The `tailor` command's implementation (native builds only).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tailor::compile::{bundle, compile_document};
use tailor::host::NativeHost;

const USAGE: &str =
    "usage: tailor compile <rules.json> [-o <out.json>] [--bundle <tailor.min.js>] [--quiet]

  Validates the rules exactly as validateRules() does, then writes the compiled
  rules (default: <rules>.compiled.json beside the input; -o - for standard output).
  Serve that file with data-rules=\"/path/rules.compiled.json\", inline it in a
  <script type=\"application/json\">, or bundle it: --bundle <tailor.min.js> also
  writes <out>.bundle.js beside the compiled file, the SDK and the rules in one
  script (one request; it fetches tailor_bg.wasm from beside itself, or from its
  data-wasm attribute).
  Experiences the first decision cannot evaluate are listed; they wait for the
  full engine at run time.";

/// Runs the command with the process arguments.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(if message.starts_with("usage") { 2 } else { 1 })
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (Some(cmd), rest) = (args.first(), args.get(1..).unwrap_or(&[])) else {
        return Err(USAGE.into());
    };
    if cmd == "--help" || cmd == "-h" || cmd == "help" {
        println!("{USAGE}");
        return Ok(());
    }
    if cmd != "compile" {
        return Err(format!("tailor: unknown command \"{cmd}\"\n{USAGE}"));
    }
    let mut input = None;
    let mut out = None;
    let mut sdk = None;
    let mut quiet = false;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-o" | "--out" => {
                out = Some(
                    it.next()
                        .ok_or_else(|| format!("tailor compile: {a} needs a file name\n{USAGE}"))?
                        .clone(),
                )
            }
            "--bundle" => {
                sdk = Some(
                    it.next()
                        .ok_or_else(|| {
                            format!(
                                "tailor compile: --bundle needs the path of tailor.min.js\n{USAGE}"
                            )
                        })?
                        .clone(),
                )
            }
            "--quiet" | "-q" => quiet = true,
            s if s.starts_with('-') && s != "-" => {
                return Err(format!("tailor compile: unknown option {s}\n{USAGE}"))
            }
            s if input.is_none() => input = Some(s.to_string()),
            s => {
                return Err(format!(
                    "tailor compile: one rules file at a time (also got \"{s}\")\n{USAGE}"
                ))
            }
        }
    }
    let Some(input) = input else {
        return Err(USAGE.into());
    };
    let text = std::fs::read_to_string(&input)
        .map_err(|e| format!("tailor compile: cannot read {input}: {e}"))?;
    let (json, compiled) = compile_document(&text, &NativeHost).map_err(|problems| {
        let mut m = format!("tailor compile: {input} is not a valid rules document ({} problem{}); nothing was written:", problems.len(), if problems.len() == 1 { "" } else { "s" });
        for p in &problems {
            m.push_str(&format!("\n  {}: expected {}, found {}", p.path, p.expected, p.found));
        }
        m
    })?;
    let stem = Path::new(&input).with_extension("");
    let stem = stem.to_string_lossy();
    let stem = stem.strip_suffix(".compiled").unwrap_or(&stem).to_string();
    let target = out.unwrap_or_else(|| format!("{stem}.compiled.json"));
    if target == "-" {
        println!("{json}");
    } else {
        std::fs::write(&target, &json)
            .map_err(|e| format!("tailor compile: cannot write {target}: {e}"))?;
    }
    let mut said = Vec::new();
    if target != "-" {
        said.push(format!(
            "wrote {target} ({} bytes; compiled code {} bytes)",
            json.len(),
            compiled.code.len()
        ));
    }
    if let Some(sdk) = sdk {
        let script = std::fs::read_to_string(&sdk)
            .map_err(|e| format!("tailor compile: cannot read {sdk}: {e}"))?;
        let joined = bundle(&script, &json).ok_or_else(|| format!("tailor compile: {sdk} is not Tailor's script-tag build (tailor.min.js), or is already bundled"))?;
        // Beside the compiled file (or the rules, when it went to standard output).
        let base = match target.as_str() {
            "-" => stem.clone(),
            t => {
                let t = t.strip_suffix(".json").unwrap_or(t);
                t.strip_suffix(".compiled").unwrap_or(t).to_string()
            }
        };
        let path = PathBuf::from(format!("{base}.bundle.js"));
        std::fs::write(&path, joined)
            .map_err(|e| format!("tailor compile: cannot write {}: {e}", path.display()))?;
        said.push(format!("wrote {} (the SDK with these rules: serve it instead of tailor.min.js, without data-rules)", path.display()));
    }
    let total = compiled.slots.len();
    if compiled.deferred.is_empty() {
        said.push(format!(
            "every experience of the {total} slot{} can be decided at first paint",
            if total == 1 { "" } else { "s" }
        ));
    } else {
        let n = compiled.deferred.len();
        said.push(format!(
            "{n} {} for the full engine (a slot that reaches one is decided after it loads):",
            if n == 1 {
                "experience waits"
            } else {
                "experiences wait"
            }
        ));
        for (e, why) in &compiled.deferred {
            said.push(format!("  \"{e}\": {why}"));
        }
    }
    if !quiet {
        for line in said {
            eprintln!("{line}");
        }
    }
    Ok(())
}
