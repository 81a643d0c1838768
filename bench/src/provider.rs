//! The provider under the real `terraform`: `apply` creating N `momento_topic` versus N
//! `terraform_data` (built in, no plugin process: Terraform's own floor), then `plans_per_run`
//! refresh `plan`s of each, in rotating order; medians over all runs. The provider is the real
//! binary, installed through a `dev_overrides` CLI configuration, so Terraform launches it as
//! users get it (go-plugin handshake, AutoMTLS over a unix socket); the mock runs in this process.
//!
//! Each plan round also plans the topics once more with `TF_DISABLE_PLUGIN_TLS=1`, Terraform's
//! own switch for its plugin mTLS: not how users run it, but it shows in the same run how much
//! of `plan_ratio` the per-launch TLS set-up (Terraform's P-521 key and certificate, both sides'
//! handshakes) costs. The provider serves plain gRPC then, as go-plugin expects.
//!
//! With a `cpu_wrapper` (the `momento-bench` binary), each round also runs one untimed topic plan
//! with the provider started through `momento-bench --measure-cpu`, which reports the CPU time
//! (user + system) of the provider's processes: the provider's own share of a plan's cost. The
//! same plan measures this process's CPU time, which is the mock answering the provider's reads
//! (nothing else here runs meanwhile). Every timed plan also records the CPU time of the
//! `terraform` process and what it launched, so one run splits a plan's CPU between Terraform,
//! the provider and the mock.

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
    /// The `momento-bench` binary, to measure the provider's CPU time (see the module docs).
    pub cpu_wrapper: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct ProviderResult {
    pub terraform_version: String,
    pub apply_topic_s: f64,
    pub apply_data_s: f64,
    pub plan_topic_s: f64,
    pub plan_data_s: f64,
    /// The topic plan with Terraform's plugin TLS switched off (`TF_DISABLE_PLUGIN_TLS=1`).
    pub plan_topic_without_tls_s: f64,
    pub apply_topic_runs: Vec<f64>,
    pub apply_data_runs: Vec<f64>,
    pub plan_topic_runs: Vec<f64>,
    pub plan_data_runs: Vec<f64>,
    pub plan_topic_without_tls_runs: Vec<f64>,
    /// CPU seconds of the provider's processes (all three launches) in one topic plan; empty
    /// without a `cpu_wrapper`.
    pub plan_provider_cpu_runs: Vec<f64>,
    pub plan_provider_cpu_s: f64,
    /// CPU seconds of the mock (this process) in the same measured plans; empty without a
    /// `cpu_wrapper`.
    pub plan_mock_cpu_runs: Vec<f64>,
    pub plan_mock_cpu_s: f64,
    /// CPU seconds of `terraform` and its children (the provider) in each timed topic plan, and
    /// of `terraform` in each timed `terraform_data` plan.
    pub plan_topic_cpu_runs: Vec<f64>,
    pub plan_data_cpu_runs: Vec<f64>,
    pub plan_topic_cpu_s: f64,
    pub plan_data_cpu_s: f64,
}

impl ProviderResult {
    pub fn apply_ratio(&self) -> f64 {
        self.apply_topic_s / self.apply_data_s.max(1e-9)
    }
    pub fn plan_ratio(&self) -> f64 {
        self.plan_topic_s / self.plan_data_s.max(1e-9)
    }
    pub fn plan_ratio_without_tls(&self) -> f64 {
        self.plan_topic_without_tls_s / self.plan_data_s.max(1e-9)
    }
    /// `plan_ratio` with all of the provider's CPU time taken off the topic plan: an estimate
    /// of where a provider that cost nothing would land (Terraform's own cost of any plugin).
    pub fn plan_ratio_minus_provider_cpu(&self) -> f64 {
        (self.plan_topic_s - self.plan_provider_cpu_s) / self.plan_data_s.max(1e-9)
    }
    /// The same with the mock's CPU time (answering the provider's reads) taken off as well.
    pub fn plan_ratio_minus_provider_and_mock_cpu(&self) -> f64 {
        (self.plan_topic_s - self.plan_provider_cpu_s - self.plan_mock_cpu_s)
            / self.plan_data_s.max(1e-9)
    }
}

/// A refresh plan that must find no changes (`-detailed-exitcode` fails on any).
const PLAN_ARGS: &[&str] = &["plan", "-input=false", "-no-color", "-detailed-exitcode"];

