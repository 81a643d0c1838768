//! Runs one phase of the fan-out scenario for a while, for profiling it alone, e.g.
//! `perf record -g -p $(pgrep fanout_phase)` while
//! `cargo run --release -p momento-bench --example fanout_phase -- fanout 8` runs.
//!
//! Phases: `fanout` (saturated fan-out only), `loopback` (the plain-client limit only), `both`
//! (alternating, as `make bench` does, and printing the ratio) or `latency` (only the fixed-rate
//! latency phase, for as many seconds as the second argument says, with its stall probe:
//! `fanout_phase latency 15`). A third argument overrides the
//! concurrency per webhook (the mock's `webhook_concurrency`, and the loopback client's per
//! sink), a fourth the publishers' worker threads (0: on the sinks' runtime):
//! `fanout_phase both 9 64 1`.

use std::time::Duration;

use momento_bench::fanout::{run, FanoutParams};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let phase = args.first().map_or("fanout", String::as_str);
    let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(4);
    let mut p = FanoutParams::full();
    p.rounds = rounds;
    if let Some(c) = args.get(2).and_then(|c| c.parse().ok()) {
        p.webhook_concurrency = c;
    }
    if let Some(w) = args.get(3).and_then(|w| w.parse().ok()) {
        p.load_workers = w;
    }
    p.latency_window = Duration::from_millis(200);
    match phase {
        "latency" => {
            p.loopback = false;
            p.fanout = false;
            p.latency_window = Duration::from_secs(rounds as u64);
        }
        "fanout" => p.loopback = false,
        "loopback" => p.fanout = false,
        "both" => {}
        other => anyhow::bail!("unknown phase {other:?}: fanout, loopback, both or latency"),
    }
    let r = run(&p)?;
    println!("{r:#?}");
    if p.fanout && p.loopback {
        println!("fanout_ratio: {:.3}", r.ratio());
    }
    Ok(())
}
