//! Finding and running the real `terraform` CLI: `TF_ACC_TERRAFORM_PATH`, then `terraform` on
//! `PATH`, else the project's own PyPI-provisioned copy (`scripts/install-terraform.sh`).
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{bail, Context as _, Result};

/// A Terraform version, e.g. 1.15.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Reads `1.2.3` (a leading `v` and a `-suffix` are ignored).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().trim_start_matches('v');
        let s = s.split(['-', '+']).next()?;
        let mut parts = s.split('.').map(|p| p.parse::<u32>().ok());
        Some(Self(
            parts.next()??,
            parts.next()??,
            parts.next().flatten().unwrap_or(0),
        ))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// A located Terraform CLI.
#[derive(Clone, Debug)]
pub struct TerraformBinary {
    pub path: PathBuf,
    pub version: Version,
}

/// The version the project provisions when no Terraform is found.
pub const PROVISIONED_VERSION: &str = "1.15.5";

/// The workspace root (where `scripts/` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The Terraform CLI the tests use, located once per process.
pub fn terraform() -> Result<&'static TerraformBinary> {
    static FOUND: OnceLock<std::result::Result<TerraformBinary, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| locate().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

fn locate() -> Result<TerraformBinary> {
    if let Some(path) = std::env::var_os("TF_ACC_TERRAFORM_PATH").filter(|p| !p.is_empty()) {
        return probe(Path::new(&path))
            .context("TF_ACC_TERRAFORM_PATH does not name a working terraform");
    }
    if let Some(path) = which("terraform") {
        return probe(&path);
    }
    let script = workspace_root().join("scripts/install-terraform.sh");
    eprintln!(
        "no terraform found: provisioning Terraform {PROVISIONED_VERSION} with {}",
        script.display()
    );
    let out = Command::new("bash")
        .arg(&script)
        .arg(PROVISIONED_VERSION)
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "no terraform on PATH, TF_ACC_TERRAFORM_PATH unset, and {} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let path = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned();
    probe(Path::new(&path))
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Runs `terraform version -json` to learn the version.
pub fn probe(path: &Path) -> Result<TerraformBinary> {
    let out = Command::new(path)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .with_context(|| format!("running {} version", path.display()))?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{} version -json printed no JSON", path.display()))?;
    let version = json["terraform_version"]
        .as_str()
        .and_then(Version::parse)
        .with_context(|| format!("{} version -json has no terraform_version", path.display()))?;
    Ok(TerraformBinary {
        path: path.to_path_buf(),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(Version::parse("v1.15.5"), Some(Version(1, 15, 5)));
        assert_eq!(Version::parse("1.10.0-beta1"), Some(Version(1, 10, 0)));
        assert!(Version::parse("1.0.3").unwrap() < Version::parse("1.11.4").unwrap());
        assert_eq!(Version::parse("x"), None);
    }
}
