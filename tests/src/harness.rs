//! One test's world: its own mock server on `127.0.0.1:0`, the provider served in-process through
//! `TF_REATTACH_PROVIDERS`, its own work directory, and the real `terraform` run against them.
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _, Result};
use momento_mock::RunningMock;
use serde_json::Value as Json;
use tfplugin::InProcessServer;

use crate::terraform::{terraform, TerraformBinary, Version};

/// Set to keep a failed test's work directory for inspection.
pub const KEEP_WORKDIR_ENV: &str = "TF_ACC_KEEP_WORKDIR";

/// The output of one terraform command.
#[derive(Debug, Clone)]
pub struct TfOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TfOutput {
    /// stdout and stderr together, as a user would see them.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A test's mock, provider and terraform work directory.
pub struct Harness {
    mock: Option<RunningMock>,
    provider: Option<InProcessServer>,
    dir: tempfile::TempDir,
    tf: &'static TerraformBinary,
    transcript: Mutex<String>,
    initialized: Mutex<Vec<PathBuf>>,
}

fn init_logging() {
    // The workspace builds rustls with two providers, so TLS clients need a default installed.
    momento_mock::webhooks::install_default_crypto_provider();
    use tracing_subscriber::EnvFilter;
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            EnvFilter::try_from_env("TF_ACC_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .try_init();
}

impl Harness {
    /// Starts a mock with default settings and the provider.
    pub async fn start() -> Result<Self> {
        Self::start_with(momento_mock::Config::ephemeral()).await
    }

    /// Starts a mock with the given settings (its listen address is forced to `127.0.0.1:0`).
    pub async fn start_with(mut config: momento_mock::Config) -> Result<Self> {
        init_logging();
        let tf = terraform()?;
        config.listen = "127.0.0.1:0".parse()?;
        let mock = momento_mock::start(config)
            .await
            .context("starting the mock server")?;
        let provider = tfplugin::serve_in_process(
            terraform_provider_momento::MomentoProvider,
            terraform_provider_momento::PROVIDER_ADDRESS,
        )
        .await
        .context("serving the provider in-process")?;
        let dir = tempfile::Builder::new().prefix("tfacc").tempdir()?;
        std::fs::write(
            dir.path().join("cli.tfrc"),
            "# tests use TF_REATTACH_PROVIDERS\n",
        )?;
        Ok(Self {
            mock: Some(mock),
            provider: Some(provider),
            dir,
            tf,
            transcript: Mutex::new(String::new()),
            initialized: Mutex::new(Vec::new()),
        })
    }

    /// The mock server.
    pub fn mock(&self) -> &RunningMock {
        self.mock.as_ref().expect("mock runs until drop")
    }

    /// The mock's endpoint, e.g. `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> String {
        self.mock().endpoint()
    }

    /// The Terraform in use.
    pub fn terraform(&self) -> &TerraformBinary {
        self.tf
    }

    /// The Terraform version in use.
    pub fn version(&self) -> Version {
        self.tf.version
    }

    /// The main work directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A fresh sub-directory of the work directory (for imports into empty state).
    pub fn subdir(&self, name: &str) -> Result<PathBuf> {
        let d = self.dir().join(name);
        std::fs::create_dir_all(&d)?;
        Ok(d)
    }

    /// The `terraform` and `provider` blocks every configuration starts with.
    pub fn preamble(&self) -> String {
        preamble(&self.endpoint())
    }

    /// Lines in [`Harness::preamble`]: line N of a step's configuration is line
    /// `PREAMBLE_LINES + N` of `main.tf`, which is where Terraform points diagnostics.
    pub const PREAMBLE_LINES: usize = 10;

    /// Writes `main.tf` in `dir`: the preamble, then `body`.
    pub fn write_config_in(&self, dir: &Path, body: &str) -> Result<()> {
        std::fs::write(
            dir.join("main.tf"),
            format!("{}{}\n", self.preamble(), body),
        )?;
        Ok(())
    }

    /// Writes `main.tf` in the work directory.
    pub fn write_config(&self, body: &str) -> Result<()> {
        self.write_config_in(self.dir(), body)
    }

    /// Runs terraform with `args` in `dir` and records the exchange in the transcript.
    pub async fn run_in(&self, dir: &Path, args: &[&str]) -> Result<TfOutput> {
        let provider = self.provider.as_ref().expect("provider runs until drop");
        let started = Instant::now();
        let out = tokio::process::Command::new(&self.tf.path)
            .args(args)
            .current_dir(dir)
            .env("TF_REATTACH_PROVIDERS", provider.reattach_json())
            .env("TF_CLI_CONFIG_FILE", self.dir().join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_LOG")
            .env_remove("TF_WORKSPACE")
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("running {}", self.tf.path.display()))?;
        let out = TfOutput {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        // JSON output (show/output -json) carries sensitive values in clear: keep it out of
        // failure reports.
        let shown_stdout = if args.contains(&"-json") {
            format!(
                "({} bytes of JSON output not shown: it may hold secrets)\n",
                out.stdout.len()
            )
        } else {
            out.stdout.clone()
        };
        if let Ok(mut t) = self.transcript.lock() {
            t.push_str(&format!(
                "\n$ terraform {} (in {}, exit {}, {:.1}s)\n{}{}",
                args.join(" "),
                dir.display(),
                out.code,
                started.elapsed().as_secs_f64(),
                shown_stdout,
                out.stderr
            ));
        }
        Ok(out)
    }

    /// Runs terraform in the work directory, initializing it first.
    pub async fn run(&self, args: &[&str]) -> Result<TfOutput> {
        self.ensure_init(self.dir()).await?;
        self.run_in(self.dir(), args).await
    }

    /// Runs `terraform init` in `dir` once.
    pub async fn ensure_init(&self, dir: &Path) -> Result<()> {
        if self
            .initialized
            .lock()
            .map(|d| d.iter().any(|p| p == dir))
            .unwrap_or(false)
        {
            return Ok(());
        }
        let out = self
            .run_in(dir, &["init", "-input=false", "-no-color"])
            .await?;
        if out.code != 0 {
            bail!("terraform init failed:\n{}", out.combined());
        }
        if let Ok(mut d) = self.initialized.lock() {
            d.push(dir.to_path_buf());
        }
        Ok(())
    }

    /// Runs a command that must succeed.
    pub async fn run_ok(&self, dir: &Path, args: &[&str]) -> Result<TfOutput> {
        self.ensure_init(dir).await?;
        let out = self.run_in(dir, args).await?;
        if out.code != 0 {
            bail!(
                "terraform {} failed (exit {}):\n{}",
                args.join(" "),
                out.code,
                out.combined()
            );
        }
        Ok(out)
    }

    /// `terraform apply -auto-approve` in the work directory.
    pub async fn apply(&self) -> Result<TfOutput> {
        self.run_ok(
            self.dir(),
            &["apply", "-auto-approve", "-input=false", "-no-color"],
        )
        .await
    }

    /// `terraform destroy -auto-approve` in the work directory.
    pub async fn destroy(&self) -> Result<TfOutput> {
        self.run_ok(
            self.dir(),
            &["destroy", "-auto-approve", "-input=false", "-no-color"],
        )
        .await
    }

    /// Plans in `dir` and says whether the plan has changes (`-detailed-exitcode`).
    pub async fn plan_has_changes(&self, dir: &Path, refresh: bool) -> Result<(bool, TfOutput)> {
        self.ensure_init(dir).await?;
        let mut args = vec!["plan", "-input=false", "-no-color", "-detailed-exitcode"];
        if !refresh {
            args.push("-refresh=false");
        }
        let out = self.run_in(dir, &args).await?;
        match out.code {
            0 => Ok((false, out)),
            2 => Ok((true, out)),
            _ => bail!("terraform plan failed:\n{}", out.combined()),
        }
    }

    /// Saves a plan in `dir` and returns `terraform show -json` of it.
    pub async fn plan_json(&self, dir: &Path) -> Result<Json> {
        self.run_ok(dir, &["plan", "-input=false", "-no-color", "-out=tfplan"])
            .await?;
        let out = self.run_ok(dir, &["show", "-json", "tfplan"]).await?;
        serde_json::from_str(&out.stdout).context("terraform show -json tfplan printed no JSON")
    }

    /// `terraform show -json` of the state in `dir`.
    pub async fn state_in(&self, dir: &Path) -> Result<State> {
        let out = self.run_ok(dir, &["show", "-json"]).await?;
        Ok(State(
            serde_json::from_str(&out.stdout).context("terraform show -json printed no JSON")?,
        ))
    }

    /// `terraform show -json` of the work directory's state.
    pub async fn state(&self) -> Result<State> {
        self.state_in(self.dir()).await
    }

    /// Publishes a text message over gRPC to this test's mock.
    pub async fn publish_grpc(
        &self,
        cache: &str,
        topic: &str,
        text: &str,
    ) -> Result<(), tonic::Status> {
        crate::momento::publish_grpc(&self.endpoint(), cache, topic, text).await
    }

    /// Publishes through Momento's HTTP API on this test's mock; returns the HTTP status.
    pub async fn publish_http(&self, cache: &str, topic: &str, text: &str) -> Result<u16> {
        crate::momento::publish_http(&self.endpoint(), cache, topic, text).await
    }

    /// Waits on this test's mock's delivery journal (see [`crate::momento::wait_for_deliveries`]).
    pub async fn wait_for_deliveries(
        &self,
        filter: &crate::momento::DeliveryFilter,
        n: usize,
        timeout: std::time::Duration,
    ) -> Result<Vec<Json>> {
        crate::momento::wait_for_deliveries(&self.endpoint(), filter, n, timeout).await
    }

    /// Everything terraform printed so far, for failure reports.
    pub fn transcript(&self) -> String {
        self.transcript
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }

    /// A report of a failure with the terraform transcript, webhook secrets redacted (the work
    /// directory itself is kept by [`Harness::finish`] when `TF_ACC_KEEP_WORKDIR` is set).
    pub fn failure_report(&self, error: &anyhow::Error) -> String {
        let kept = if std::env::var_os(KEEP_WORKDIR_ENV).is_some() {
            format!("work directory kept at {}", self.dir().display())
        } else {
            format!("set {KEEP_WORKDIR_ENV}=1 to keep the work directory")
        };
        crate::momento::redact_secrets(&format!(
            "{error:#}\n({kept})\n--- terraform transcript ---{}",
            self.transcript()
        ))
    }

    /// Stops the provider and the mock; keeps the work directory if asked to.
    pub async fn finish(mut self, keep_dir: bool) {
        if let Some(p) = self.provider.take() {
            p.shutdown().await;
        }
        if let Some(m) = self.mock.take() {
            m.shutdown().await;
        }
        if keep_dir {
            let _ = self.dir.keep();
        }
    }
}

fn preamble(endpoint: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    momento = {{ source = \"local/momento\" }}\n  }}\n}}\n\n\
         provider \"momento\" {{\n  endpoint = \"{endpoint}\"\n}}\n\n"
    )
}

/// The JSON state from `terraform show -json`, with lookups by resource address.
#[derive(Debug, Clone)]
pub struct State(pub Json);

impl State {
    fn resources(&self) -> impl Iterator<Item = &Json> {
        let root = &self.0["values"]["root_module"];
        let mut all: Vec<&Json> = root["resources"].as_array().into_iter().flatten().collect();
        for child in root["child_modules"].as_array().into_iter().flatten() {
            all.extend(child["resources"].as_array().into_iter().flatten());
        }
        all.into_iter()
    }

    /// The resource at `address` (e.g. `momento_cache.a` or `data.momento_caches.all`).
    pub fn resource(&self, address: &str) -> Option<&Json> {
        self.resources().find(|r| r["address"] == address)
    }

    /// All resource addresses in the state.
    pub fn addresses(&self) -> Vec<String> {
        self.resources()
            .filter_map(|r| r["address"].as_str().map(str::to_owned))
            .collect()
    }

    /// The attribute values of the resource at `address`.
    pub fn values(&self, address: &str) -> Result<&Json> {
        self.resource(address).map(|r| &r["values"]).ok_or_else(|| {
            anyhow!(
                "no resource {address} in state; have {:?}",
                self.addresses()
            )
        })
    }

    /// A value inside a resource by a dotted path, e.g. `names.0` or `tags.env`.
    pub fn attr(&self, address: &str, path: &str) -> Result<&Json> {
        let mut v = self.values(address)?;
        for step in path.split('.').filter(|s| !s.is_empty()) {
            v = match v {
                Json::Array(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
                Json::Object(map) => map.get(step),
                _ => None,
            }
            .ok_or_else(|| {
                anyhow!("{address} has no attribute at {path:?} (stopped at {step:?}): {v}")
            })?;
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preamble_has_the_documented_line_count() {
        assert_eq!(
            preamble("http://127.0.0.1:1").lines().count(),
            Harness::PREAMBLE_LINES
        );
    }
}
