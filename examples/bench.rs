//! Native timings of the core on the synthetic workload (no `cargo bench`, no extra
//! crates): `cargo run --release --example bench [runs]` prints one JSON object.
//!
//! The workload is the one `make bench` runs in the browser (see the `synthetic`
//! example): the 100-experience document, the 1,000-event profile (parsed and
//! pruned as `Engine.loadProfile` does), the page of `synthetic_page()`, unit
//! "visitor", at `SYNTHETIC_NOW_MS`. Timed, each as median / p95 / mean in µs:
//!
//! - `decideRound`: `decide_round`, every slot decided, explanations left to build
//!   on request (what the page runtime does on every decision);
//! - `decideRoundJson`: the same plus what `Engine.decideRound` adds around it in the
//!   .wasm (context attributes from the page inputs, the decisions as JSON);
//! - `decideAll`: `decide_all`, every explanation built too;
//! - `decideJson`: `decide_all` plus context and JSON (the eager `Engine.decide`);
//! - `parseRules`, `loadProfile`: the start-up work of a page;
//! - `track`: `Profile::record_event` per event, in a burst of 10,000 on a full ring.
//!
//! Built with the release profile (`opt-level = "z"`, as the .wasm ships), so the
//! numbers compare with the browser's rather than with an optimised-for-speed build.

use std::hint::black_box;
use std::time::Instant;

use tailor::context;
use tailor::decide::{decide_all, decide_round};
use tailor::decide::synthetic::{synthetic_benchmark, synthetic_page, SYNTHETIC_NOW_MS};
use tailor::host::NativeHost;
use tailor::json::{Map, Value};
use tailor::profile::{Profile, BYTE_BUDGET};
use tailor::rules::parse_rules_with;

fn stats(mut us: Vec<f64>) -> String {
    us.sort_by(f64::total_cmp);
    let q = |p: f64| us[((us.len() - 1) as f64 * p).round() as usize];
    let mean = us.iter().sum::<f64>() / us.len() as f64;
    format!(r#"{{"runs": {}, "median": {:.2}, "p95": {:.2}, "mean": {:.2}}}"#, us.len(), q(0.5), q(0.95), mean)
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> String {
    for _ in 0..runs.min(50) {
        black_box(f());
    }
    let mut us = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        black_box(f());
        us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    stats(us)
}

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    // `bench RUNS decide|rules|profile` times only that step (for a profiler:
    // perf record … bench 5000 decide).
    let only = std::env::args().nth(2);
    let host = NativeHost;
    let (rules_json, profile_text) = synthetic_benchmark(100);
    let rules = parse_rules_with(&rules_json, &host).expect("synthetic rules");
    let now = SYNTHETIC_NOW_MS;
    let load = || {
        Profile::load_with(&profile_text, &rules, now, BYTE_BUDGET, &host).expect("synthetic profile")
    };
    let profile = load();
    let inputs = synthetic_page();
    let ctx = context::attributes(&inputs);

    match only.as_deref() {
        Some("rules") => return println!(r#"{{"parseRules": {}}}"#, time(runs, || parse_rules_with(&rules_json, &host))),
        Some("profile") => return println!(r#"{{"loadProfile": {}}}"#, time(runs, load)),
        _ => {}
    }
    let round_t = time(runs, || decide_round(&rules, &ctx, Some(&profile), "visitor", now, &host));
    if only.as_deref() == Some("decide") {
        println!(r#"{{"decideRound": {round_t}}}"#);
        return;
    }
    let round_json_t = time(runs, || {
        let attrs = context::attributes(&inputs);
        let r = decide_round(&rules, &attrs, Some(&profile), "visitor", now, &host);
        Value::Array(r.decisions().iter().map(|d| d.to_value_compact()).collect()).to_json(&host)
    });
    let decide_all_t = time(runs, || decide_all(&rules, &ctx, Some(&profile), "visitor", now, &host));
    let decide_json_t = time(runs, || {
        let attrs = context::attributes(&inputs);
        let d = decide_all(&rules, &attrs, Some(&profile), "visitor", now, &host);
        Value::Array(d.iter().map(|d| d.to_value()).collect()).to_json(&host)
    });
    let parse_t = time(runs.min(200), || parse_rules_with(&rules_json, &host));
    let load_t = time(runs.min(200), load);

    // 10,000 events on a full ring (every one folds the oldest into a rollup).
    let mut p = profile.clone();
    let mut props = Map::new();
    props.insert("category", "shoes".into());
    props.insert("price", 5.0.into());
    let props = Value::Object(props);
    let mut us = Vec::with_capacity(10_000);
    for i in 0..10_000 {
        let t = Instant::now();
        black_box(p.record_event(&rules, "view_item", &props, now + i as f64));
        us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let track_t = stats(us);

    println!(
        r#"{{"profile": "release (opt-level z)", "decideRound": {round_t}, "decideRoundJson": {round_json_t}, "decideAll": {decide_all_t}, "decideJson": {decide_json_t}, "parseRules": {parse_t}, "loadProfile": {load_t}, "track": {track_t}}}"#
    );
}
