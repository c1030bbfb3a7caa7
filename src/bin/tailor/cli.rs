//! The `tailor` command's implementation (native builds only).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tailor::compile::{bundle, compile, compile_document};
use tailor::host::NativeHost;
use tailor::json::{self, Map, Value};
use tailor::rules::document::{did_you_mean, parse_rules_with, Problem, Rules};
use tailor::rules::time::{format_date_time, parse_date};
use tailor::simulate::{parse_journey, replay, report_value, Journey, StepReport};

const USAGE: &str = "usage: tailor <command> [options]

commands:
  validate <rules.json>...   check rules documents; every problem with its line and column
  simulate <rules.json> --journey <journey.json>
                             replay a visitor's journey: what each slot shows at each step, and why
  diff <old.json> <new.json> --journeys <dir>
                             which decisions a rules change alters on recorded journeys
  compile <rules.json>       validate, then write the compiled rules for the first decision
  help [command]             this text, or a command's
  --version                  the version

`tailor <command> --help` prints a command's options. Exit codes: 0 success, 1 a
document has problems (or cannot be read or written), 2 a mistaken command line.";

const COMPILE_USAGE: &str =
    "usage: tailor compile <rules.json> [-o <out.json>] [--bundle <tailor.min.js>] [--quiet]

  Validates the rules exactly as validateRules() does, then writes the compiled
  rules (default: <rules>.compiled.json beside the input; -o - for standard output;
  `-` as the rules file reads standard input and writes standard output).
  Serve that file with data-rules=\"/path/rules.compiled.json\", inline it in a
  <script type=\"application/json\">, or bundle it: --bundle <tailor.min.js> also
  writes <out>.bundle.js beside the compiled file, the SDK and the rules in one
  script (one request for the first decision; after it, it loads tailor.full.js and
  tailor_bg.wasm from beside itself, or from its data-full and data-wasm attributes).
  Experiences the first decision cannot evaluate are listed; they wait for the
  full engine at run time.";

