//! Acceptance tests for `momento_cache` and `momento_caches` with the real `terraform`.
use acceptance::{ImportVia, Step, TestCase};
use futures::FutureExt;

fn cache(name: &str) -> String {
    format!("resource \"momento_cache\" \"c\" {{\n  name = \"{name}\"\n}}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_lifecycle() {
    TestCase::new(vec![
        // 1. apply, 2. both plans empty (checked after every apply), 3. import equals applied state.
        Step::new(cache("acc-one"))
            .expect_actions("momento_cache.c", &["create"])
            .check_attr("momento_cache.c", "name", "acc-one")
            .check_attr("momento_cache.c", "id", "acc-one")
            .import("momento_cache.c", "acc-one", ImportVia::Cli)
            .import("momento_cache.c", "acc-one", ImportVia::Block),
        // 4. renaming forces replacement.
        Step::new(cache("acc-two"))
            .expect_actions("momento_cache.c", &["delete", "create"])
            .check_attr("momento_cache.c", "id", "acc-two"),
        // 5. after an out-of-band delete the plan shows a create.
        Step::new(cache("acc-two"))
            .before(|h| {
                async move {
                    h.mock().state().delete_cache("acc-two")?;
                    Ok(())
                }
                .boxed()
            })
            .expect_actions("momento_cache.c", &["create"])
            .plan_only()
            .expect_non_empty_plan(),
        // ... and applying recreates it.
        Step::new(cache("acc-two")).check_attr("momento_cache.c", "id", "acc-two"),
    ])
    // 6. destroy leaves no cache in the mock (checked by the harness after every case).
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_leaves_only_the_new_cache() {
    TestCase::new(vec![Step::new(cache("first")), Step::new(cache("second"))])
        .destroy_check(|h| {
            anyhow::ensure!(!h.mock().state().has_cache("first"));
            Ok(())
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_an_existing_cache_suggests_import() {
    TestCase::new(vec![Step::new(cache("taken"))
        .before(|h| {
            async move {
                h.mock().state().create_cache("taken")?;
                Ok(())
            }
            .boxed()
        })
        .expect_error(r"(?s)Cache already exists.*terraform import")])
    .destroy_check(|h| {
        // The cache was not Terraform's: it must still be there, untouched.
        anyhow::ensure!(
            h.mock().state().has_cache("taken"),
            "a pre-existing cache was deleted"
        );
        h.mock().state().delete_cache("taken")?;
        Ok(())
    })
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_cache_name_fails_at_plan_time_with_its_attribute() {
    // The resource block opens on body line 1 and `name` is on body line 2: a diagnostic that
    // carries the attribute path points at line 2, not at the block.
    let preamble_lines = acceptance::Harness::PREAMBLE_LINES;
    let pattern = format!(
        r#"(?s)Invalid value for name.*on main.tf line {}, in resource "momento_cache" "c".*contains ' '"#,
        preamble_lines + 2
    );
    TestCase::new(vec![Step::new(cache("bad name"))
        .plan_only()
        .expect_error(&pattern)])
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn computed_only_attribute_in_config_is_an_error_naming_it() {
    let config = "resource \"momento_cache\" \"c\" {\n  name = \"x\"\n  id   = \"y\"\n}\n";
    TestCase::new(vec![Step::new(config).plan_only().expect_error(
        r#"(?s)"id".*(set by the provider|decided automatically)"#,
    )])
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caches_data_source_follows_every_page() {
    let mut config = momento_mock::Config::ephemeral();
    config.list_caches_page_size = 2;
    let names = ["p1", "p2", "p3", "p4", "p5"];
    let body: String = names
        .iter()
        .map(|n| format!("resource \"momento_cache\" \"{n}\" {{\n  name = \"{n}\"\n}}\n"))
        .collect::<String>()
        + "data \"momento_caches\" \"all\" {\n  depends_on = [momento_cache.p1, momento_cache.p2, momento_cache.p3, momento_cache.p4, momento_cache.p5]\n}\n";
    TestCase::new(vec![Step::new(body)
        .check_attr("data.momento_caches.all", "names", serde_json::json!(names))
        .import("momento_cache.p5", "p5", ImportVia::Cli)])
    .with_mock(config)
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_fails_fast_naming_the_endpoint_and_cause() {
    let closed = acceptance::momento::closed_port_url();
    let endpoint = closed.trim_end_matches("/hook").to_owned();
    let config = format!(
        "provider \"momento\" {{\n  alias    = \"closed\"\n  endpoint = \"{endpoint}\"\n}}\n\nresource \"momento_cache\" \"c\" {{\n  provider = momento.closed\n  name     = \"unreachable\"\n}}\n"
    );
    let pattern = format!(
        r"(?s)Cannot reach Momento at {}.*(Connection refused|connection refused)",
        regex::escape(&endpoint)
    );
    let started = std::time::Instant::now();
    TestCase::new(vec![Step::new(config).expect_error(&pattern)])
        .run()
        .await;
    // Not a timing test: only a guard against hanging until some long default timeout.
    assert!(started.elapsed() < std::time::Duration::from_secs(120));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_sent_and_v1_keys_unwrapped() {
    use base64::Engine;
    let mut mock = momento_mock::Config::ephemeral();
    mock.auth_token = Some("inner-token-123".into());
    let v1 = base64::engine::general_purpose::STANDARD
        .encode(r#"{"api_key":"inner-token-123","endpoint":"cell.example.com"}"#);
    let with_key = |key: &str| {
        format!(
            "provider \"momento\" {{\n  alias   = \"keyed\"\n  endpoint = \"ENDPOINT\"\n  api_key = \"{key}\"\n}}\n\nresource \"momento_cache\" \"c\" {{\n  provider = momento.keyed\n  name     = \"keyed\"\n}}\n"
        )
    };
    TestCase::new(vec![
        Step::new(with_key("wrong-token")).expect_error(r"(?s)rejected the API key.*api_key"),
        Step::new(with_key(&v1)).check_attr("momento_cache.c", "id", "keyed"),
    ])
    .with_mock(mock)
    .with_endpoint_placeholder("ENDPOINT")
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_known_only_after_apply_is_a_clear_error() {
    let config = "resource \"momento_cache\" \"a\" {\n  name = \"first\"\n}\n\nprovider \"momento\" {\n  alias    = \"late\"\n  endpoint = \"http://${momento_cache.a.id}:1\"\n}\n\nresource \"momento_cache\" \"b\" {\n  provider = momento.late\n  name     = \"second\"\n}\n";
    TestCase::new(vec![Step::new(config).plan_only().expect_error(
        r"(?s)Provider configuration not known yet.*endpoint.*known after apply",
    )])
    .run()
    .await;
}
