//! Native timings of hostile rules documents (issue 12): how long validating (and,
//! for the documents that pass, deciding) takes. `cargo run --release --example
//! hostile [case…]` prints one line per case: its name, the document's size, the
//! validation time and outcome (the first problem's path and what was found), and the
//! decision time when the document is valid.
//!
//! Validation and deciding run on a thread with a 1 MiB stack, the size of the
//! .wasm's stack, so a recursion the document controls shows up here as it would in
//! the browser (as a crash of this program).
//!
//! Cases (each at the size the adversarial testing used):
//! - `classes`: 40,000 distinct class names in one variant;
//! - `max-classes`: as many as the limits allow;
//! - `unknown-audience`: a `$audience` name of 256 KiB among 999 other audiences;
//! - `hints`: 1,000 experiences naming unknown audiences of 250 characters, among
//!   1,000 audiences whose names are as long (the worst case of "did you mean");
//! - `million-objects`: `experiences` holding a million empty objects;
//! - `experiences`: 20,000 experiences, each on its own slot (decided too);
//! - `max-experiences`: as many experiences as the limits allow (decided too);
//! - `audience-chain`: 3,000 audiences, each referring to the next;
//! - `max-audience-chain`: 1,000 of them (as many audiences as allowed);
//! - `saved-group-chain`: 1,000 saved groups, each a condition on the next;
//! - `deep-condition`: a condition nested 120 levels deep.

use std::time::Instant;

use tailor::decide::decide_round;
use tailor::host::NativeHost;
use tailor::json::Value;
use tailor::rules::parse_rules_with;

fn classes(n: usize) -> String {
    let names: Vec<String> = (0..n).map(|i| format!("\"c{i}\"")).collect();
    format!(
        r#"{{"version": 1, "experiences": [{{"id": "e", "slot": "s", "variants": [{{"id": "v", "content": {{"classes": {{"add": [{}]}}}}}}]}}]}}"#,
        names.join(",")
    )
}

fn unknown_audience(audiences: usize, name_bytes: usize) -> String {
    let list: Vec<String> = (0..audiences).map(|i| format!(r#""audience-{i}": {{"visits": {{"$gte": {i}}}}}"#)).collect();
    format!(r#"{{"version": 1, "audiences": {{{}, "bad": {{"$audience": "{}"}}}}}}"#, list.join(","), "x".repeat(name_bytes))
}

fn hints() -> String {
    let long = |i: usize| format!("{}{i:04}", "a".repeat(246));
    let audiences: Vec<String> = (0..1_000).map(|i| format!(r#""{}": {{"visits": 1}}"#, long(i))).collect();
    let experiences: Vec<String> =
        (0..1_000).map(|i| format!(r#"{{"id": "e{i}", "slot": "s", "audience": "{}x", "variants": [{{"id": "v"}}]}}"#, long(i))).collect();
    format!(r#"{{"version": 1, "audiences": {{{}}}, "experiences": [{}]}}"#, audiences.join(","), experiences.join(","))
}

fn million_objects(n: usize) -> String {
    format!(r#"{{"version": 1, "experiences": [{}]}}"#, vec!["{}"; n].join(","))
}

fn experiences(n: usize) -> String {
    let list: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"id": "e{i}", "slot": "s{i}", "audience": {{"visits": {{"$gte": 0}}}}, "variants": [{{"id": "a", "weight": 0.5}}, {{"id": "b", "weight": 0.5, "content": {{"text": "hi"}}}}]}}"#))
        .collect();
    format!(r#"{{"version": 1, "experiences": [{}]}}"#, list.join(","))
}

fn audience_chain(n: usize) -> String {
    let list: Vec<String> = (0..n)
        .map(|i| if i + 1 < n { format!(r#""a{i}": {{"$audience": "a{}"}}"#, i + 1) } else { format!(r#""a{i}": {{"visits": {{"$gte": 0}}}}"#) })
        .collect();
    format!(r#"{{"version": 1, "audiences": {{{}}}, "experiences": [{{"id": "e", "slot": "s", "audience": "a0", "variants": [{{"id": "v"}}]}}]}}"#, list.join(","))
}

fn saved_group_chain(n: usize) -> String {
    let list: Vec<String> = (0..n)
        .map(|i| {
            let cond = if i + 1 < n { format!(r#"{{"$savedGroup": {{"id": "g{}"}}}}"#, i + 1) } else { r#"{"visits": {"$gte": 0}}"#.into() };
            format!(r#""g{i}": {{"type": "condition", "condition": {cond}}}"#)
        })
        .collect();
    format!(
        r#"{{"version": 1, "savedGroups": {{{}}}, "experiences": [{{"id": "e", "slot": "s", "audience": {{"$savedGroup": {{"id": "g0"}}}}, "variants": [{{"id": "v"}}]}}]}}"#,
        list.join(",")
    )
}

fn deep_condition(levels: usize) -> String {
    let cond = format!("{}{{\"visits\": 1}}{}", "{\"$not\": ".repeat(levels), "}".repeat(levels));
    format!(r#"{{"version": 1, "experiences": [{{"id": "e", "slot": "s", "audience": {cond}, "variants": [{{"id": "v"}}]}}]}}"#)
}

fn run(name: &str, doc: String) {
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let host = NativeHost;
            let t = Instant::now();
            let parsed = parse_rules_with(&doc, &host);
            let validate_ms = t.elapsed().as_secs_f64() * 1e3;
            let outcome = match &parsed {
                Ok(_) => "valid".to_string(),
                Err(p) => {
                    let listed: Vec<String> = p.iter().take(3).map(|p| format!("{}: expected {}, found {}", p.path, cut(&p.expected), cut(&p.found))).collect();
                    format!("{} problem(s): {}", p.len(), listed.join("; "))
                }
            };
            let decide = parsed.ok().map(|rules| {
                let attrs = tailor::json::parse(r#"{"visits": 3}"#).unwrap_or(Value::Null);
                let t = Instant::now();
                let round = decide_round(&rules, &attrs, None, "visitor", 1.7e12, &host);
                (t.elapsed().as_secs_f64() * 1e3, round.decisions().len())
            });
            (doc.len(), validate_ms, outcome, decide)
        })
        .expect("thread");
    let (bytes, validate_ms, outcome, decide) = handle.join().expect("the case crashed");
    let decide = decide.map_or(String::new(), |(ms, n)| format!("; decided {n} slot(s) in {ms:.1} ms"));
    println!("{name}: {bytes} bytes, validated in {validate_ms:.1} ms ({outcome}){decide}");
}

fn cut(s: &str) -> String {
    if s.len() <= 120 {
        s.to_string()
    } else {
        let end = (0..=120).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        format!("{}… ({} bytes)", &s[..end], s.len())
    }
}

/// A case: it builds its document.
type Case = fn() -> String;

fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let cases: Vec<(&str, Case)> = vec![
        ("classes", || classes(40_000)),
        ("max-classes", || classes(tailor::rules::limits::MAX_CLASSES)),
        ("unknown-audience", || unknown_audience(999, 256 * 1024)),
        ("hints", hints),
        ("million-objects", || million_objects(1_000_000)),
        ("experiences", || experiences(20_000)),
        ("max-experiences", || experiences(tailor::rules::limits::MAX_EXPERIENCES)),
        ("audience-chain", || audience_chain(3_000)),
        ("max-audience-chain", || audience_chain(1_000)),
        ("saved-group-chain", || saved_group_chain(1_000)),
        ("deep-condition", || deep_condition(120)),
    ];
    for (name, make) in cases {
        if only.is_empty() || only.iter().any(|o| o == name) {
            run(name, make());
        }
    }
}
