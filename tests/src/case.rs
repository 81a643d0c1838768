//! Test cases as lists of steps, run against a [`Harness`] with Terraform's invariants checked
//! after every apply (empty non-refresh and refresh plans), import verification, and a final
//! destroy that must leave the mock holding nothing the test created.
use std::sync::Arc;

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use futures::future::BoxFuture;
use regex::Regex;
use serde_json::Value as Json;

use crate::harness::{Harness, State};
use crate::terraform::Version;

/// A check on the state after a step's apply.
pub type StateCheck = Arc<dyn Fn(&State) -> Result<()> + Send + Sync>;
/// A check on the saved plan (`terraform show -json tfplan`) before a step's apply.
pub type PlanCheck = Arc<dyn Fn(&Json) -> Result<()> + Send + Sync>;
/// Something done before a step, e.g. changing the mock out of band.
pub type Hook = Arc<dyn for<'a> Fn(&'a Harness) -> BoxFuture<'a, Result<()>> + Send + Sync>;

/// How an import check brings the object into a fresh, empty state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportVia {
    /// `terraform import ADDRESS ID`.
    Cli,
    /// An `import { to = ADDRESS, id = ID }` block and `terraform apply` (Terraform ≥ 1.5).
    Block,
}

/// Imports `address` by `id` into an empty state and checks the result equals the applied state.
#[derive(Clone, Debug)]
pub struct ImportCheck {
    pub address: String,
    pub id: String,
    pub via: ImportVia,
    /// Attributes that import cannot know (e.g. write-only or config-only ones).
    pub ignore: Vec<String>,
}

/// One step of a test case.
#[derive(Clone, Default)]
pub struct Step {
    /// Configuration after the preamble (terraform and provider blocks are added).
    pub config: String,
    pub before: Option<Hook>,
    /// Runs after the apply, its checks and the empty-plan invariants (e.g. publish and assert
    /// what receivers got).
    pub after: Option<Hook>,
    pub plan_checks: Vec<PlanCheck>,
    pub checks: Vec<StateCheck>,
    /// The step must fail with output matching this pattern.
    pub expect_error: Option<Regex>,
    /// The apply's output (e.g. a warning) must match this pattern.
    pub expect_output: Option<Regex>,
    /// Only plan; with `expect_non_empty_plan` the plan must have changes.
    pub plan_only: bool,
    pub expect_non_empty_plan: bool,
    pub imports: Vec<ImportCheck>,
    /// Skip the step on Terraform older than this.
    pub min_version: Option<Version>,
}

impl Step {
    pub fn new(config: impl Into<String>) -> Self {
        Self {
            config: config.into(),
            ..Default::default()
        }
    }

    pub fn before<F>(mut self, hook: F) -> Self
    where
        F: for<'a> Fn(&'a Harness) -> BoxFuture<'a, Result<()>> + Send + Sync + 'static,
    {
        self.before = Some(Arc::new(hook));
        self
    }

    pub fn after<F>(mut self, hook: F) -> Self
    where
        F: for<'a> Fn(&'a Harness) -> BoxFuture<'a, Result<()>> + Send + Sync + 'static,
    {
        self.after = Some(Arc::new(hook));
        self
    }

    pub fn check(mut self, f: impl Fn(&State) -> Result<()> + Send + Sync + 'static) -> Self {
        self.checks.push(Arc::new(f));
        self
    }

    /// Checks that `address`'s attribute at `path` equals `expected`.
    pub fn check_attr(self, address: &str, path: &str, expected: impl Into<Json>) -> Self {
        let (address, path, expected) = (address.to_owned(), path.to_owned(), expected.into());
        self.check(move |s| {
            let got = s.attr(&address, &path)?;
            ensure!(
                *got == expected,
                "{address}.{path}: expected {expected}, got {got}"
            );
            Ok(())
        })
    }

    pub fn plan_check(mut self, f: impl Fn(&Json) -> Result<()> + Send + Sync + 'static) -> Self {
        self.plan_checks.push(Arc::new(f));
        self
    }

    /// Checks that the plan's actions for `address` are exactly `actions` (e.g. `["create"]`,
    /// `["delete", "create"]` for a replacement).
    pub fn expect_actions(self, address: &str, actions: &[&str]) -> Self {
        let address = address.to_owned();
        let expected: Vec<String> = actions.iter().map(|s| s.to_string()).collect();
        self.plan_check(move |plan| {
            let got = planned_actions(plan, &address)?;
            ensure!(
                got == expected,
                "{address}: expected plan actions {expected:?}, got {got:?}"
            );
            Ok(())
        })
    }

    pub fn expect_error(mut self, pattern: &str) -> Self {
        self.expect_error = Some(Regex::new(pattern).expect("valid regex"));
        self
    }

    /// The successful apply's output must match `pattern` (e.g. a warning).
    pub fn expect_output(mut self, pattern: &str) -> Self {
        self.expect_output = Some(Regex::new(pattern).expect("valid regex"));
        self
    }

    pub fn plan_only(mut self) -> Self {
        self.plan_only = true;
        self
    }

    pub fn expect_non_empty_plan(mut self) -> Self {
        self.expect_non_empty_plan = true;
        self
    }

    pub fn import(mut self, address: &str, id: &str, via: ImportVia) -> Self {
        self.imports.push(ImportCheck {
            address: address.into(),
            id: id.into(),
            via,
            ignore: vec![],
        });
        self
    }

    /// Like [`Step::import`], ignoring attributes import cannot know (e.g. config-only ones).
    pub fn import_ignoring(
        mut self,
        address: &str,
        id: &str,
        via: ImportVia,
        ignore: &[&str],
    ) -> Self {
        self.imports.push(ImportCheck {
            address: address.into(),
            id: id.into(),
            via,
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    pub fn min_version(mut self, v: Version) -> Self {
        self.min_version = Some(v);
        self
    }
}

/// The planned change (`before`, `after`, `actions`, ...) of a resource address.
pub fn planned_change<'a>(plan: &'a Json, address: &str) -> Result<&'a Json> {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["address"] == address)
        .map(|c| &c["change"])
        .ok_or_else(|| anyhow!("the plan has no change for {address}"))
}

