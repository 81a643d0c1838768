//! `momento-bench` (`make bench`): runs every scenario once at full size, prints a table of
//! metric, value, target and verdict, and writes `target/bench/results.json`.
//!
//! `--only fanout,publish,subscribers,provider,handshake,memory` runs a subset.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use momento_bench::report::{cores, cpu_model, utc_now, Report, Target};
use momento_bench::{fanout, handshake, memory, provider, publish, subscribers, util};

const SCENARIOS: [&str; 6] = [
    "fanout",
    "publish",
    "subscribers",
    "provider",
    "handshake",
    "memory",
];

fn main() -> ExitCode {
    // Terraform launches the provider through this binary when the provider scenario measures
    // the provider's CPU time (see `provider::measure_cpu`).
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "--measure-cpu") {
        return match args.as_slice() {
            [_, report, program, rest @ ..] => {
                match provider::measure_cpu(report.as_ref(), program.as_ref(), rest) {
                    Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
                    Err(err) => {
                        eprintln!("momento-bench --measure-cpu: {err:#}");
                        ExitCode::FAILURE
                    }
                }
            }
            _ => {
                eprintln!("usage: momento-bench --measure-cpu REPORT PROGRAM [ARGS...]");
                ExitCode::FAILURE
            }
        };
    }
    match run() {
        Ok(report) if report.failures().is_empty() => ExitCode::SUCCESS,
        Ok(report) => {
            let missed: Vec<&str> = report.failures().iter().map(|m| m.name).collect();
            eprintln!("targets missed: {}", missed.join(", "));
            // Missed targets are a result, not an error: the table and JSON say which.
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("momento-bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn selected() -> Result<Vec<String>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(SCENARIOS.iter().map(|s| s.to_string()).collect()),
        [flag, list] if flag == "--only" => {
            let chosen: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
            for c in &chosen {
                anyhow::ensure!(
                    SCENARIOS.contains(&c.as_str()),
                    "unknown scenario {c:?}; have {SCENARIOS:?}"
                );
            }
            Ok(chosen)
        }
        _ => anyhow::bail!("usage: momento-bench [--only {}]", SCENARIOS.join(",")),
    }
}

fn run() -> Result<Report> {
    let chosen = selected()?;
    let wants = |s: &str| chosen.iter().any(|c| c == s);
    let started = Instant::now();
    let mut report = Report::default();
    report.meta("date", utc_now());
    report.meta("machine_cores", cores());
    report.meta("cpu_model", cpu_model());
    report.meta("build", "release");

    eprintln!("building the release provider and mock binaries ...");
    let t = Instant::now();
    let (provider_bin, mock_bin) = util::build_binaries(true)?;
    report.meta("duration_build_s", t.elapsed().as_secs_f64());

    if wants("fanout") {
        let t = Instant::now();
        eprintln!("fan-out: loopback limit, saturation, latency at 1,000 publishes/s ...");
        let r = fanout::run(&fanout::FanoutParams::full())?;
        report.metric("fanout_deliveries_per_sec", r.deliveries_per_sec, None);
        report.metric("loopback_posts_per_sec", r.loopback_posts_per_sec, None);
        report.metric("fanout_ratio", r.ratio(), Some(Target::AtLeast(0.7)));
        report.metric("fanout_p50_ms", r.p50_ms, None);
        report.metric("fanout_p99_ms", r.p99_ms, Some(Target::AtMost(5.0)));
        report.meta("fanout_max_ms", r.max_ms);
        report.metric("fanout_probe_max_ms", r.stalls.max_ms, None);
        report.metric("fanout_probe_stalled_ms", r.stalls.stalled_ms, None);
        report.meta("fanout_probe_p99_ms", r.stalls.p99_ms);
        report.meta("fanout_probe_wakeups", r.stalls.wakeups);
        report.meta(
            "loopback_rounds_per_sec",
            r.loopback_rounds
                .iter()
                .map(|v| v.round())
                .collect::<Vec<_>>(),
        );
        report.meta(
            "fanout_rounds_per_sec",
            r.fanout_rounds
                .iter()
                .map(|v| v.round())
                .collect::<Vec<_>>(),
        );
        report.meta("fanout_latency_samples", r.latency_samples);
        report.meta("fanout_failed", r.failed);
        report.meta("fanout_dropped", r.dropped);
        report.meta("duration_fanout_s", t.elapsed().as_secs_f64());
    }
    if wants("publish") {
        let t = Instant::now();
        eprintln!("publish: 64 callers, Publish vs Ping ...");
        let r = publish::run(&publish::PublishParams::full())?;
        report.metric("publish_per_sec", r.publish_per_sec, None);
        report.metric("noop_grpc_per_sec", r.noop_grpc_per_sec, None);
        report.metric("publish_ratio", r.ratio(), Some(Target::AtLeast(0.7)));
        report.meta(
            "publish_rounds_noop_publish_per_sec",
            r.rounds
                .iter()
                .map(|(noop, publish)| vec![noop.round(), publish.round()])
                .collect::<Vec<_>>(),
        );
        report.meta("duration_publish_s", t.elapsed().as_secs_f64());
    }
    if wants("subscribers") {
        let t = Instant::now();
        eprintln!("subscribers: 100 gRPC subscribers on one topic ...");
        let r = subscribers::run(&subscribers::SubscriberParams::full())?;
        report.metric("subscriber_msgs_per_sec", r.msgs_per_sec, None);
        report.meta("subscriber_publishes_per_sec", r.publishes_per_sec);
        report.meta("subscriber_discontinuities", r.discontinuities);
        report.meta("duration_subscribers_s", t.elapsed().as_secs_f64());
    }
    if wants("provider") {
        let t = Instant::now();
        eprintln!(
            "provider: terraform apply/plan of 200 momento_topic vs 200 terraform_data, 5 applies and 30 plans each (and 30 topic plans without plugin TLS) ..."
        );
        let r = provider::run(&provider::ProviderParams {
            resources: 200,
            runs: 5,
            plans_per_run: 6,
            provider_bin: provider_bin.clone(),
            // Not `current_exe()`: the workspace build above may have replaced this binary.
            cpu_wrapper: Some(provider_bin.with_file_name("momento-bench")),
        })?;
        report.metric("apply_topic_s", r.apply_topic_s, None);
        report.metric("apply_terraform_data_s", r.apply_data_s, None);
        report.metric("apply_ratio", r.apply_ratio(), Some(Target::AtMost(1.5)));
        report.metric("plan_topic_s", r.plan_topic_s, None);
        report.metric("plan_terraform_data_s", r.plan_data_s, None);
        report.metric("plan_ratio", r.plan_ratio(), Some(Target::AtMost(1.5)));
        // Not how users run Terraform: how much of plan_ratio its plugin mTLS set-up costs.
        report.metric(
            "plan_topic_without_plugin_tls_s",
            r.plan_topic_without_tls_s,
            None,
        );
        report.metric(
            "plan_ratio_without_plugin_tls",
            r.plan_ratio_without_tls(),
            None,
        );
        // The provider's own share: its processes' CPU time in one topic plan, and the ratio
        // with all of it taken off (where a provider that cost nothing would land).
        report.metric("plan_provider_cpu_s", r.plan_provider_cpu_s, None);
        report.metric(
            "plan_ratio_minus_provider_cpu",
            r.plan_ratio_minus_provider_cpu(),
            None,
        );
        // The mock's share (answering the provider's reads), and where a provider and server
        // that cost nothing would land: what is left is Terraform's own cost of a plugin.
        report.metric("plan_mock_cpu_s", r.plan_mock_cpu_s, None);
        report.metric(
            "plan_ratio_minus_provider_and_mock_cpu",
            r.plan_ratio_minus_provider_and_mock_cpu(),
            None,
        );
        // CPU time of terraform and what it launched, per plan (2 cores: CPU can exceed wall).
        report.metric("plan_topic_cpu_s", r.plan_topic_cpu_s, None);
        report.metric("plan_terraform_data_cpu_s", r.plan_data_cpu_s, None);
        report.meta("terraform_version", r.terraform_version.clone());
        report.meta("apply_topic_runs_s", r.apply_topic_runs.clone());
        report.meta("apply_terraform_data_runs_s", r.apply_data_runs.clone());
        report.meta("plan_topic_runs_s", r.plan_topic_runs.clone());
        report.meta("plan_terraform_data_runs_s", r.plan_data_runs.clone());
        report.meta(
            "plan_topic_without_plugin_tls_runs_s",
            r.plan_topic_without_tls_runs.clone(),
        );
        report.meta("plan_provider_cpu_runs_s", r.plan_provider_cpu_runs.clone());
        report.meta("plan_mock_cpu_runs_s", r.plan_mock_cpu_runs.clone());
        report.meta("plan_topic_cpu_runs_s", r.plan_topic_cpu_runs.clone());
        report.meta(
            "plan_terraform_data_cpu_runs_s",
            r.plan_data_cpu_runs.clone(),
        );
        report.meta("duration_provider_s", t.elapsed().as_secs_f64());
    }
    if wants("handshake") {
        let t = Instant::now();
        eprintln!("handshake: provider start to handshake line, 20 runs ...");
        let r = handshake::run(&handshake::HandshakeParams {
            runs: 20,
            provider_bin: provider_bin.clone(),
        })?;
        report.metric("handshake_p50_ms", r.p50_ms, Some(Target::AtMost(20.0)));
        report.meta("handshake_min_ms", r.min_ms);
        report.meta("handshake_max_ms", r.max_ms);
        report.meta("duration_handshake_s", t.elapsed().as_secs_f64());
    }
    if wants("memory") {
        let t = Instant::now();
        eprintln!("memory: 10 webhooks to a black hole under 2,000 publishes/s ...");
        let r = memory::run(&memory::MemoryParams::full(mock_bin.clone()))?;
        report.metric(
            "mock_rss_growth_mb",
            r.growth_mb,
            Some(Target::AtMost(50.0)),
        );
        report.meta("mock_rss_idle_mb", r.idle_rss_mb);
        report.meta("mock_rss_baseline_mb", r.baseline_rss_mb);
        report.meta("mock_rss_peak_mb", r.peak_rss_mb);
        report.meta("memory_published", r.published);
        report.meta("memory_dropped", r.dropped);
        report.meta("memory_failed", r.failed);
        report.meta("memory_connections", r.connections);
        report.meta("duration_memory_s", t.elapsed().as_secs_f64());
    }
    if !report.meta.contains_key("terraform_version") {
        if let Ok(tf) = acceptance::terraform() {
            report.meta("terraform_version", tf.version.to_string());
        }
    }
    report.meta("duration_total_s", started.elapsed().as_secs_f64());

    println!("{}", report.table());
    let path = util::target_dir().join("bench").join("results.json");
    report.write_json(&path)?;
    println!("results written to {}", path.display());
    Ok(report)
}
