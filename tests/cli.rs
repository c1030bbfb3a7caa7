//! The `tailor` command line as a user runs it: the built binary, its output and its exit
//! code, on good and mistaken documents.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn tailor(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tailor binary runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A file in a fresh temporary folder, for commands that read paths.
fn file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("tailor-cli-{}-{}", std::process::id(), name.replace('.', "-")));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const GOOD: &str = r#"{
  "version": 1,
  "audiences": { "fans": { "country": { "$in": ["FR", "BE"] } } },
  "experiences": [
    { "id": "hero", "slot": "hero", "audience": "fans",
      "variants": [ { "id": "a", "weight": 1, "content": { "text": "Bonjour" } } ] },
    { "id": "promo", "slot": "banner", "audience": "fans",
      "variants": [ { "id": "b", "weight": 1, "content": { "text": "Promo" } } ] }
  ]
}"#;

// A typo'd operator, a typo'd field, a weight as text and an unknown audience.
const MISTAKEN: &str = r#"{
  "version": 1,
  "audiences": { "fans": { "country": { "$inn": ["FR"] } } },
  "experiences": [
    { "id": "hero", "slot": "hero", "audeince": "fans",
      "variants": [ { "id": "a", "weight": "half" } ] },
    { "id": "promo", "slot": "banner", "audience": "fens",
      "variants": [ { "id": "b", "weight": 1 } ] }
  ]
}"#;

#[test]
fn validate_accepts_a_good_document_and_says_what_it_holds() {
    let o = tailor(&["validate", &file("good.json", GOOD)], None);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("good.json: valid (2 experiences over 2 slots)"), "{}", out(&o));
}

#[test]
fn validate_reports_every_problem_with_line_column_and_hint() {
    let path = file("mistaken.json", MISTAKEN);
    let o = tailor(&["validate", &path], None);
    assert_eq!(o.status.code(), Some(1));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&format!("{path}:3:41: $.audiences.fans.country.$inn: expected a GrowthBook operator, found unknown operator $inn (did you mean \"$in\"?)").as_str()), "{text}");
    assert!(text.contains(&format!("{path}:5:37: $.experiences[0].audeince:")), "{text}");
    assert!(text.contains("(did you mean \"audience\"?)"), "{text}");
    assert!(text.contains(&format!("{path}:6:34: $.experiences[0].variants[0].weight: expected a number between 0 and 1, found string \"half\"")), "{text}");
    assert!(text.contains(&format!("{path}:7:40: $.experiences[1].audience:")), "{text}");
    assert!(lines.last().unwrap().ends_with("mistaken.json: 4 problems"), "{text}");
}

#[test]
fn validate_gives_invalid_json_its_line_and_column() {
    let o = tailor(&["validate", "-"], Some("{\n  \"version\": 1,\n  \"experiences\": [ { \"id\": \"x\", }\n]}"));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(out(&o), "<stdin>:3:33: $: expected a JSON document, found invalid JSON (a trailing comma before '}' (JSON allows none))\n<stdin>: 1 problem\n");
}

#[test]
fn validate_as_json_and_as_github_annotations() {
    let (good, bad) = (file("a.json", GOOD), file("b.json", MISTAKEN));
    let o = tailor(&["validate", &good, &bad, "--format", "json"], None);
    assert_eq!(o.status.code(), Some(1));
    let report = tailor::json::parse(out(&o).trim()).expect("one JSON document");
    assert_eq!(report.get("valid"), Some(&tailor::json::Value::Bool(false)));
    let files = report.get("files").and_then(|f| f.as_array()).unwrap();
    assert_eq!(files[0].get("valid"), Some(&tailor::json::Value::Bool(true)));
    let problems = files[1].get("problems").and_then(|p| p.as_array()).unwrap();
    assert_eq!(problems.len(), 4);
    let typo = &problems[1];
    assert_eq!(typo.get("path").and_then(|p| p.as_str()), Some("$.experiences[0].audeince"));
    assert_eq!((typo.get("line").and_then(|v| v.as_f64()), typo.get("column").and_then(|v| v.as_f64())), (Some(5.0), Some(37.0)));
    assert_eq!(typo.get("hint").and_then(|h| h.as_str()), Some("audience"));

    let o = tailor(&["validate", "--format=github", &bad], None);
    assert_eq!(o.status.code(), Some(1));
    let first = out(&o).lines().next().unwrap().to_string();
    assert_eq!(first, format!("::error file={bad},line=3,col=41,title=Tailor rules%3A $.audiences.fans.country.$inn::$.audiences.fans.country.$inn: expected a GrowthBook operator, found unknown operator $inn (did you mean \"$in\"?)"));
}