/// The actions Terraform planned for a resource address.
pub fn planned_actions(plan: &Json, address: &str) -> Result<Vec<String>> {
    let change = planned_change(plan, address)?;
    Ok(change["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect())
}

/// Checks run on the mock after the final destroy.
pub type DestroyCheck = Arc<dyn Fn(&Harness) -> Result<()> + Send + Sync>;

/// A test case: steps, run in order in one work directory.
#[derive(Clone, Default)]
pub struct TestCase {
    pub steps: Vec<Step>,
    pub mock_config: Option<momento_mock::Config>,
    /// Extra checks after destroy; by default the mock must hold no caches.
    pub destroy_checks: Vec<DestroyCheck>,
    /// A string in step configurations that is replaced by the mock's endpoint (for extra
    /// provider blocks, e.g. with other credentials).
    pub endpoint_placeholder: Option<String>,
}

impl TestCase {
    pub fn new(steps: Vec<Step>) -> Self {
        Self {
            steps,
            ..Default::default()
        }
    }

    pub fn with_mock(mut self, config: momento_mock::Config) -> Self {
        self.mock_config = Some(config);
        self
    }

    pub fn with_endpoint_placeholder(mut self, placeholder: &str) -> Self {
        self.endpoint_placeholder = Some(placeholder.into());
        self
    }

    pub fn destroy_check(
        mut self,
        f: impl Fn(&Harness) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.destroy_checks.push(Arc::new(f));
        self
    }

    /// Runs the case; panics with the terraform transcript on failure.
    pub async fn run(self) {
        let h = match self.mock_config.clone() {
            Some(c) => Harness::start_with(c).await,
            None => Harness::start().await,
        }
        .unwrap_or_else(|e| panic!("could not start the test environment: {e:#}"));
        let result = self.run_in(&h).await;
        let keep = result.is_err() && std::env::var_os(crate::harness::KEEP_WORKDIR_ENV).is_some();
        if let Err(e) = &result {
            let report = h.failure_report(e);
            h.finish(keep).await;
            panic!("{report}");
        }
        h.finish(false).await;
    }

    async fn run_in(&self, h: &Harness) -> Result<()> {
        let mut applied_any = false;
        // Destroy runs with the last configuration that applied cleanly (a failing step's
        // configuration may not even plan).
        let mut last_good_config = None;
        for (i, step) in self.steps.iter().enumerate() {
            let n = i + 1;
            if step.min_version.is_some_and(|v| h.version() < v) {
                eprintln!(
                    "step {n} skipped: needs Terraform >= {}, running {}",
                    step.min_version.unwrap_or(Version(0, 0, 0)),
                    h.version()
                );
                continue;
            }
            let mut step = step.clone();
            if let Some(placeholder) = &self.endpoint_placeholder {
                step.config = step.config.replace(placeholder.as_str(), &h.endpoint());
            }
            let ran_apply = run_step(h, &step)
                .await
                .with_context(|| format!("step {n}"))?;
            applied_any |= ran_apply;
            if ran_apply && step.expect_error.is_none() {
                last_good_config = Some(step.config);
            }
        }
        if applied_any {
            if let Some(config) = &last_good_config {
                h.write_config(config)?;
            }
            h.destroy().await.context("final destroy")?;
        }
        for check in &self.destroy_checks {
            check(h).context("after destroy")?;
        }
        let leftover = h.mock().state().cache_names();
        ensure!(
            leftover.is_empty(),
            "after destroy the mock still holds caches {leftover:?}"
        );
        Ok(())
    }
}

/// Runs one step; returns whether it applied anything.
async fn run_step(h: &Harness, step: &Step) -> Result<bool> {
    if let Some(hook) = &step.before {
        hook(h).await.context("before hook")?;
    }
    h.write_config(&step.config)?;
    h.ensure_init(h.dir()).await?;

    if step.plan_only || !step.plan_checks.is_empty() {
        let out = h
            .run(&[
                "plan",
                "-input=false",
                "-no-color",
                "-detailed-exitcode",
                "-out=tfplan",
            ])
            .await?;
        if out.code == 1 {
            return expected_failure(step, &out.combined()).map(|_| false);
        }
        let plan: Json = serde_json::from_str(&h.run(&["show", "-json", "tfplan"]).await?.stdout)
            .context("terraform show -json tfplan printed no JSON")?;
        for check in &step.plan_checks {
            check(&plan).context("plan check")?;
        }
        if step.plan_only {
            let changed = out.code == 2;
            if step.expect_error.is_some() {
                bail!(
                    "expected an error, but the plan succeeded:\n{}",
                    out.combined()
                );
            }
            ensure!(
                changed == step.expect_non_empty_plan,
                "expected {} plan, got:\n{}",
                if step.expect_non_empty_plan {
                    "a non-empty"
                } else {
                    "an empty"
                },
                out.stdout
            );
            return Ok(false);
        }
    }

    let out = h
        .run(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .await?;
    if out.code != 0 {
        return expected_failure(step, &out.combined()).map(|_| true);
    }
    if let Some(re) = &step.expect_output {
        ensure!(
            re.is_match(&out.combined()),
            "the apply output does not match /{re}/:\n{}",
            out.combined()
        );
    }
    if step.expect_error.is_some() {
        bail!(
            "expected an error, but apply succeeded:\n{}",
            out.combined()
        );
    }
    let state = h.state().await?;
    for check in &step.checks {
        check(&state).context("state check")?;
    }
    for refresh in [false, true] {
        let (changed, out) = h.plan_has_changes(h.dir(), refresh).await?;
        ensure!(
            !changed,
            "after apply the {} plan is not empty:\n{}",
            if refresh { "refresh" } else { "non-refresh" },
            out.stdout
        );
    }
    for import in &step.imports {
        check_import(h, step, import, &state)
            .await
            .with_context(|| format!("import of {}", import.address))?;
    }
    if let Some(hook) = &step.after {
        hook(h).await.context("after hook")?;
    }
    Ok(true)
}

fn expected_failure(step: &Step, output: &str) -> Result<()> {
    match &step.expect_error {
        Some(re) if re.is_match(output) => Ok(()),
        Some(re) => bail!("the error does not match /{re}/:\n{output}"),
        None => bail!("terraform failed:\n{output}"),
    }
}

async fn check_import(
    h: &Harness,
    step: &Step,
    import: &ImportCheck,
    applied: &State,
) -> Result<()> {
    let name = format!(
        "import-{}",
        import.address.replace(['.', '[', ']', '"'], "_")
    );
    let dir = h.subdir(&format!("{name}-{:?}", import.via))?;
    let mut got = match import.via {
        ImportVia::Cli => {
            h.write_config_in(&dir, &step.config)?;
            h.run_ok(
                &dir,
                &[
                    "import",
                    "-input=false",
                    "-no-color",
                    &import.address,
                    &import.id,
                ],
            )
            .await?;
            let imported = h.state_in(&dir).await?.values(&import.address)?.clone();
            // The object stays managed by the main work directory; drop it from this state.
            h.run_ok(&dir, &["state", "rm", "-no-color", &import.address])
                .await?;
            imported
        }
        ImportVia::Block => {
            if h.version() < Version(1, 5, 0) {
                eprintln!(
                    "import block check skipped: needs Terraform >= 1.5, running {}",
                    h.version()
                );
                return Ok(());
            }
            // Plan only: the import happens during plan, and the plan must be a no-op for it.
            // (Other resources of the configuration would be created by an apply.)
            let block = format!(
                "{}\n\nimport {{\n  to = {}\n  id = {:?}\n}}\n",
                step.config, import.address, import.id
            );
            h.write_config_in(&dir, &block)?;
            let plan = h.plan_json(&dir).await?;
            let actions = planned_actions(&plan, &import.address)?;
            ensure!(
                actions == ["no-op"],
                "importing should plan no changes, planned {actions:?}"
            );
            planned_change(&plan, &import.address)?["after"].clone()
        }
    };
    let mut want = applied.values(&import.address)?.clone();
    for key in &import.ignore {
        want.as_object_mut().map(|o| o.remove(key));
        got.as_object_mut().map(|o| o.remove(key));
    }
    ensure!(
        want == got,
        "imported state differs from applied state:\n applied:  {want}\n imported: {got}"
    );
    Ok(())
}
