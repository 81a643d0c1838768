//! The provider under the real `terraform`: `apply` creating N `momento_topic` versus N
//! `terraform_data` (built in, no plugin process: Terraform's own floor), then `plans_per_run`
//! refresh `plan`s of each, alternating; medians over all runs. The provider is the real binary, installed through a
//! `dev_overrides` CLI configuration, so Terraform launches it as users get it (go-plugin
//! handshake, AutoMTLS over a unix socket); the mock runs in this process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use crate::util::{median, start_mock, CACHE};

#[derive(Debug, Clone)]
pub struct ProviderParams {
    pub resources: usize,
    pub runs: usize,
    /// Refresh plans of each configuration after each run's applies.
    pub plans_per_run: usize,
    pub provider_bin: PathBuf,
}

#[derive(Debug, Clone, Default)]
pub struct ProviderResult {
    pub terraform_version: String,
    pub apply_topic_s: f64,
    pub apply_data_s: f64,
    pub plan_topic_s: f64,
    pub plan_data_s: f64,
    pub apply_topic_runs: Vec<f64>,
    pub apply_data_runs: Vec<f64>,
    pub plan_topic_runs: Vec<f64>,
    pub plan_data_runs: Vec<f64>,
}

impl ProviderResult {
    pub fn apply_ratio(&self) -> f64 {
        self.apply_topic_s / self.apply_data_s.max(1e-9)
    }
    pub fn plan_ratio(&self) -> f64 {
        self.plan_topic_s / self.plan_data_s.max(1e-9)
    }
}

pub fn run(p: &ProviderParams) -> Result<ProviderResult> {
    // The acceptance tests' choice: TF_ACC_TERRAFORM_PATH, PATH, else a provisioned copy.
    let tf = acceptance::terraform()?;
    let work = tempfile::Builder::new().prefix("momento-bench").tempdir()?;
    // dev_overrides points at a directory holding the provider binary.
    let plugin_dir = work.path().join("plugins");
    std::fs::create_dir_all(&plugin_dir)?;
    std::fs::copy(
        &p.provider_bin,
        plugin_dir.join("terraform-provider-momento"),
    )
    .with_context(|| format!("copying {}", p.provider_bin.display()))?;
    let cli_config = work.path().join("cli.tfrc");
    std::fs::write(
        &cli_config,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"local/momento\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            plugin_dir.display()
        ),
    )?;

    let (mock_rt, mock) = start_mock(2, momento_mock::Config::ephemeral())?;
    let endpoint = mock.endpoint();

    let mut out = ProviderResult {
        terraform_version: tf.version.to_string(),
        ..ProviderResult::default()
    };
    for run in 0..p.runs.max(1) {
        let topic_dir = work.path().join(format!("topic-{run}"));
        let data_dir = work.path().join(format!("data-{run}"));
        std::fs::create_dir_all(&topic_dir)?;
        std::fs::create_dir_all(&data_dir)?;
        std::fs::write(
            topic_dir.join("main.tf"),
            topic_config(&endpoint, run, p.resources),
        )?;
        std::fs::write(data_dir.join("main.tf"), data_config(p.resources))?;
        // Alternate which goes first, so drift on a shared machine hits both alike.
        let order: [(&Path, bool); 2] = if run % 2 == 0 {
            [(&topic_dir, true), (&data_dir, false)]
        } else {
            [(&data_dir, false), (&topic_dir, true)]
        };
        for (dir, is_topic) in order {
            let apply = terraform(
                tf,
                &cli_config,
                dir,
                &["apply", "-auto-approve", "-input=false", "-no-color"],
            )?;
            if is_topic {
                out.apply_topic_runs.push(apply.as_secs_f64());
            } else {
                out.apply_data_runs.push(apply.as_secs_f64());
            }
        }
        // Plans are short (a few hundred ms), so each run takes several, alternating.
        for _ in 0..p.plans_per_run.max(1) {
            for (dir, is_topic) in order {
                let plan = terraform(
                    tf,
                    &cli_config,
                    dir,
                    &["plan", "-input=false", "-no-color", "-detailed-exitcode"],
                )?;
                if is_topic {
                    out.plan_topic_runs.push(plan.as_secs_f64());
                } else {
                    out.plan_data_runs.push(plan.as_secs_f64());
                }
            }
        }
    }
    let declared = mock
        .topics()
        .list_topics(CACHE, false)
        .map(|t| t.len())
        .unwrap_or(0);
    anyhow::ensure!(
        declared == p.resources * p.runs.max(1),
        "the mock holds {declared} declared topics after the applies, expected {}",
        p.resources * p.runs.max(1)
    );
    out.apply_topic_s = median(&out.apply_topic_runs);
    out.apply_data_s = median(&out.apply_data_runs);
    out.plan_topic_s = median(&out.plan_topic_runs);
    out.plan_data_s = median(&out.plan_data_runs);
    drop(mock);
    mock_rt.shutdown_background();
    Ok(out)
}

/// Runs one terraform command that must succeed (a plan must find no changes); its wall time.
fn terraform(
    tf: &acceptance::TerraformBinary,
    cli_config: &Path,
    dir: &Path,
    args: &[&str],
) -> Result<Duration> {
    let started = Instant::now();
    let out = Command::new(&tf.path)
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env_remove("TF_LOG")
        .env_remove("TF_WORKSPACE")
        .env_remove("TF_REATTACH_PROVIDERS")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", tf.path.display()))?;
    let elapsed = started.elapsed();
    if !out.status.success() {
        bail!(
            "terraform {} in {} failed ({}):\n{}{}",
            args.join(" "),
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(elapsed)
}

fn topic_config(endpoint: &str, run: usize, n: usize) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    momento = {{ source = \"local/momento\" }}\n  }}\n}}\n\n\
         provider \"momento\" {{\n  endpoint = \"{endpoint}\"\n}}\n\n\
         resource \"momento_topic\" \"t\" {{\n  count      = {n}\n  cache_name = \"{CACHE}\"\n  name       = \"r{run}-t${{count.index}}\"\n}}\n"
    )
}

fn data_config(n: usize) -> String {
    format!("resource \"terraform_data\" \"d\" {{\n  count = {n}\n  input = \"d${{count.index}}\"\n}}\n")
}