const SIMULATE_USAGE: &str = "usage: tailor simulate <rules.json> --journey <journey.json> [--at <time>] [--format text|json]

  Replays a visitor's journey offline and prints, step by step, what each slot
  would show and why, in the words of tailor.explain(). A journey is JSON:

    { \"visitor\": \"v-42\", \"start\": \"2026-03-02T09:00:00Z\", \"utcOffset\": \"+01:00\",
      \"device\": { \"userAgent\": \"…\", \"language\": \"fr-FR\", \"viewportWidth\": 390 },
      \"steps\": [
        { \"url\": \"https://shop.example/?utm_campaign=spring\", \"referrer\": \"https://www.google.com/\" },
        { \"after\": \"2m\", \"consent\": { \"personalization\": true, \"measurement\": false } },
        { \"after\": \"1m\", \"url\": \"https://shop.example/shoes/trail\",
          \"events\": [ { \"name\": \"view_item\", \"props\": { \"category\": \"shoes\" } } ] } ] }

  Each step may view a page (url, referrer, device), make a consent choice
  (applied before the page decides) and track events (recorded after it shows,
  where the rules declare them). \"at\" is a time with an offset; \"after\" a
  duration from the previous step. As in the browser: nothing is recorded without
  personalization consent, each page view then has its own allocation identity,
  and refusing or withdrawing it drops everything recorded; each variant shown
  counts as an impression (the visitor is taken to have interacted).

  --at <time>      when the journey starts (default: its \"start\", else now)
  --format json    every step as JSON: time, url, consent, decisions with their
                   summary and explanation, notes";

const DIFF_USAGE: &str = "usage: tailor diff <old.json> <new.json> --journeys <dir> [--at <time>]

  Replays every journey in <dir> (*.json, as tailor simulate reads them) under
  both rules documents and lists each decision the change alters (another
  experience or variant, or the same variant with other content): journey, step,
  slot, before and after. Exit codes, as Unix diff: 0 nothing changed, 1 a
  decision changed (so a CI job can ask for review), 2 trouble (a document or a
  journey that cannot be read).";

const VALIDATE_USAGE: &str = "usage: tailor validate <rules.json>... [--format text|json|github]

  Checks each rules document (or compiled rules file) exactly as validateRules()
  does and reports every problem at once: where it is (file:line:column and the
  JSON path), what was expected there, what was found, and a \"did you mean\" for
  a misspelt name. `-` reads standard input. Exit code 1 when any document has a
  problem, 0 when all are valid.

  --format text     one line per problem, file:line:column first (the default)
  --format json     one JSON object: {\"valid\", \"files\": [{\"file\", \"valid\",
                    \"problems\": [{\"path\", \"line\", \"column\", \"expected\",
                    \"found\", \"hint\"}]}]}
  --format github   GitHub Actions annotations (::error file=…,line=…,col=…::…),
                    so a CI job marks each problem on the pull request's diff";

/// Prints a line on standard output; a reader that stopped early (`| head`) ends the
/// command quietly, as for any Unix tool, instead of a panic.
macro_rules! say {
    ($($arg:tt)*) => { emit(&format!($($arg)*)) };
}

fn emit(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").is_err() {
        std::process::exit(0);
    }
}

/// Runs the command with the process arguments.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(if message.starts_with("usage") || message.contains("\nusage") { 2 } else { 1 })
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let (Some(cmd), rest) = (args.first(), args.get(1..).unwrap_or(&[])) else {
        return Err(USAGE.into());
    };
    let help_for = |c: &str| match c {
        "compile" => Some(COMPILE_USAGE),
        "validate" => Some(VALIDATE_USAGE),
        "simulate" => Some(SIMULATE_USAGE),
        "diff" => Some(DIFF_USAGE),
        _ => None,
    };
    match cmd.as_str() {
        "--version" | "-V" | "version" => {
            say!("tailor {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        "--help" | "-h" | "help" => {
            let text = match rest.first().map(String::as_str) {
                None | Some("help") => USAGE,
                Some(c) => help_for(c).ok_or_else(|| format!("tailor help: unknown command \"{c}\"{}\n{USAGE}", did_you_mean(c, &["validate", "simulate", "diff", "compile"])))?,
            };
            say!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        c if rest.iter().any(|a| a == "--help" || a == "-h") && help_for(c).is_some() => {
            say!("{}", help_for(c).unwrap_or(USAGE));
            Ok(ExitCode::SUCCESS)
        }
        "compile" => compile_command(rest).map(|()| ExitCode::SUCCESS),
        "validate" => validate_command(rest),
        "simulate" => simulate_command(rest),
        // As Unix diff: 0 nothing changed, 1 decisions changed, 2 trouble.
        "diff" => diff_command(rest).or_else(|message| {
            eprintln!("{message}");
            Ok(ExitCode::from(2))
        }),
        c => Err(format!("tailor: unknown command \"{c}\"{}\n{USAGE}", did_you_mean(c, &["validate", "simulate", "diff", "compile", "help"]))),
    }
}

/// One problem of a document, located in its text.
struct Located {
    path: String,
    /// 1-based line and column; none when the path cannot be found in the text.
    at: Option<json::Position>,
    expected: String,
    found: String,
    /// The name a misspelt one most likely meant.
    hint: Option<String>,
}

/// Every problem of the rules document `text`, located.
fn problems_of(text: &str) -> Vec<Located> {
    if let Err(e) = json::parse(text) {
        return vec![Located {
            path: "$".into(),
            at: Some(json::Position { line: e.line, column: e.column }),
            expected: "a JSON document".into(),
            found: format!("invalid JSON ({})", e.message),
            hint: None,
        }];
    }
    let mut problems = match parse_rules_with(text, &NativeHost) {
        Err(problems) => problems,
        Ok(rules) => {
            let mut found = Vec::new();
            // A compiled file whose code is not its rules' (edited, or compiled by
            // another version): the first decision and the full engine would disagree.
            if let Ok(doc) = json::parse(text) {
                if doc.get("tailor").and_then(Value::as_str) == Some("compiled-rules") {
                    let code = tailor::compile::base64(&compile(&rules, &NativeHost).code);
                    if doc.get("code").and_then(Value::as_str) != Some(code.as_str()) {
                        found.push(Problem { path: "$.code".into(), expected: "the compiled form of this file's rules (run `tailor compile` again on the rules)".into(), found: "code compiled from other rules".into() });
                    }
                }
            }
            found
        }
    };
    // JSON keeps the last of repeated keys, silently: in a rules document it is a mistake.
    if let Some(path) = tailor::consent::duplicate_key(text) {
        let key = path.rsplit(['.', '[']).next().unwrap_or_default().trim_end_matches(']').to_string();
        problems.push(Problem { path, expected: "each key once in an object (JSON keeps only the last one)".into(), found: format!("the key {key} a second time") });
    }
    problems
        .into_iter()
        .map(|p| {
            // A compiled file's problems are about its "rules".
            let at = json::locate(text, &p.path).or_else(|| json::locate(text, &format!("$.rules{}", &p.path[1..])));
            let (expected, hint) = match p.expected.split_once(" (did you mean \"") {
                Some((e, h)) => (e.to_string(), h.strip_suffix("\"?)").map(str::to_string)),
                None => (p.expected, None),
            };
            Located { path: p.path, at, expected, found: p.found, hint }
        })
        .collect()
}

fn read_input(file: &str) -> Result<String, String> {
    if file == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(text);
    }
    std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))
}

/// GitHub's workflow-command escaping: `%`, CR and LF in a message; also `:` and `,`
/// in a property.
fn gh_escape(s: &str, property: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

fn validate_command(args: &[String]) -> Result<ExitCode, String> {
    let mut files = Vec::new();
    let mut format = "text".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--format" | "-f" => {
                format = it.next().ok_or_else(|| format!("tailor validate: {a} needs text, json or github\n{VALIDATE_USAGE}"))?.clone();
            }
            s if s.starts_with("--format=") => format = s["--format=".len()..].to_string(),
            s if s.starts_with('-') && s != "-" => {
                return Err(format!("tailor validate: unknown option {s}{}\n{VALIDATE_USAGE}", did_you_mean(s, &["--format"])));
            }
            s => files.push(s.to_string()),
        }
    }
    if !matches!(format.as_str(), "text" | "json" | "github") {
        return Err(format!("tailor validate: --format must be text, json or github, not \"{format}\"\n{VALIDATE_USAGE}"));
    }
    if files.is_empty() {
        return Err(format!("tailor validate: which rules file? (none given)\n{VALIDATE_USAGE}"));
    }
    let mut all_valid = true;
    let mut reports = Vec::new();
    for file in &files {
        let name = if file == "-" { "<stdin>" } else { file.as_str() };
        let (problems, summary) = match read_input(file) {
            Err(why) => (vec![Located { path: String::new(), at: None, expected: String::new(), found: why, hint: None }], None),
            Ok(text) => {
                let problems = problems_of(&text);
                let summary = if problems.is_empty() {
                    parse_rules_with(&text, &NativeHost).ok().map(|rules| {
                        let compiled = compile(&rules, &NativeHost);
                        let (e, s) = (rules.experiences.len(), compiled.slots.len());
                        let mut line = format!(
                            "{name}: valid ({e} experience{} over {s} slot{})",
                            if e == 1 { "" } else { "s" },
                            if s == 1 { "" } else { "s" }
                        );
                        if !compiled.deferred.is_empty() {
                            line.push_str(&format!("; {} wait for the full engine at first paint (`tailor compile` says why)", compiled.deferred.len()));
                        }
                        line
                    })
                } else {
                    None
                };
                (problems, summary)
            }
        };
        all_valid &= problems.is_empty();
        match format.as_str() {
            "json" => {
                let list = problems
                    .iter()
                    .map(|p| {
                        let mut m = Map::new();
                        let or_null = |s: &str| if s.is_empty() { Value::Null } else { s.to_string().into() };
                        m.insert("path", or_null(&p.path));
                        m.insert("line", p.at.map_or(Value::Null, |a| (a.line as f64).into()));
                        m.insert("column", p.at.map_or(Value::Null, |a| (a.column as f64).into()));
                        m.insert("expected", or_null(&p.expected));
                        m.insert("found", p.found.clone().into());
                        m.insert("hint", p.hint.clone().map_or(Value::Null, Value::String));
                        Value::Object(m)
                    })
                    .collect();
                let mut m = Map::new();
                m.insert("file", name.to_string().into());
                m.insert("valid", Value::Bool(problems.is_empty()));
                m.insert("problems", Value::Array(list));
                reports.push(Value::Object(m));
            }
            "github" => {
                for p in &problems {
                    let mut props = format!("file={}", gh_escape(name, true));
                    if let Some(a) = p.at {
                        props.push_str(&format!(",line={},col={}", a.line, a.column));
                    }
                    props.push_str(&format!(",title={}", gh_escape(&format!("Tailor rules: {}", p.path), true)));
                    say!("::error {props}::{}", gh_escape(&message(p), false));
                }
                say!("{}", summary.clone().unwrap_or_else(|| counted_problems(name, problems.len())));
            }
            _ => {
                for p in &problems {
                    let at = p.at.map_or(String::new(), |a| format!("{}:{}:", a.line, a.column));
                    say!("{name}:{at} {}", message(p));
                }
                say!("{}", summary.clone().unwrap_or_else(|| counted_problems(name, problems.len())));
            }
        }
    }
    if format == "json" {
        let mut m = Map::new();
        m.insert("valid", Value::Bool(all_valid));
        m.insert("files", Value::Array(reports));
        say!("{}", Value::Object(m).to_json(&NativeHost));
    }
    Ok(if all_valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn message(p: &Located) -> String {
    if p.path.is_empty() {
        return p.found.clone(); // the file could not be read
    }
    let hint = p.hint.as_ref().map_or(String::new(), |h| format!(" (did you mean \"{h}\"?)"));
    format!("{}: expected {}, found {}{hint}", p.path, p.expected, p.found)
}

fn counted_problems(name: &str, n: usize) -> String {
    format!("{name}: {n} problem{}", if n == 1 { "" } else { "s" })
}

fn compile_command(rest: &[String]) -> Result<(), String> {
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
                        .ok_or_else(|| format!("tailor compile: {a} needs a file name\n{COMPILE_USAGE}"))?
                        .clone(),
                )
            }
            "--bundle" => {
                sdk = Some(
                    it.next()
                        .ok_or_else(|| {
                            format!(
                                "tailor compile: --bundle needs the path of tailor.min.js\n{COMPILE_USAGE}"
                            )
                        })?
                        .clone(),
                )
            }
            "--quiet" | "-q" => quiet = true,
            s if s.starts_with('-') && s != "-" => {
                return Err(format!("tailor compile: unknown option {s}\n{COMPILE_USAGE}"))
            }
            s if input.is_none() => input = Some(s.to_string()),
            s => {
                return Err(format!(
                    "tailor compile: one rules file at a time (also got \"{s}\")\n{COMPILE_USAGE}"
                ))
            }
        }
    }
    let Some(input) = input else {
        return Err(format!("tailor compile: which rules file? (none given)\n{COMPILE_USAGE}"));
    };
    if out.as_deref().is_some_and(|o| o != "-" && Path::new(o) == Path::new(&input)) {
        return Err(format!("tailor compile: -o {input} would overwrite the rules themselves; write the compiled rules to another file"));
    }
    let text = read_input(&input).map_err(|e| format!("tailor compile: {e}"))?;
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
    // From standard input, to standard output unless -o says otherwise.
    let target = out.unwrap_or_else(|| if input == "-" { "-".into() } else { format!("{stem}.compiled.json") });
    if target == "-" {
        say!("{json}");
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

/// Reads and validates a rules document for simulate and diff.
fn load_rules(command: &str, file: &str) -> Result<Rules, String> {
    let text = read_input(file).map_err(|e| format!("tailor {command}: {e}"))?;
    parse_rules_with(&text, &NativeHost).map_err(|problems| {
        let mut m = format!("tailor {command}: {file} is not a valid rules document (`tailor validate {file}` says where):");
        for p in problems {
            m.push_str(&format!("\n  {}: expected {}, found {}", p.path, p.expected, p.found));
        }
        m
    })
}

fn load_journey(command: &str, file: &str) -> Result<Journey, String> {
    let text = read_input(file).map_err(|e| format!("tailor {command}: {e}"))?;
    parse_journey(&text).map_err(|problems: Vec<Problem>| {
        let mut m = format!("tailor {command}: {file} is not a valid journey:");
        for p in problems {
            let at = json::locate(&text, &p.path).map_or(String::new(), |a| format!("{}:{}: ", a.line, a.column));
            m.push_str(&format!("\n  {at}{}: expected {}, found {}", p.path, p.expected, p.found));
        }
        m
    })
}

fn clock(command: &str, at: Option<&String>) -> Result<f64, String> {
    match at {
        None => Ok(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_millis() as f64)),
        Some(t) => parse_date(t).ok_or_else(|| format!("tailor {command}: --at needs a date or a date-time with an offset, such as 2026-03-02T09:00:00Z (got \"{t}\")")),
    }
}

