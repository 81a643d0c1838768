//! Compatibility of `momento-mock` with Momento's official Node.js SDK (npm `@gomomento/sdk@1.118.1`):
//! the `compat/js/*.mjs` scenarios (webhooks, topics) each against their own mock, and the
//! Terraform round trip: webhooks made by the SDK import into Terraform unchanged, and webhooks
//! made by Terraform read back through the SDK with the same URL, topic and secret.
//!
//! The SDK lives in `target/sdk/node/node_modules`, installed (once per process, only when
//! missing) by `scripts/install-sdks.sh`; scripts run with the `node` on `PATH`.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use acceptance::terraform::workspace_root;
use acceptance::Harness;
use anyhow::{bail, ensure, Context as _, Result};
use serde_json::Value as Json;

/// Generous: scripts run on a loaded 2-core machine; each script has its own waits inside.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// The directory holding `node_modules/@gomomento/sdk`, installing the SDKs first when missing.
fn sdk_dir() -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = workspace_root();
        let dir = root.join("target/sdk/node");
        let marker = dir.join("node_modules/@gomomento/sdk/package.json");
        if !marker.is_file() {
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
        if marker.is_file() {
            Ok(dir)
        } else {
            Err(format!(
                "{} is missing after scripts/install-sdks.sh",
                marker.display()
            ))
        }
    })
    .clone()
    .unwrap_or_else(|e| panic!("the Node.js SDK is not available: {e}"))
}

/// What a script printed.
struct ScriptOutput {
    ok: bool,
    status: String,
    stdout: String,
    stderr: String,
}

