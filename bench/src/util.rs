//! Small shared pieces: runtimes with named threads, one process-wide clock for cross-runtime
//! latencies, the timestamped message text, percentiles, paths of the workspace's binaries.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use acceptance::terraform::workspace_root;
use anyhow::{Context as _, Result};

/// A multi-thread Tokio runtime with `workers` threads named `name`.
pub fn runtime(name: &str, workers: usize) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .thread_name(name)
        .enable_all()
        .build()
        .with_context(|| format!("building the {name} runtime"))
}

/// Nanoseconds since the first call in this process: one clock for every runtime and thread.
pub fn now_nanos() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    let base = *BASE.get_or_init(Instant::now);
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Where the send time sits in a message: `ts=<nanos>;` then padding.
const TS_PREFIX: &[u8] = b"ts=";

/// A text message of exactly `len` bytes (at least the stamp) carrying the send time `ts`.
pub fn message_text(len: usize, ts: u64) -> String {
    let mut text = format!("ts={ts};");
    if text.len() < len {
        text.extend(std::iter::repeat_n('x', len - text.len()));
    }
    text
}

/// The send time embedded by [`message_text`] anywhere in `body` (e.g. a webhook's JSON).
pub fn parse_ts(body: &[u8]) -> Option<u64> {
    let start = body.windows(TS_PREFIX.len()).position(|w| w == TS_PREFIX)? + TS_PREFIX.len();
    let digits = body[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&body[start..start + digits])
        .ok()?
        .parse()
        .ok()
}

/// The `p`-th percentile (0–100) of `sorted` by nearest rank; 0 when empty.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `values` (mean of the middle two for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The Cargo target directory (`CARGO_TARGET_DIR`, else `<root>/target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Builds the workspace's binaries with `cargo build` (release or debug) and returns their
/// paths `(terraform-provider-momento, momento-mock)`. A no-op when they are up to date.
pub fn build_binaries(release: bool) -> Result<(PathBuf, PathBuf)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    // The whole workspace, as `make build` does: selecting packages would unify features
    // differently and rebuild (and replace) the binaries the other tests use.
    cmd.current_dir(workspace_root())
        .args(["build", "-q", "--workspace", "--bins"]);
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().context("running cargo build")?;
    anyhow::ensure!(status.success(), "cargo build of the binaries failed");
    let dir = target_dir().join(if release { "release" } else { "debug" });
    let provider = dir.join("terraform-provider-momento");
    let mock = dir.join("momento-mock");
    for bin in [&provider, &mock] {
        anyhow::ensure!(
            bin.is_file(),
            "{} is missing after cargo build",
            bin.display()
        );
    }
    Ok((provider, mock))
}

/// The cache every scenario works in.
pub const CACHE: &str = "bench";

/// An in-process mock with `config` on its own runtime of `workers` threads, [`CACHE`] created.
pub fn start_mock(
    workers: usize,
    config: momento_mock::Config,
) -> Result<(tokio::runtime::Runtime, momento_mock::RunningMock)> {
    let rt = runtime("mock", workers)?;
    let mock = rt.block_on(momento_mock::start(config))?;
    mock.state().create_cache(CACHE)?;
    Ok((rt, mock))
}

/// The median over rounds of `subject / limit`, each pair measured in the same round, so drift
/// on a shared machine between rounds hits both sides of each ratio alike.
pub fn median_ratio(rounds: impl IntoIterator<Item = (f64, f64)>) -> f64 {
    let ratios: Vec<f64> = rounds
        .into_iter()
        .map(|(subject, limit)| subject / limit.max(1e-9))
        .collect();
    median(&ratios)
}

/// Events per second.
pub fn rate(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_and_pad() {
        let text = message_text(256, 123_456_789);
        assert_eq!(text.len(), 256);
        let json = format!(r#"{{"cache":"c","text":"{text}"}}"#);
        assert_eq!(parse_ts(json.as_bytes()), Some(123_456_789));
        assert_eq!(parse_ts(b"nothing"), None);
    }

    #[test]
    fn percentiles_and_medians() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&[], 99.0), 0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