#[test]
fn validate_reads_compiled_files_and_locates_their_problems() {
    let compiled = file("c.compiled.json", &format!("{{\"tailor\": \"compiled-rules\", \"version\": 1, \"code\": \"\", \"slots\": [],\n \"rules\": {MISTAKEN}}}"));
    let o = tailor(&["validate", &compiled], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains(&format!("{compiled}:6:37: $.experiences[0].audeince:")), "{}", out(&o));
}

#[test]
fn mistaken_command_lines_exit_2_with_help() {
    let o = tailor(&["valdate", "x.json"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("unknown command \"valdate\" (did you mean \"validate\"?)"), "{}", err(&o));
    let o = tailor(&["validate", "--formt", "json"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("(did you mean \"--format\"?)"), "{}", err(&o));
    let o = tailor(&["validate", "--format", "xml", "x.json"], None);
    assert_eq!(o.status.code(), Some(2));
    let o = tailor(&["validate"], None);
    assert_eq!(o.status.code(), Some(2));
    let o = tailor(&["validate", "/nonexistent/rules.json"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("cannot read /nonexistent/rules.json"), "{}", out(&o));
}

#[test]
fn every_command_has_help() {
    for args in [&["--help"][..], &["help"], &["help", "validate"], &["validate", "--help"], &["help", "compile"], &["compile", "--help"], &["help", "simulate"], &["simulate", "--help"], &["help", "diff"], &["diff", "--help"]] {
        let o = tailor(args, None);
        assert!(o.status.success(), "{args:?}");
        assert!(out(&o).starts_with("usage: tailor"), "{args:?}: {}", out(&o));
    }
    assert!(out(&tailor(&["help", "validate"], None)).contains("--format github"));
    assert!(out(&tailor(&["help"], None)).contains("validate <rules.json>"));
}

#[test]
fn compile_still_refuses_a_mistaken_document_and_writes_nothing() {
    let path = file("refused.json", MISTAKEN);
    let o = tailor(&["compile", &path], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("not a valid rules document (4 problems); nothing was written"), "{}", err(&o));
    assert!(!std::path::Path::new(&path.replace(".json", ".compiled.json")).exists());
}

#[test]
fn the_demo_rules_validate() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/www/rules.json");
    let o = tailor(&["validate", demo], None);
    assert!(o.status.success(), "{}", out(&o));
}

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples");

#[test]
fn simulate_replays_the_example_journey_step_by_step() {
    let (rules, journey) = (format!("{EXAMPLES}/shop-rules.json"), format!("{EXAMPLES}/journeys/returning-shoe-fan.json"));
    let o = tailor(&["simulate", &rules, "--journey", &journey], None);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    let steps: Vec<&str> = text.lines().filter(|l| l.starts_with("step ")).collect();
    assert_eq!(steps.len(), 7, "{text}");
    assert!(steps[0].starts_with("step 1 · 2026-03-02T09:00:00Z · https://shop.example/?utm_campaign=spring&utm_medium=email · personalization not granted"), "{text}");
    assert!(text.contains("  hero: \"spring-hero\" shows variant \"sale\"; passed over \"cart-reminder\""), "{text}");
    // Three shoe views and a cart add under consent: the abandoned cart wins (priority),
    // then stays for its lifetime.
    assert!(text.contains("step 6 · 2026-03-05T09:06:00Z · https://shop.example/ · personalization granted, measurement granted\n  hero: \"cart-reminder\" shows variant \"reminder\"\n"), "{text}");
    assert!(text.contains("  hero: \"cart-reminder\" shows variant \"reminder\" (sticky)"), "{text}");

    // --at moves the whole journey; --format json gives every decision with its explanation.
    let o = tailor(&["simulate", &rules, "--journey", &journey, "--at", "2026-06-01T08:00:00Z", "--format", "json"], None);
    let steps = tailor::json::parse(out(&o).trim()).unwrap();
    let steps = steps.as_array().unwrap();
    assert_eq!(steps[0].get("time").and_then(|t| t.as_str()), Some("2026-06-01T08:00:00Z"));
    let hero = &steps[6].get("decisions").and_then(|d| d.as_array()).unwrap()[0];
    assert_eq!(hero.get("variant").and_then(|v| v.as_str()), Some("reminder"));
    assert!(hero.get("explanation").and_then(|e| e.as_object()).is_some());
}

#[test]
fn simulate_names_what_is_wrong_in_a_journey() {
    let rules = format!("{EXAMPLES}/shop-rules.json");
    let journey = file("bad-journey.json", "{\"steps\": [\n  {\"at\": \"soon\", \"url\": \"shop.example\", \"consent\": {\"personalisation\": true}}\n]}");
    let o = tailor(&["simulate", &rules, "--journey", &journey], None);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains("2:4: $.steps[0].at: expected a valid date-time with an offset"), "{e}");
    assert!(e.contains("2:18: $.steps[0].url: expected an absolute http(s) URL, found string \"shop.example\""), "{e}");
    assert!(e.contains("$.steps[0].consent.personalisation: expected the purpose personalization or measurement"), "{e}");
    let o = tailor(&["simulate", &rules], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--journey <journey.json>"));
}

#[test]
fn diff_catches_a_changed_audience_and_passes_an_unchanged_document() {
    let old = format!("{EXAMPLES}/shop-rules.json");
    let journeys = format!("{EXAMPLES}/journeys");
    let changed = std::fs::read_to_string(&old).unwrap().replace("\"count\": { \"$gte\": 3 }", "\"count\": { \"$gte\": 2 }");
    let new = file("new-rules.json", &changed);
    let o = tailor(&["diff", &old, &new, "--journeys", &journeys], None);
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    let text = out(&o);
    assert!(text.contains("returning-shoe-fan.json, step 5 (https://shop.example/shoes/trail-3):\n  before: hero: default content"), "{text}");
    assert!(text.contains("  after:  hero: \"shoe-fan-hero\" shows variant \"new-arrivals\""), "{text}");
    assert!(text.ends_with("1 decision changed on 1 journey\n"), "{text}");

    let o = tailor(&["diff", &old, &old, "--journeys", &journeys], None);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(out(&o), "no decision changed on 1 journey\n");
}

#[test]
fn validate_names_duplicate_keys_a_bom_and_a_stale_compiled_file() {
    let o = tailor(&["validate", "-"], Some(r#"{"version": 1, "experiences": [{"id": "a", "slot": "hero", "slot": "promo", "variants": [{"id": "v"}]}]}"#));
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("<stdin>:1:60: $.experiences[0].slot: expected each key once in an object (JSON keeps only the last one), found the key slot a second time"), "{}", out(&o));
    let o = tailor(&["validate", "-"], Some("\u{feff}{\"version\": 1}"));
    assert!(out(&o).contains("a byte-order mark (BOM) starts the text"), "{}", out(&o));
    // A compiled file whose rules were edited after compiling.
    let rules = file("stale.json", GOOD);
    let o = tailor(&["compile", &rules, "-o", "-", "--quiet"], None);
    assert!(o.status.success(), "{}", err(&o));
    // The content rides in the rules, the conditions in the code: edit a condition.
    let compiled = out(&o).replace(r#""BE""#, r#""CH""#);
    assert_ne!(compiled, out(&o));
    let o = tailor(&["validate", "-"], Some(&compiled));
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("$.code: expected the compiled form of this file's rules (run `tailor compile` again on the rules)"), "{}", out(&o));
}

#[test]
fn compile_reads_standard_input_and_never_overwrites_its_rules() {
    let o = tailor(&["compile", "-", "--quiet"], Some(GOOD));
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).starts_with(r#"{"tailor":"compiled-rules""#), "{}", out(&o));
    let rules = file("own.json", GOOD);
    let o = tailor(&["compile", &rules, "-o", &rules], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("would overwrite the rules themselves"), "{}", err(&o));
    assert_eq!(std::fs::read_to_string(&rules).unwrap(), GOOD);
    let o = tailor(&["compile"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).starts_with("tailor compile: which rules file? (none given)"), "{}", err(&o));
    assert!(out(&tailor(&["--version"], None)).starts_with("tailor "));
}

#[test]
fn diff_counts_changed_content_and_exits_2_on_trouble() {
    let old = format!("{EXAMPLES}/shop-rules.json");
    let journeys = format!("{EXAMPLES}/journeys");
    let new = file("content.json", &std::fs::read_to_string(&old).unwrap().replace("Spring sale: -20%", "Spring sale: -25%"));
    let o = tailor(&["diff", &old, &new, "--journeys", &journeys], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("step 1 (https://shop.example/?utm_campaign=spring&utm_medium=email) (same variant, its content changed):"), "{}", out(&o));
    let empty = std::env::temp_dir().join(format!("tailor-cli-{}-empty", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let o = tailor(&["diff", &old, &new, "--journeys", &empty.to_string_lossy()], None);
    assert_eq!(o.status.code(), Some(2), "no journeys is trouble, not a change");
    let o = tailor(&["diff", &old, "/nonexistent.json", "--journeys", &journeys], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args(["simulate", &format!("{EXAMPLES}/shop-rules.json"), "--journey", &format!("{EXAMPLES}/journeys/returning-shoe-fan.json"), "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then close the pipe, as `| head -c 1` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut one = [0u8; 1];
    stdout.read_exact(&mut one).unwrap();
    drop(stdout);
    let o = child.wait_with_output().unwrap();
    assert!(!err(&o).contains("panicked"), "{}", err(&o));
}
