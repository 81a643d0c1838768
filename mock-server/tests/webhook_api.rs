//! `webhook.Webhook` through the generated client: put (create and update, keeping the secret),
//! list, get and rotate the secret, delete, validation errors, NOT_FOUND, the per-cache limit,
//! `--strict-topics`, and cache deletion removing webhooks.

mod common;
mod webhook_support;

use common::{start_mock, start_mock_with, within};
use momento_mock::proto::webhook::{GetWebhookSecretRequest, ListWebhookRequest, Webhook};
use momento_mock::webhooks::secret::{SECRET_LEN, SECRET_PREFIX};
use momento_mock::Config;
use momento_protos::control_client::scs_control_client::ScsControlClient;
use momento_protos::control_client::DeleteCacheRequest;
use tonic::Code;
use webhook_support::{client, delete, put, put_webhook, rotate, webhook, Client};

async fn get_secret(client: &mut Client, cache: &str, name: &str) -> Result<String, tonic::Status> {
    within(
        "GetWebhookSecret",
        client.get_webhook_secret(GetWebhookSecretRequest {
            cache_name: cache.into(),
            webhook_name: name.into(),
        }),
    )
    .await
    .map(|r| {
        let r = r.into_inner();
        assert_eq!(
            (r.cache_name.as_str(), r.webhook_name.as_str()),
            (cache, name)
        );
        r.secret_string
    })
}

async fn list(client: &mut Client, cache: &str) -> Result<Vec<Webhook>, tonic::Status> {
    within(
        "ListWebhooks",
        client.list_webhooks(ListWebhookRequest {
            cache_name: cache.into(),
        }),
    )
    .await
    .map(|r| r.into_inner().webhook)
}

fn names(hooks: &[Webhook]) -> Vec<String> {
    hooks
        .iter()
        .map(|w| w.webhook_id.as_ref().unwrap().webhook_name.clone())
        .collect()
}

#[tokio::test]
async fn put_list_get_rotate_delete() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let mut c = client(&mock).await;

    let secret = put(&mut c, "c", "orders", "t1", "http://127.0.0.1:9/a")
        .await
        .unwrap();
    assert!(secret.starts_with(SECRET_PREFIX), "{secret}");
    assert_eq!(secret.len(), SECRET_LEN);
    // Destinations are kept exactly as given (no normalising slash), so configs see no drift.
    let other = put(&mut c, "c", "audit", "t2", "https://example.com")
        .await
        .unwrap();
    assert_ne!(secret, other);

    let listed = list(&mut c, "c").await.unwrap();
    assert_eq!(names(&listed), ["audit", "orders"]);
    assert_eq!(
        listed[1],
        webhook("c", "orders", "t1", Some("http://127.0.0.1:9/a"))
    );
    assert_eq!(
        listed[0],
        webhook("c", "audit", "t2", Some("https://example.com"))
    );

    assert_eq!(get_secret(&mut c, "c", "orders").await.unwrap(), secret);

    // Update: new topic and destination, same secret.
    let again = put(&mut c, "c", "orders", "t3", "http://127.0.0.1:9/new")
        .await
        .unwrap();
    assert_eq!(again, secret);
    assert_eq!(get_secret(&mut c, "c", "orders").await.unwrap(), secret);
    let listed = list(&mut c, "c").await.unwrap();
    assert_eq!(
        listed[1],
        webhook("c", "orders", "t3", Some("http://127.0.0.1:9/new"))
    );

    // Rotation: a new secret, which Get returns from then on and which an update keeps.
    let rotated = rotate(&mut c, "c", "orders").await.unwrap();
    assert_ne!(rotated, secret);
    assert!(rotated.starts_with(SECRET_PREFIX));
    assert_eq!(get_secret(&mut c, "c", "orders").await.unwrap(), rotated);
    assert_eq!(
        put(&mut c, "c", "orders", "t3", "http://127.0.0.1:9/new")
            .await
            .unwrap(),
        rotated
    );

    delete(&mut c, "c", "orders").await.unwrap();
    assert_eq!(names(&list(&mut c, "c").await.unwrap()), ["audit"]);
    for status in [
        delete(&mut c, "c", "orders").await.unwrap_err(),
        get_secret(&mut c, "c", "orders").await.unwrap_err(),
        rotate(&mut c, "c", "orders").await.unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert!(status.message().contains("orders"), "{status:?}");
    }
    // Re-creating gives a fresh secret.
    let fresh = put(&mut c, "c", "orders", "t1", "http://127.0.0.1:9/a")
        .await
        .unwrap();
    assert_ne!(fresh, rotated);
    mock.shutdown().await;
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let mut c = client(&mock).await;
    let long = "w".repeat(129);
    let cases: Vec<(Webhook, &str)> = vec![
        (webhook("", "w", "t", Some("http://h/")), "cache_name"),
        (
            webhook("bad name", "w", "t", Some("http://h/")),
            "cache_name",
        ),
        (webhook("c", "", "t", Some("http://h/")), "webhook_name"),
        (webhook("c", &long, "t", Some("http://h/")), "at most 128"),
        (webhook("c", "w", "", Some("http://h/")), "topic_name"),
        (webhook("c", "w", "t", None), "destination"),
        (webhook("c", "w", "t", Some("")), "post_url"),
        (webhook("c", "w", "t", Some("not a url")), "post_url"),
        (webhook("c", "w", "t", Some("/relative/path")), "post_url"),
        (webhook("c", "w", "t", Some("ftp://h/x")), "http"),
        (
            Webhook {
                webhook_id: None,
                ..webhook("c", "w", "t", Some("http://h/"))
            },
            "webhook_id",
        ),
    ];
    for (hook, needle) in cases {
        let status = put_webhook(&mut c, hook.clone()).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{hook:?}: {status:?}");
        assert!(status.message().contains(needle), "{hook:?}: {status:?}");
    }
    // Exactly 128 characters is fine.
    put(&mut c, "c", &"w".repeat(128), "t", "http://h/")
        .await
        .unwrap();
    let status = within(
        "PutWebhook",
        c.put_webhook(momento_mock::proto::webhook::PutWebhookRequest { webhook: None }),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("webhook"), "{status:?}");
    let status = get_secret(&mut c, "c", "").await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    mock.shutdown().await;
}

