//! Every example under `examples/` that the docs show is valid against the provider's schemas:
//! `terraform validate` with the real `terraform` and the in-process provider.
use std::path::{Path, PathBuf};

use acceptance::{terraform::workspace_root, Harness, Version};
use anyhow::{ensure, Context as _, Result};

fn example_files() -> Vec<PathBuf> {
    let root = workspace_root().join("examples");
    let mut files = Vec::new();
    for kind in ["resources", "data-sources", "ephemeral-resources"] {
        let Ok(dirs) = std::fs::read_dir(root.join(kind)) else {
            continue;
        };
        for dir in dirs.flatten() {
            for file in std::fs::read_dir(dir.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if file.path().extension().is_some_and(|e| e == "tf") {
                    files.push(file.path());
                }
            }
        }
    }
    files.sort();
    files
}

async fn validate(h: &Harness, file: &Path) -> Result<()> {
    let name = file
        .strip_prefix(workspace_root())?
        .to_string_lossy()
        .replace('/', "_");
    let dir = h.subdir(&name)?;
    let body = std::fs::read_to_string(file)?;
    h.write_config_in(&dir, &body)?;
    let out = h.run_ok(&dir, &["validate", "-no-color"]).await;
    out.with_context(|| format!("{} is not valid", file.display()))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_validate() {
    let h = Harness::start().await.expect("test environment");
    let files = example_files();
    let result = async {
        ensure!(
            files.len() >= 7,
            "expected the registry examples, found {files:?}"
        );
        for file in &files {
            if file.to_string_lossy().contains("ephemeral-resources")
                && h.version() < Version(1, 10, 0)
            {
                eprintln!(
                    "{} skipped: ephemeral resources need Terraform >= 1.10",
                    file.display()
                );
                continue;
            }
            validate(&h, file).await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = &result {
        let report = h.failure_report(e);
        h.finish(false).await;
        panic!("{report}");
    }
    h.finish(false).await;
}