/// `flag value` options and positional arguments, for simulate and diff.
fn options(command: &str, args: &[String], known: &[&str], usage: &str) -> Result<(Vec<String>, std::collections::HashMap<String, String>), String> {
    let mut positional = Vec::new();
    let mut named = std::collections::HashMap::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some((k, v)) = a.split_once('=').filter(|(k, _)| known.contains(k)) {
            named.insert(k.to_string(), v.to_string());
        } else if known.contains(&a.as_str()) {
            let v = it.next().ok_or_else(|| format!("tailor {command}: {a} needs a value\n{usage}"))?;
            named.insert(a.clone(), v.clone());
        } else if a.starts_with("--") {
            return Err(format!("tailor {command}: unknown option {a}{}\n{usage}", did_you_mean(a, known)));
        } else {
            positional.push(a.clone());
        }
    }
    Ok((positional, named))
}

fn decision_line(d: &tailor::decide::Decision) -> String {
    d.summary.clone()
}

fn simulate_command(args: &[String]) -> Result<ExitCode, String> {
    let (files, named) = options("simulate", args, &["--journey", "--at", "--format"], SIMULATE_USAGE)?;
    let [rules_file] = files.as_slice() else {
        return Err(format!("tailor simulate: one rules file, then --journey <journey.json>\n{SIMULATE_USAGE}"));
    };
    let journey_file = named.get("--journey").ok_or_else(|| format!("tailor simulate: which journey? (--journey <journey.json>)\n{SIMULATE_USAGE}"))?;
    let format = named.get("--format").map_or("text", String::as_str);
    if !matches!(format, "text" | "json") {
        return Err(format!("tailor simulate: --format must be text or json, not \"{format}\"\n{SIMULATE_USAGE}"));
    }
    let rules = load_rules("simulate", rules_file)?;
    let mut journey = load_journey("simulate", journey_file)?;
    if named.contains_key("--at") {
        journey.start = None;
    }
    let start = clock("simulate", named.get("--at"))?;
    let reports = replay(&rules, &journey, start, &NativeHost);
    if format == "json" {
        say!("{}", Value::Array(reports.iter().map(report_value).collect()).to_json(&NativeHost));
        return Ok(ExitCode::SUCCESS);
    }
    for r in &reports {
        print_step(r);
    }
    Ok(ExitCode::SUCCESS)
}

