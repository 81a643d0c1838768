//! Acceptance tests for topics and webhooks with the real `terraform`: every published message
//! reaches every webhook's receiver as a signed POST, exactly as Momento sends it.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acceptance::momento::{closed_port_url, subscribe};
use acceptance::{
    planned_actions, verify_signature, DeliveryFilter, Harness, ImportVia, Receiver, Step, TestCase,
};
use anyhow::{ensure, Context as _, Result};
use futures::FutureExt;
use serde_json::Value as Json;

const WAIT: Duration = Duration::from_secs(30);

fn config(url_a: &str, url_b: Option<&str>, rotation: Option<&str>) -> String {
    let rotation = rotation
        .map(|r| format!("  secret_rotation = \"{r}\"\n"))
        .unwrap_or_default();
    let mut c = format!(
        r#"resource "momento_cache" "c" {{
  name = "hooks"
}}

resource "momento_topic" "t" {{
  cache_name = momento_cache.c.name
  name       = "events"
}}

resource "momento_webhook" "a" {{
  cache_name      = momento_cache.c.name
  name            = "a"
  topic_name      = momento_topic.t.name
  destination_url = "{url_a}"
{rotation}}}
"#
    );
    if let Some(url_b) = url_b {
        c += &format!(
            r#"
resource "momento_webhook" "b" {{
  cache_name      = momento_cache.c.name
  name            = "b"
  topic_name      = momento_topic.t.name
  destination_url = "{url_b}"
}}
"#
        );
    }
    c
}

