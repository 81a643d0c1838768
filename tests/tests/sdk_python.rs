//! Compatibility of `momento-mock` with Momento's official Python SDK (PyPI `momento==1.29.1`):
//! each test starts its own mock and runs one `compat/python/*.py` scenario against it.
//!
//! The SDK lives in `target/sdk/venv`, installed (once per process, only when missing) by
//! `scripts/install-sdks.sh`.
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use acceptance::terraform::workspace_root;
use momento_mock::RunningMock;

/// Generous: scripts run on a loaded 2-core machine; each script has its own waits inside.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// The venv's python, installing the SDKs first when it is missing.
fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let root = workspace_root();
            let python = root.join("target/sdk/venv/bin/python");
            let sdk = root.join("target/sdk/venv/lib");
            if !python.is_file() || !sdk.is_dir() {
                let script = root.join("scripts/install-sdks.sh");
                let out = std::process::Command::new("bash")
                    .arg(&script)
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|e| format!("running {}: {e}", script.display()))?;
                if !out.status.success() {
                    return Err(format!(
                        "{} failed ({}):\n{}",
                        script.display(),
                        out.status,
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
            if python.is_file() {
                Ok(python)
            } else {
                Err(format!(
                    "{} is missing after scripts/install-sdks.sh",
                    python.display()
                ))
            }
        })
        .clone()
        .unwrap_or_else(|e| panic!("the Python SDK is not available: {e}"))
}

async fn start_mock() -> RunningMock {
    momento_mock::start(momento_mock::Config::ephemeral())
        .await
        .expect("the mock starts")
}

/// Runs `compat/python/<script>` with the mock's host and port and asserts it exits 0.
async fn run_script(script: &str) {
    let python = python();
    let mock = start_mock().await;
    let path = workspace_root().join("compat/python").join(script);
    let addr = mock.addr();
    let run = tokio::process::Command::new(&python)
        .arg(&path)
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(SCRIPT_TIMEOUT, run).await;
    mock.shutdown().await;
    let out = match out {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => panic!("running {} {}: {e}", python.display(), path.display()),
        Err(_) => panic!("{script} did not finish within {SCRIPT_TIMEOUT:?}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    assert!(
        stdout.lines().any(|l| l == "PASS"),
        "{script} exited 0 without PASS:\n{stdout}\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_cache_lifecycle() {
    run_script("caches.py").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_topics_publish_subscribe_resume_and_not_found() {
    run_script("topics.py").await;
}