#[tokio::test]
async fn unknown_cache_is_not_found() {
    let mock = start_mock().await;
    let mut c = client(&mock).await;
    let statuses = [
        put(&mut c, "nope", "w", "t", "http://h/")
            .await
            .unwrap_err(),
        delete(&mut c, "nope", "w").await.unwrap_err(),
        get_secret(&mut c, "nope", "w").await.unwrap_err(),
        rotate(&mut c, "nope", "w").await.unwrap_err(),
        list(&mut c, "nope").await.unwrap_err(),
    ];
    for status in statuses {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert!(status.message().contains("nope"), "{status:?}");
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn limit_per_cache_names_the_flag() {
    let mock = start_mock_with(Config {
        max_webhooks_per_cache: 2,
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    mock.state().create_cache("d").unwrap();
    let mut c = client(&mock).await;
    put(&mut c, "c", "a", "t", "http://h/").await.unwrap();
    put(&mut c, "c", "b", "t", "http://h/").await.unwrap();
    let status = put(&mut c, "c", "x", "t", "http://h/").await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("--max-webhooks-per-cache"),
        "{status:?}"
    );
    assert_eq!(
        status.metadata().get("err").and_then(|v| v.to_str().ok()),
        Some("webhooks_per_cache_limit_exceeded")
    );
    // Updates of existing webhooks and other caches are not affected.
    put(&mut c, "c", "a", "t2", "http://h/2").await.unwrap();
    put(&mut c, "d", "x", "t", "http://h/").await.unwrap();
    // Room again after a delete.
    delete(&mut c, "c", "b").await.unwrap();
    put(&mut c, "c", "x", "t", "http://h/").await.unwrap();
    mock.shutdown().await;
}

#[tokio::test]
async fn strict_topics_requires_a_declared_topic() {
    let mock = start_mock_with(Config {
        strict_topics: true,
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let mut c = client(&mock).await;
    let status = put(&mut c, "c", "w", "undeclared", "http://h/")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(status.message().contains("--strict-topics"), "{status:?}");
    assert!(status.message().contains("undeclared"), "{status:?}");
    mock.state().declare_topic("c", "declared").unwrap();
    put(&mut c, "c", "w", "declared", "http://h/")
        .await
        .unwrap();
    mock.shutdown().await;
}

#[tokio::test]
async fn deleting_the_cache_removes_its_webhooks() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let mut c = client(&mock).await;
    put(&mut c, "c", "w", "t", "http://h/").await.unwrap();
    let mut control = ScsControlClient::new(common::channel(&mock).await);
    within(
        "DeleteCache",
        control.delete_cache(DeleteCacheRequest {
            cache_name: "c".into(),
        }),
    )
    .await
    .unwrap();
    assert_eq!(list(&mut c, "c").await.unwrap_err().code(), Code::NotFound);
    // A new cache of the same name starts without webhooks.
    mock.state().create_cache("c").unwrap();
    assert!(list(&mut c, "c").await.unwrap().is_empty());
    assert_eq!(
        get_secret(&mut c, "c", "w").await.unwrap_err().code(),
        Code::NotFound
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn auth_token_applies_to_webhook_rpcs() {
    let mock = start_mock_with(Config {
        auth_token: Some("tok".into()),
        ..Config::ephemeral()
    })
    .await;
    let mut c = client(&mock).await;
    let status = list(&mut c, "c").await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    mock.shutdown().await;
}