/// Applies again and asserts that the `secret_matches` check block passed (apply only warns when
/// a check fails).
async fn secret_check_passes(h: &Harness) -> Result<()> {
    let out = h
        .run(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .await?;
    ensure!(
        out.code == 0 && !out.combined().contains("secret differs"),
        "{}",
        out.combined()
    );
    Ok(())
}

async fn secret_of(h: &Harness, address: &str) -> Result<String> {
    let state = h.state().await?;
    Ok(state
        .attr(address, "secret")?
        .as_str()
        .context("secret is a string")?
        .to_owned())
}

/// Checks the requests a receiver got: exact body shape and key order, and signatures that verify
/// with `secret`; returns the texts in arrival order.
async fn received_texts(r: &Receiver, secret: &str) -> Result<Vec<String>> {
    // Momento's exact shape and key order (serde_json's map sorts keys: check the raw body).
    let shape = regex::Regex::new(
        r#"^\{"cache":"hooks","topic":"events","event_timestamp":\d+,"publish_timestamp":\d+,"topic_sequence_number":\d+,"token_id":"[^"]*","text":".*"\}$"#,
    )?;
    let mut texts = Vec::new();
    for req in r.requests().await {
        let body = String::from_utf8(req.body.clone())?;
        let sig = req
            .headers
            .get("momento-signature")
            .context("no momento-signature header")?
            .to_str()?;
        ensure!(
            verify_signature(secret, body.as_bytes(), sig),
            "signature does not verify with Terraform's secret: {body}"
        );
        ensure!(
            req.headers.get("content-type").map(|v| v.as_bytes())
                == Some(b"application/json".as_slice()),
            "content-type is not application/json"
        );
        ensure!(
            req.headers.get("user-agent").map(|v| v.as_bytes())
                == Some(
                    b"Momento/1.0 (Webhooks; +https://docs.momentohq.com/topics/webhooks)"
                        .as_slice()
                ),
            "wrong user-agent"
        );
        let json: Json = serde_json::from_str(&body)?;
        ensure!(
            shape.is_match(&body),
            "body is not Momento's shape and key order: {body}"
        );
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as i64;
        let published = json["publish_timestamp"]
            .as_i64()
            .context("publish_timestamp")?;
        ensure!(
            now_ms - published < 60_000,
            "publish_timestamp is not fresh: {body}"
        );
        ensure!(
            json["event_timestamp"].as_i64() <= Some(published),
            "event after publish: {body}"
        );
        texts.push(json["text"].as_str().context("text")?.to_owned());
    }
    Ok(texts)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_receive_every_message_signed() {
    let (r1, r2, r3) = (
        Arc::new(Receiver::answering(204).await),
        Arc::new(Receiver::answering(200).await),
        Arc::new(Receiver::answering(202).await),
    );
    let first_secret = Arc::new(Mutex::new(String::new()));

    let step1 = {
        let (r1, r2, first_secret) = (r1.clone(), r2.clone(), first_secret.clone());
        Step::new(config(&r1.url(), Some(&r2.url()), None))
            .check_attr("momento_topic.t", "id", "hooks/events")
            .check_attr("momento_webhook.a", "id", "hooks/a")
            .check_attr("momento_webhook.a", "destination_url", r1.url())
            .import_ignoring(
                "momento_webhook.a",
                "hooks/a",
                ImportVia::Cli,
                &["secret_rotation"],
            )
            .import("momento_topic.t", "hooks/events", ImportVia::Block)
            .after(move |h| {
                let (r1, r2, first_secret) = (r1.clone(), r2.clone(), first_secret.clone());
                async move {
                    let mut sub = subscribe(&h.endpoint(), "hooks", "events").await?;
                    h.publish_grpc("hooks", "events", "one via gRPC").await?;
                    ensure!(h.publish_http("hooks", "events", "two via HTTP").await? == 204);
                    h.wait_for_deliveries(
                        &DeliveryFilter::webhook("a").outcome("delivered"),
                        2,
                        WAIT,
                    )
                    .await?;
                    h.wait_for_deliveries(
                        &DeliveryFilter::webhook("b").outcome("delivered"),
                        2,
                        WAIT,
                    )
                    .await?;
                    let (sa, sb) = (
                        secret_of(h, "momento_webhook.a").await?,
                        secret_of(h, "momento_webhook.b").await?,
                    );
                    ensure!(sa != sb, "two webhooks share a secret");
                    let want = vec!["one via gRPC".to_owned(), "two via HTTP".to_owned()];
                    ensure!(sorted(received_texts(&r1, &sa).await?) == want);
                    ensure!(sorted(received_texts(&r2, &sb).await?) == want);
                    // A gRPC subscriber sees the same messages, numbered 1 and 2.
                    let mut seen = Vec::new();
                    while seen.len() < 2 {
                        let item = tokio::time::timeout(WAIT, futures::StreamExt::next(&mut sub))
                            .await
                            .context("subscriber got nothing")?
                            .context("subscription ended")??;
                        use momento_protos::cache_client::pubsub::subscription_item::Kind;
                        if let Some(Kind::Item(item)) = item.kind {
                            seen.push(item.topic_sequence_number);
                        }
                    }
                    ensure!(seen == [1, 2], "subscriber saw sequence numbers {seen:?}");
                    *first_secret.lock().unwrap() = sa;
                    Ok(())
                }
                .boxed()
            })
    };

    // destination_url changes in place; later messages go to the new URL; the secret is unchanged.
    let step2 = {
        let (r1, r3, first_secret) = (r1.clone(), r3.clone(), first_secret.clone());
        Step::new(config(&r3.url(), Some(&r2.url()), None))
            .expect_actions("momento_webhook.a", &["update"])
            .after(move |h| {
                let (r1, r3, first_secret) = (r1.clone(), r3.clone(), first_secret.clone());
                async move {
                    let secret = secret_of(h, "momento_webhook.a").await?;
                    ensure!(
                        secret == *first_secret.lock().unwrap(),
                        "the secret changed on a URL update"
                    );
                    h.publish_grpc("hooks", "events", "three").await?;
                    h.wait_for_deliveries(
                        &DeliveryFilter::webhook("a").outcome("delivered"),
                        3,
                        WAIT,
                    )
                    .await?;
                    ensure!(received_texts(&r3, &secret).await? == ["three"]);
                    ensure!(
                        r1.requests().await.len() == 2,
                        "the old URL still gets deliveries"
                    );
                    Ok(())
                }
                .boxed()
            })
    };

    // Rotation: the new secret verifies, the old one fails.
    let step3 = {
        let (r3, first_secret) = (r3.clone(), first_secret.clone());
        Step::new(config(&r3.url(), Some(&r2.url()), Some("2026-11")))
            .expect_actions("momento_webhook.a", &["update"])
            .after(move |h| {
                let (r3, first_secret) = (r3.clone(), first_secret.clone());
                async move {
                    let old = first_secret.lock().unwrap().clone();
                    let new = secret_of(h, "momento_webhook.a").await?;
                    ensure!(new != old, "rotation kept the old secret");
                    h.publish_grpc("hooks", "events", "four").await?;
                    h.wait_for_deliveries(
                        &DeliveryFilter::webhook("a").outcome("delivered"),
                        4,
                        WAIT,
                    )
                    .await?;
                    let last = r3.requests().await.pop().context("no delivery")?;
                    let sig = last
                        .headers
                        .get("momento-signature")
                        .context("no signature")?
                        .to_str()?
                        .to_owned();
                    ensure!(
                        verify_signature(&new, &last.body, &sig),
                        "new secret does not verify"
                    );
                    ensure!(
                        !verify_signature(&old, &last.body, &sig),
                        "old secret still verifies"
                    );
                    Ok(())
                }
                .boxed()
            })
    };

    // Deleting a webhook: no more POSTs reach its URL.
    let step4 = {
        let (r2, r3) = (r2.clone(), r3.clone());
        Step::new(config(&r3.url(), None, Some("2026-11")))
            .expect_actions("momento_webhook.b", &["delete"])
            .after(move |h| {
                let (r2, r3) = (r2.clone(), r3.clone());
                async move {
                    let before = r2.requests().await.len();
                    h.publish_grpc("hooks", "events", "five").await?;
                    h.wait_for_deliveries(
                        &DeliveryFilter::webhook("a").outcome("delivered"),
                        5,
                        WAIT,
                    )
                    .await?;
                    ensure!(r3.requests().await.len() == 3);
                    ensure!(
                        r2.requests().await.len() == before,
                        "a deleted webhook still receives POSTs"
                    );
                    Ok(())
                }
                .boxed()
            })
    };

    TestCase::new(vec![step1, step2, step3, step4]).run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_receivers_are_journaled_and_never_slow_publishing() {
    let failing = Receiver::answering(500).await;
    let silent = Receiver::never_answering().await;
    let closed = closed_port_url();
    let mut mock = momento_mock::Config::ephemeral();
    mock.delivery_timeout = Duration::from_secs(2);
    let hooks = [
        ("failing", failing.url()),
        ("silent", silent.url()),
        ("closed", closed),
    ];
    let mut body = "resource \"momento_cache\" \"c\" {\n  name = \"hooks\"\n}\n".to_owned();
    for (name, url) in &hooks {
        body += &format!(
            "resource \"momento_webhook\" \"{name}\" {{\n  cache_name = momento_cache.c.name\n  name = \"{name}\"\n  topic_name = \"events\"\n  destination_url = \"{url}\"\n}}\n"
        );
    }
    let step = Step::new(body).after(|h| {
        async move {
            for i in 0..20 {
                h.publish_grpc("hooks", "events", &format!("m{i}")).await?;
            }
            // All 20 publishes returned while the silent receiver still holds its first requests:
            // publishing never waits for a delivery.
            let journal = h
                .wait_for_deliveries(&DeliveryFilter::webhook("silent"), 0, Duration::ZERO)
                .await?;
            ensure!(
                journal.iter().all(|e| e["error"] != "timeout"),
                "publishing waited for the silent receiver: {journal:?}"
            );
            let failed = h
                .wait_for_deliveries(
                    &DeliveryFilter::webhook("failing").outcome("failed"),
                    20,
                    WAIT,
                )
                .await?;
            ensure!(failed.iter().all(|e| e["status"] == 500), "{failed:?}");
            let timeouts = h
                .wait_for_deliveries(
                    &DeliveryFilter::webhook("silent").outcome("failed"),
                    20,
                    WAIT,
                )
                .await?;
            ensure!(
                timeouts.iter().all(|e| e["error"] == "timeout"),
                "{timeouts:?}"
            );
            let refused = h
                .wait_for_deliveries(
                    &DeliveryFilter::webhook("closed").outcome("failed"),
                    20,
                    WAIT,
                )
                .await?;
            ensure!(
                refused.iter().all(|e| e["error"] == "connect"),
                "{refused:?}"
            );
            Ok(())
        }
        .boxed()
    });
    TestCase::new(vec![step]).with_mock(mock).run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_topics_and_size_limit_errors() {
    let r = Receiver::answering(204).await;
    let mut mock = momento_mock::Config::ephemeral();
    mock.strict_topics = true;
    let undeclared = format!(
        "resource \"momento_cache\" \"c\" {{\n  name = \"strict\"\n}}\nresource \"momento_webhook\" \"w\" {{\n  cache_name = momento_cache.c.name\n  name = \"w\"\n  topic_name = \"nowhere\"\n  destination_url = \"{}\"\n}}\n",
        r.url()
    );
    let declared = format!(
        "resource \"momento_cache\" \"c\" {{\n  name = \"strict\"\n}}\nresource \"momento_topic\" \"t\" {{\n  cache_name = momento_cache.c.name\n  name = \"declared\"\n}}\nresource \"momento_webhook\" \"w\" {{\n  cache_name = momento_cache.c.name\n  name = \"w\"\n  topic_name = momento_topic.t.name\n  destination_url = \"{}\"\n}}\n",
        r.url()
    );
    TestCase::new(vec![
        Step::new(undeclared).expect_error(r"(?s)--strict-topics"),
        Step::new(declared).after(|h| {
            async move {
                let err = h
                    .publish_grpc("strict", "nowhere", "x")
                    .await
                    .expect_err("undeclared topic accepted");
                ensure!(
                    err.code() == tonic::Code::NotFound
                        && err.message().contains("--strict-topics"),
                    "{err:?}"
                );
                h.publish_grpc("strict", "declared", "ok").await?;
                let big = "x".repeat(5000);
                let err = h
                    .publish_grpc("strict", "declared", &big)
                    .await
                    .expect_err("oversized message accepted");
                ensure!(err.code() == tonic::Code::ResourceExhausted, "{err:?}");
                ensure!(
                    err.metadata().get("err").and_then(|v| v.to_str().ok())
                        == Some("request_size_limit_exceeded"),
                    "no err metadata: {err:?}"
                );
                ensure!(err.message().contains("--max-message-bytes"), "{err:?}");
                ensure!(h.publish_http("strict", "declared", &big).await? == 429);
                ensure!(h.publish_http("missing-cache", "declared", "x").await? == 404);
                Ok(())
            }
            .boxed()
        }),
    ])
    .with_mock(mock)
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_band_webhook_changes_show_in_the_next_plan() {
    let r = Receiver::answering(204).await;
    let body = format!(
        "resource \"momento_cache\" \"c\" {{\n  name = \"drift\"\n}}\nresource \"momento_webhook\" \"w\" {{\n  cache_name = momento_cache.c.name\n  name = \"w\"\n  topic_name = \"t\"\n  destination_url = \"{}\"\n}}\n",
        r.url()
    );
    TestCase::new(vec![
        Step::new(body.clone()),
        Step::new(body.clone())
            .before(|h| {
                async move {
                    let mut client = webhook_client(h).await?;
                    client
                        .put_webhook(put(
                            "drift",
                            "w",
                            "other-topic",
                            "http://127.0.0.1:9/elsewhere",
                        ))
                        .await?;
                    Ok(())
                }
                .boxed()
            })
            .expect_actions("momento_webhook.w", &["update"])
            .plan_only()
            .expect_non_empty_plan(),
        Step::new(body.clone()),
        Step::new(body)
            .before(|h| {
                async move {
                    let mut client = webhook_client(h).await?;
                    client
                        .delete_webhook(momento_wire::webhook::DeleteWebhookRequest {
                            webhook_id: Some(momento_wire::webhook::WebhookId {
                                cache_name: "drift".into(),
                                webhook_name: "w".into(),
                            }),
                        })
                        .await?;
                    Ok(())
                }
                .boxed()
            })
            .expect_actions("momento_webhook.w", &["create"])
            .plan_only()
            .expect_non_empty_plan(),
    ])
    .run()
    .await;
}

/// Terraform refreshes topics ten at a time and the provider shares calls between reads of one
/// cache that run together: the topics deleted out of band, and only those, are planned again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_band_topic_deletions_show_in_the_next_plan() {
    const GONE: [usize; 3] = [3, 17, 38];
    let body = "resource \"momento_cache\" \"c\" {\n  name = \"many\"\n}\nresource \"momento_topic\" \"t\" {\n  count      = 40\n  cache_name = momento_cache.c.name\n  name       = \"t${count.index}\"\n}\n";
    TestCase::new(vec![
        Step::new(body),
        Step::new(body)
            .before(|h| {
                async move {
                    for i in GONE {
                        h.mock().topics().delete_topic("many", &format!("t{i}"))?;
                    }
                    Ok(())
                }
                .boxed()
            })
            .plan_check(|plan| {
                for i in 0..40 {
                    let actions = planned_actions(plan, &format!("momento_topic.t[{i}]"))?;
                    let expected = if GONE.contains(&i) { "create" } else { "no-op" };
                    ensure!(actions == [expected], "momento_topic.t[{i}]: {actions:?}");
                }
                Ok(())
            })
            .plan_only()
            .expect_non_empty_plan(),
    ])
    .run()
    .await;
}

async fn webhook_client(
    h: &Harness,
) -> Result<momento_wire::webhook::webhook_client::WebhookClient<tonic::transport::Channel>> {
    Ok(momento_wire::webhook::webhook_client::WebhookClient::connect(h.endpoint()).await?)
}

fn put(
    cache: &str,
    name: &str,
    topic: &str,
    url: &str,
) -> momento_wire::webhook::PutWebhookRequest {
    use momento_wire::webhook as pb;
    pb::PutWebhookRequest {
        webhook: Some(pb::Webhook {
            webhook_id: Some(pb::WebhookId {
                cache_name: cache.into(),
                webhook_name: name.into(),
            }),
            topic_name: topic.into(),
            destination: Some(pb::WebhookDestination {
                kind: Some(pb::webhook_destination::Kind::PostUrl(url.into())),
            }),
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_webhook_fields_fail_at_plan_time_with_their_paths() {
    let long = "w".repeat(129);
    let body = format!(
        "resource \"momento_webhook\" \"w\" {{\n  cache_name = \"c\"\n  name = \"{long}\"\n  topic_name = \"t\"\n  destination_url = \"ftp://example.com/x\"\n}}\n"
    );
    let line = Harness::PREAMBLE_LINES;
    let pattern = format!(
        r#"(?s)Invalid value for name.*line {}.*129 characters.*Invalid value for destination_url.*line {}.*http://"#,
        line + 3,
        line + 5
    );
    TestCase::new(vec![Step::new(body).plan_only().expect_error(&pattern)])
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_webhook_secret_matches_without_being_stored() {
    let r = Receiver::answering(204).await;
    let base = format!(
        "resource \"momento_cache\" \"c\" {{\n  name = \"eph\"\n}}\nresource \"momento_webhook\" \"w\" {{\n  cache_name = momento_cache.c.name\n  name = \"w\"\n  topic_name = \"t\"\n  destination_url = \"{}\"\n}}\n",
        r.url()
    );
    let with_ephemeral = |webhook: &str| {
        format!(
            "{base}\nephemeral \"momento_webhook_secret\" \"s\" {{\n  cache_name   = momento_cache.c.name\n  webhook_name = {webhook}\n}}\n\ncheck \"secret_matches\" {{\n  assert {{\n    condition     = ephemeral.momento_webhook_secret.s.secret == momento_webhook.w.secret\n    error_message = \"the ephemeral secret differs from the webhook's\"\n  }}\n}}\n"
        )
    };
    let ephemeral_needs = acceptance::Version(1, 10, 0);
    TestCase::new(vec![
        Step::new(base.clone()),
        Step::new(with_ephemeral("momento_webhook.w.name"))
            .min_version(ephemeral_needs)
            .check(|state| {
                ensure!(
                    !state.0.to_string().contains("momento_webhook_secret"),
                    "the ephemeral resource reached the state"
                );
                Ok(())
            })
            .after(|h| {
                async move {
                    secret_check_passes(h).await?;
                    let state_file = std::fs::read_to_string(h.dir().join("terraform.tfstate"))?;
                    let secret = secret_of(h, "momento_webhook.w").await?;
                    ensure!(
                        state_file.matches(&secret).count() == 1,
                        "the secret is stored more than once (only the webhook should hold it)"
                    );
                    Ok(())
                }
                .boxed()
            }),
        Step::new(with_ephemeral("\"missing\""))
            .min_version(ephemeral_needs)
            .expect_error(r"(?s)Webhook not found.*missing"),
    ])
    .run()
    .await;
}

/// A configuration that creates a webhook and reads its secret in the same run: by
/// `webhook_id`, which is known only after the webhook exists, so Terraform opens the secret after
/// creating it. By name, Terraform opens it at plan time, and the error says what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_webhook_secret_of_a_webhook_created_in_the_same_run() {
    let r = Receiver::answering(204).await;
    let config = |reference: &str| {
        format!(
            "resource \"momento_cache\" \"c\" {{\n  name = \"eph\"\n}}\nresource \"momento_webhook\" \"w\" {{\n  cache_name = momento_cache.c.name\n  name = \"w\"\n  topic_name = \"t\"\n  destination_url = \"{}\"\n}}\nephemeral \"momento_webhook_secret\" \"s\" {{\n  {reference}\n}}\n\ncheck \"secret_matches\" {{\n  assert {{\n    condition     = ephemeral.momento_webhook_secret.s.secret == momento_webhook.w.secret\n    error_message = \"the ephemeral secret differs from the webhook's\"\n  }}\n}}\n",
            r.url()
        )
    };
    let ephemeral_needs = acceptance::Version(1, 10, 0);
    TestCase::new(vec![
        Step::new(config("cache_name = \"eph\"\n  webhook_name = \"w\""))
            .min_version(ephemeral_needs)
            .expect_error(r"(?s)Webhook not found.*before the webhook existed.*webhook_id"),
        Step::new(config("webhook_id = momento_webhook.w.id"))
            .min_version(ephemeral_needs)
            .expect_output(
                r"(?s)momento_webhook\.w: Creation complete.*ephemeral\.momento_webhook_secret\.s: Opening complete",
            )
            .check_attr("momento_webhook.w", "id", "eph/w")
            .after(|h| secret_check_passes(h).boxed()),
        Step::new(config("webhook_id = \"eph/w\"\n  cache_name = \"eph\""))
            .min_version(ephemeral_needs)
            .expect_error(r"(?s)Conflicting webhook references.*not both"),
        Step::new(config("cache_name = \"eph\""))
            .min_version(ephemeral_needs)
            .expect_error(r"(?s)Which webhook\?.*Set webhook_name"),
        Step::new(config("webhook_id = \"no-slash\""))
            .min_version(ephemeral_needs)
            .expect_error(r"(?s)webhook_id.*<cache name>/<webhook name>"),
    ])
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_are_state_only_without_the_topic_extension() {
    // Like real Momento: no topic RPCs at all.
    let mut mock = momento_mock::Config::ephemeral();
    mock.topic_extension = false;
    let body = "resource \"momento_cache\" \"c\" {\n  name = \"plain\"\n}\nresource \"momento_topic\" \"t\" {\n  cache_name = momento_cache.c.name\n  name       = \"events\"\n}\n";
    TestCase::new(vec![Step::new(body)
        .expect_output(r"(?s)Warning: Topic kept in Terraform state only.*does not offer momento-mock's\s+topic\s+extension")
        .check_attr("momento_topic.t", "id", "plain/events")
        .import("momento_topic.t", "plain/events", ImportVia::Cli)
        .after(|h| {
            async move {
                // Publishing still works: topics are implicit.
                h.publish_grpc("plain", "events", "hi").await?;
                Ok(())
            }
            .boxed()
        })])
    .with_mock(mock)
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_and_topics_data_sources_list_the_cache() {
    let body = r#"resource "momento_cache" "c" {
  name = "listed"
}
resource "momento_topic" "t" {
  for_each   = toset(["beta", "alpha"])
  cache_name = momento_cache.c.name
  name       = each.key
}
resource "momento_webhook" "w" {
  for_each        = { zed = "https://z.example.com/h", amy = "https://a.example.com/h" }
  cache_name      = momento_cache.c.name
  name            = each.key
  topic_name      = "alpha"
  destination_url = each.value
}
data "momento_webhooks" "all" {
  cache_name = momento_cache.c.name
  depends_on = [momento_webhook.w]
}
data "momento_topics" "all" {
  cache_name = momento_cache.c.name
  depends_on = [momento_topic.t]
}
"#;
    TestCase::new(vec![Step::new(body)
        .check_attr(
            "data.momento_webhooks.all",
            "webhooks",
            serde_json::json!([
                {"name": "amy", "topic_name": "alpha", "destination_url": "https://a.example.com/h"},
                {"name": "zed", "topic_name": "alpha", "destination_url": "https://z.example.com/h"},
            ]),
        )
        .check_attr("data.momento_topics.all", "names", serde_json::json!(["alpha", "beta"]))])
    .run()
    .await;
}
