//! Provider start-up: from spawning the binary to its go-plugin handshake line on stdout, with the
//! environment Terraform sets (magic cookie, protocol versions, a client certificate so AutoMTLS
//! generates its key and certificate). The process is killed after the line.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, Result};

use crate::util::percentile;

pub const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

#[derive(Debug, Clone)]
pub struct HandshakeParams {
    pub runs: usize,
    pub provider_bin: PathBuf,
}

#[derive(Debug, Clone, Default)]
pub struct HandshakeResult {
    pub p50_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub runs: usize,
}

/// A client certificate PEM like the one Terraform passes in `PLUGIN_CLIENT_CERT`.
fn client_cert_pem() -> Result<String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    Ok(params.self_signed(&key)?.pem())
}

pub fn run(p: &HandshakeParams) -> Result<HandshakeResult> {
    let cert = client_cert_pem()?;
    let socket_dir = tempfile::Builder::new()
        .prefix("momento-bench-hs")
        .tempdir()?;
    let mut samples = Vec::with_capacity(p.runs);
    for _ in 0..p.runs.max(1) {
        let started = Instant::now();
        let mut child = Command::new(&p.provider_bin)
            .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_CLIENT_CERT", &cert)
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", p.provider_bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let elapsed = started.elapsed();
        let _ = child.kill();
        let _ = child.wait();
        read.context("reading the handshake line")?;
        anyhow::ensure!(
            line.starts_with("1|6|unix|") && line.trim_end().len() > "1|6|unix||grpc|".len(),
            "unexpected handshake line {line:?}"
        );
        samples.push(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }
    samples.sort_unstable();
    Ok(HandshakeResult {
        p50_ms: percentile(&samples, 50.0) as f64 / 1e3,
        min_ms: samples[0] as f64 / 1e3,
        max_ms: samples[samples.len() - 1] as f64 / 1e3,
        runs: samples.len(),
    })
}