/// The plans of one round.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plan {
    Topic,
    Data,
    TopicWithoutTls,
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
    let cli_config = dev_overrides_config(&work.path().join("cli.tfrc"), &plugin_dir)?;

    // The measured variant: a launcher script in its own dev_overrides directory.
    let cpu_report = work.path().join("provider-cpu.txt");
    let measured_config = match &p.cpu_wrapper {
        Some(wrapper) => Some(measured_cli_config(
            work.path(),
            wrapper,
            &plugin_dir.join("terraform-provider-momento"),
            &cpu_report,
        )?),
        None => None,
    };

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
                false,
            )?;
            if is_topic {
                out.apply_topic_runs.push(apply.as_secs_f64());
            } else {
                out.apply_data_runs.push(apply.as_secs_f64());
            }
        }
        // Plans are short (a few hundred ms), so each run takes several, each round in a
        // rotated order.
        for round in 0..p.plans_per_run.max(1) {
            let mut plans = [Plan::Topic, Plan::Data, Plan::TopicWithoutTls];
            let turn = (run * p.plans_per_run.max(1) + round) % plans.len();
            plans.rotate_left(turn);
            for plan in plans {
                let dir = if plan == Plan::Data {
                    &data_dir
                } else {
                    &topic_dir
                };
                let children = cpu_seconds(libc::RUSAGE_CHILDREN)?;
                let took = terraform(
                    tf,
                    &cli_config,
                    dir,
                    PLAN_ARGS,
                    plan == Plan::TopicWithoutTls,
                )?
                .as_secs_f64();
                let cpu = cpu_seconds(libc::RUSAGE_CHILDREN)? - children;
                match plan {
                    Plan::Topic => {
                        out.plan_topic_runs.push(took);
                        out.plan_topic_cpu_runs.push(cpu);
                    }
                    Plan::Data => {
                        out.plan_data_runs.push(took);
                        out.plan_data_cpu_runs.push(cpu);
                    }
                    Plan::TopicWithoutTls => out.plan_topic_without_tls_runs.push(took),
                }
            }
            if let Some(config) = &measured_config {
                let _ = std::fs::remove_file(&cpu_report);
                let mock_before = cpu_seconds(libc::RUSAGE_SELF)?;
                terraform(tf, config, &topic_dir, PLAN_ARGS, false)?;
                out.plan_mock_cpu_runs
                    .push(cpu_seconds(libc::RUSAGE_SELF)? - mock_before);
                out.plan_provider_cpu_runs
                    .push(read_cpu_report(&cpu_report)?);
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
    out.plan_topic_without_tls_s = median(&out.plan_topic_without_tls_runs);
    out.plan_provider_cpu_s = median(&out.plan_provider_cpu_runs);
    out.plan_mock_cpu_s = median(&out.plan_mock_cpu_runs);
    out.plan_topic_cpu_s = median(&out.plan_topic_cpu_runs);
    out.plan_data_cpu_s = median(&out.plan_data_cpu_runs);
    drop(mock);
    mock_rt.shutdown_background();
    Ok(out)
}

/// A CLI configuration whose `local/momento` is a launcher that runs `provider` under
/// `wrapper --measure-cpu`, which appends each launch's CPU seconds to `report`.
fn measured_cli_config(
    work: &Path,
    wrapper: &Path,
    provider: &Path,
    report: &Path,
) -> Result<PathBuf> {
    let dir = work.join("plugins-measured");
    std::fs::create_dir_all(&dir)?;
    let launcher = dir.join("terraform-provider-momento");
    std::fs::write(
        &launcher,
        format!(
            "#!/bin/sh\nexec '{}' --measure-cpu '{}' '{}' \"$@\"\n",
            wrapper.display(),
            report.display(),
            provider.display()
        ),
    )?;
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755))?;
    dev_overrides_config(&work.join("cli-measured.tfrc"), &dir)
}

/// Writes a CLI configuration at `path` whose `local/momento` is the provider binary in
/// `plugin_dir`; returns `path`.
fn dev_overrides_config(path: &Path, plugin_dir: &Path) -> Result<PathBuf> {
    std::fs::write(
        path,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"local/momento\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            plugin_dir.display()
        ),
    )?;
    Ok(path.to_path_buf())
}

/// The sum of the CPU seconds [`measure_cpu`] appended to `report` (one line per launch).
fn read_cpu_report(report: &Path) -> Result<f64> {
    let text = std::fs::read_to_string(report)
        .with_context(|| format!("reading the provider CPU report {}", report.display()))?;
    let mut total = 0.0;
    for line in text.lines() {
        total += line
            .trim()
            .parse::<f64>()
            .with_context(|| format!("a bad line {line:?} in {}", report.display()))?;
    }
    anyhow::ensure!(!text.is_empty(), "no provider launch was measured");
    Ok(total)
}

/// `momento-bench --measure-cpu REPORT PROGRAM ARGS...`: runs PROGRAM with this process's
/// stdio and environment, appends the CPU seconds (user + system) it and its children used to
/// REPORT, and exits with its status. Terraform launches the provider through it.
pub fn measure_cpu(report: &Path, program: &Path, args: &[std::ffi::OsString]) -> Result<i32> {
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("starting {}", program.display()))?;
    // This process's only child has been waited for, so the children's usage is its usage.
    let cpu = cpu_seconds(libc::RUSAGE_CHILDREN)?;
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(report)
        .with_context(|| format!("opening {}", report.display()))?;
    writeln!(file, "{cpu:.6}")?;
    Ok(status.code().unwrap_or(1))
}

/// CPU seconds (user + system) so far of this process (`RUSAGE_SELF`, all its threads) or of
/// its children that have been waited for (`RUSAGE_CHILDREN`).
fn cpu_seconds(who: libc::c_int) -> Result<f64> {
    // SAFETY: getrusage writes into the zeroed struct it is given and reads nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        anyhow::ensure!(
            libc::getrusage(who, &mut usage) == 0,
            "getrusage failed: {}",
            std::io::Error::last_os_error()
        );
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(seconds(usage.ru_utime) + seconds(usage.ru_stime))
}

/// Runs one terraform command that must succeed (a plan must find no changes); its wall time.
/// `without_tls` switches Terraform's plugin mTLS off (`TF_DISABLE_PLUGIN_TLS`).
fn terraform(
    tf: &acceptance::TerraformBinary,
    cli_config: &Path,
    dir: &Path,
    args: &[&str],
    without_tls: bool,
) -> Result<Duration> {
    let mut command = Command::new(&tf.path);
    if without_tls {
        command.env("TF_DISABLE_PLUGIN_TLS", "1");
    } else {
        command.env_remove("TF_DISABLE_PLUGIN_TLS");
    }
    let started = Instant::now();
    let out = command
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