fn consent_words(r: &StepReport) -> String {
    let state = |b: bool| if b { "granted" } else { "not granted" };
    format!("personalization {}, measurement {}", state(r.personalization), state(r.measurement))
}

fn print_step(r: &StepReport) {
    let page = r.url.as_deref().unwrap_or("(no page view)");
    say!("step {} · {} · {} · {}", r.index, format_date_time(r.time), page, consent_words(r));
    for d in &r.decisions {
        say!("  {}", decision_line(d));
    }
    for n in &r.notes {
        say!("  note: {n}");
    }
}

fn diff_command(args: &[String]) -> Result<ExitCode, String> {
    let (files, named) = options("diff", args, &["--journeys", "--at"], DIFF_USAGE)?;
    let [old_file, new_file] = files.as_slice() else {
        return Err(format!("tailor diff: two rules files (old, then new), then --journeys <dir>\n{DIFF_USAGE}"));
    };
    let dir = named.get("--journeys").ok_or_else(|| format!("tailor diff: which journeys? (--journeys <dir>)\n{DIFF_USAGE}"))?;
    let (old, new) = (load_rules("diff", old_file)?, load_rules("diff", new_file)?);
    let mut journeys: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("tailor diff: cannot read the folder {dir}: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    journeys.sort();
    if journeys.is_empty() {
        return Err(format!("tailor diff: no journeys (*.json) in {dir}"));
    }
    let start = clock("diff", named.get("--at"))?;
    let mut changed = 0;
    for path in &journeys {
        let name = path.display().to_string();
        let mut journey = load_journey("diff", &name)?;
        if named.contains_key("--at") {
            journey.start = None;
        }
        let (before, after) = (replay(&old, &journey, start, &NativeHost), replay(&new, &journey, start, &NativeHost));
        for (b, a) in before.iter().zip(&after) {
            // What the visitor sees: the experience and variant, and the content shown.
            let key = |d: &tailor::decide::Decision| (d.experience.clone(), d.variant.clone(), d.holdout, d.content.as_ref().map(tailor::rules::document::Content::to_value));
            let slots: Vec<&String> = b.decisions.iter().map(|d| &d.slot).chain(a.decisions.iter().map(|d| &d.slot)).collect();
            let mut seen = std::collections::HashSet::new();
            for slot in slots {
                if !seen.insert(slot) {
                    continue;
                }
                let (db, da) = (b.decisions.iter().find(|d| &d.slot == slot), a.decisions.iter().find(|d| &d.slot == slot));
                if db.map(key) != da.map(key) {
                    changed += 1;
                    let same_choice = db.zip(da).is_some_and(|(x, y)| (&x.experience, &x.variant) == (&y.experience, &y.variant));
                    let what = if same_choice { " (same variant, its content changed)" } else { "" };
                    say!("{name}, step {} ({}){what}:", b.index, b.url.as_deref().unwrap_or("no page"));
                    say!("  before: {}", db.map_or_else(|| format!("{slot}: no such slot"), decision_line));
                    say!("  after:  {}", da.map_or_else(|| format!("{slot}: no such slot"), decision_line));
                }
            }
        }
    }
    let n = journeys.len();
    if changed == 0 {
        say!("no decision changed on {n} journey{}", if n == 1 { "" } else { "s" });
        Ok(ExitCode::SUCCESS)
    } else {
        say!("{changed} decision{} changed on {n} journey{}", if changed == 1 { "" } else { "s" }, if n == 1 { "" } else { "s" });
        Ok(ExitCode::FAILURE)
    }
}