impl ScriptOutput {
    fn report(&self, what: &str) -> String {
        acceptance::momento::redact_secrets(&format!(
            "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        ))
    }
}

/// Runs `node compat/js/<script> HOST PORT args...`.
async fn node(script: &str, addr: SocketAddr, args: &[&str]) -> Result<ScriptOutput> {
    let dir = sdk_dir();
    let path = workspace_root().join("compat/js").join(script);
    let run = tokio::process::Command::new("node")
        .arg(&path)
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .args(args)
        .env("MOMENTO_JS_SDK_DIR", &dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(SCRIPT_TIMEOUT, run)
        .await
        .with_context(|| format!("{script} did not finish within {SCRIPT_TIMEOUT:?}"))?
        .with_context(|| format!("running node {}", path.display()))?;
    Ok(ScriptOutput {
        ok: out.status.success(),
        status: out.status.to_string(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs a scenario script against a fresh mock and asserts it passes.
async fn run_scenario(script: &str) {
    sdk_dir();
    let mock = momento_mock::start(momento_mock::Config::ephemeral())
        .await
        .expect("the mock starts");
    let out = node(script, mock.addr(), &[]).await;
    mock.shutdown().await;
    let out = out.unwrap_or_else(|e| panic!("{e:#}"));
    assert!(out.ok, "{}", out.report(script));
    assert!(
        out.stdout.lines().any(|l| l == "PASS"),
        "{script} exited 0 without PASS:\n{}",
        out.report(script)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_sdk_webhook_lifecycle() {
    run_scenario("webhooks.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_sdk_topics_publish_subscribe_and_transparent_resume() {
    run_scenario("topics.mjs").await;
}

/// `webhook-cli.mjs`: one line of JSON on success.
async fn webhook_cli(h: &Harness, args: &[&str]) -> Result<Json> {
    let out = node("webhook-cli.mjs", h.mock().addr(), args).await?;
    if !out.ok {
        bail!(
            "{}",
            out.report(&format!("webhook-cli.mjs {}", args.join(" ")))
        );
    }
    serde_json::from_str(out.stdout.trim()).with_context(|| {
        format!(
            "webhook-cli.mjs printed no JSON: {}",
            acceptance::momento::redact_secrets(&out.stdout)
        )
    })
}

fn str_at<'a>(json: &'a Json, key: &str) -> Result<&'a str> {
    json[key]
        .as_str()
        .with_context(|| format!("no string {key:?} in {json}"))
}

const CACHE: &str = "sdk-roundtrip";

fn cache_config() -> String {
    format!("resource \"momento_cache\" \"c\" {{\n  name = \"{CACHE}\"\n}}\n")
}

fn webhook_config(name: &str, topic: &str, url: &str, rotation: Option<&str>) -> String {
    let rotation = rotation
        .map(|r| format!("  secret_rotation = \"{r}\"\n"))
        .unwrap_or_default();
    format!(
        "{}\nresource \"momento_webhook\" \"w\" {{\n  cache_name      = momento_cache.c.name\n  \
         name            = \"{name}\"\n  topic_name      = \"{topic}\"\n  \
         destination_url = \"{url}\"\n{rotation}}}\n",
        cache_config()
    )
}

/// Runs a harness-based test body; on failure, panics with the Terraform transcript.
async fn with_harness<F>(body: F)
where
    F: for<'a> FnOnce(&'a Harness) -> futures::future::BoxFuture<'a, Result<()>>,
{
    sdk_dir();
    let h = Harness::start().await.expect("the harness starts");
    let result = body(&h).await;
    let keep = std::env::var_os(acceptance::harness::KEEP_WORKDIR_ENV).is_some();
    if let Err(e) = &result {
        let report = h.failure_report(e);
        h.finish(keep).await;
        panic!("{report}");
    }
    h.finish(false).await;
}

/// A webhook created by the JS SDK, imported into Terraform, has the SDK's URL, topic and secret,
/// and Terraform then plans no changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_imports_a_webhook_created_by_the_js_sdk() {
    with_harness(|h| {
        Box::pin(async move {
            let url = format!("{}/_mock/sink/from-sdk", h.endpoint());
            // The cache is Terraform's; the webhook is the SDK's.
            h.write_config(&cache_config())?;
            h.apply().await?;
            let created = webhook_cli(h, &["create", CACHE, "sdk-made", "sdk-topic", &url]).await?;
            let secret = str_at(&created, "secret")?.to_owned();
            ensure!(!secret.is_empty(), "the SDK got an empty secret");

            h.write_config(&webhook_config("sdk-made", "sdk-topic", &url, None))?;
            h.run_ok(
                h.dir(),
                &[
                    "import",
                    "-input=false",
                    "-no-color",
                    "momento_webhook.w",
                    &format!("{CACHE}/sdk-made"),
                ],
            )
            .await?;
            let state = h.state().await?;
            for (attr, want) in [
                ("destination_url", url.as_str()),
                ("topic_name", "sdk-topic"),
                ("secret", secret.as_str()),
                ("cache_name", CACHE),
                ("name", "sdk-made"),
            ] {
                let got = state.attr("momento_webhook.w", attr)?;
                ensure!(
                    got == want,
                    "imported {attr} is {got}, the SDK created {want:?}"
                );
            }
            let (changed, plan) = h.plan_has_changes(h.dir(), true).await?;
            ensure!(
                !changed,
                "after importing the SDK's webhook the plan is not empty:\n{}",
                plan.stdout
            );

            // The SDK still sees the same webhook and secret.
            let shown = webhook_cli(h, &["show", CACHE, "sdk-made"]).await?;
            ensure!(
                str_at(&shown, "secret")? == secret,
                "the secret changed: {shown}"
            );

            h.destroy().await?;
            let left = h.mock().state().cache_names();
            ensure!(left.is_empty(), "after destroy the mock holds {left:?}");
            Ok(())
        })
    })
    .await;
}

/// A webhook created (and rotated) by `terraform apply` is seen by the SDK: listWebhooks shows its
/// URL and topic, getWebhookSecret equals the `secret` in `terraform show -json`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_sdk_sees_a_webhook_created_by_terraform() {
    with_harness(|h| {
        Box::pin(async move {
            let url = format!("{}/_mock/sink/from-terraform", h.endpoint());
            let expect_seen = |shown: &Json, secret: &str| -> Result<()> {
                let hooks = shown["webhooks"].as_array().context("no webhooks array")?;
                ensure!(
                    hooks.len() == 1,
                    "listWebhooks shows {} webhooks: {shown}",
                    hooks.len()
                );
                let w = &hooks[0];
                ensure!(
                    str_at(w, "cache")? == CACHE
                        && str_at(w, "name")? == "tf-made"
                        && str_at(w, "topic")? == "tf-topic"
                        && str_at(w, "url")? == url,
                    "listWebhooks shows {w}, Terraform created {CACHE}/tf-made on tf-topic to {url}"
                );
                ensure!(
                    str_at(shown, "secret")? == secret,
                    "getWebhookSecret is {}, terraform show -json has {secret:?}",
                    shown["secret"]
                );
                Ok(())
            };

            h.write_config(&webhook_config("tf-made", "tf-topic", &url, None))?;
            h.apply().await?;
            let secret = h
                .state()
                .await?
                .attr("momento_webhook.w", "secret")?
                .as_str()
                .context("secret is a string")?
                .to_owned();
            ensure!(!secret.is_empty(), "terraform recorded an empty secret");
            let shown = webhook_cli(h, &["show", CACHE, "tf-made"]).await?;
            expect_seen(&shown, &secret)?;

            // A rotation through Terraform is what the SDK then reads.
            h.write_config(&webhook_config("tf-made", "tf-topic", &url, Some("r1")))?;
            h.apply().await?;
            let rotated = h
                .state()
                .await?
                .attr("momento_webhook.w", "secret")?
                .as_str()
                .context("secret is a string")?
                .to_owned();
            ensure!(
                rotated != secret,
                "changing secret_rotation kept the secret"
            );
            let shown = webhook_cli(h, &["show", CACHE, "tf-made"]).await?;
            expect_seen(&shown, &rotated)?;

            h.destroy().await?;
            let left = h.mock().state().cache_names();
            ensure!(left.is_empty(), "after destroy the mock holds {left:?}");
            Ok(())
        })
    })
    .await;
}
