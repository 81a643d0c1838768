//! Compatibility of `momento-mock` with Momento's official Rust SDK (crates.io `momento` 0.70),
//! used in-process against a mock of the test's own: caches (`CacheClient`) and topics
//! (`TopicClient`: text and bytes in order with sequence numbers, resume from a sequence number,
//! `NOT_FOUND` on a missing cache).
use std::time::Duration;

use futures::StreamExt;
use momento::cache::{configurations as cache_configurations, CreateCacheResponse};
use momento::topics::{
    configurations, SubscribeRequest, Subscription, SubscriptionValue, ValueKind,
};
use momento::{CacheClient, CredentialProvider, MomentoErrorCode, TopicClient};
use momento_mock::RunningMock;

/// Generous: the tests run on a loaded 2-core machine.
const WAIT: Duration = Duration::from_secs(60);

async fn start_mock() -> RunningMock {
    momento_mock::start(momento_mock::Config::ephemeral())
        .await
        .expect("the mock starts")
}

/// Plaintext to the mock, the way the SDK's docs point it at Momento Local. The SDK needs some
/// token to start from: a v1 key (base64 JSON) with an arbitrary endpoint, then overridden.
fn credentials(mock: &RunningMock) -> CredentialProvider {
    use base64::Engine as _;
    let v1_key = base64::engine::general_purpose::URL_SAFE
        .encode(r#"{"api_key":"mock-token","endpoint":"mock.invalid"}"#);
    #[allow(deprecated)] // from_string is the SDK's only constructor for a non-JWT key
    let provider = CredentialProvider::from_string(v1_key).expect("a v1 key parses");
    provider.insecure_endpoint_override(&mock.endpoint())
}

fn cache_client(mock: &RunningMock) -> CacheClient {
    CacheClient::builder()
        .default_ttl(Duration::from_secs(60))
        .configuration(cache_configurations::Laptop::latest())
        .credential_provider(credentials(mock))
        .build()
        .expect("the cache client builds")
}

fn topic_client(mock: &RunningMock) -> TopicClient {
    TopicClient::builder()
        .configuration(configurations::Laptop::latest())
        .credential_provider(credentials(mock))
        .build()
        .expect("the topic client builds")
}

async fn cache_names(client: &CacheClient) -> Vec<String> {
    let listed = tokio::time::timeout(WAIT, client.list_caches())
        .await
        .expect("list_caches answers")
        .expect("list_caches succeeds");
    listed.caches.into_iter().map(|c| c.name).collect()
}

async fn next(sub: &mut Subscription, what: &str) -> SubscriptionValue {
    tokio::time::timeout(WAIT, sub.next())
        .await
        .unwrap_or_else(|_| panic!("no item within {WAIT:?} while waiting for {what}"))
        .unwrap_or_else(|| panic!("the subscription ended while waiting for {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_cache_lifecycle() {
    let mock = start_mock().await;
    let client = cache_client(&mock);
    let cache = "rust-compat-cache";

    let created = client.create_cache(cache).await.expect("create_cache");
    assert_eq!(created, CreateCacheResponse::Created);
    assert!(cache_names(&client).await.contains(&cache.to_owned()));

    let again = client
        .create_cache(cache)
        .await
        .expect("create_cache again");
    assert_eq!(again, CreateCacheResponse::AlreadyExists);

    client.delete_cache(cache).await.expect("delete_cache");
    let err = client
        .delete_cache(cache)
        .await
        .expect_err("deleting a missing cache fails");
    assert_eq!(
        err.error_code,
        MomentoErrorCode::CacheNotFoundError,
        "delete_cache again: {err:?}"
    );
    assert!(!cache_names(&client).await.contains(&cache.to_owned()));
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_topics_in_order_with_sequence_numbers_and_resume() {
    let mock = start_mock().await;
    let caches = cache_client(&mock);
    let topics = topic_client(&mock);
    let (cache, topic) = ("rust-compat-topics", "rust-room");
    caches.create_cache(cache).await.expect("create_cache");

    // Live: text then bytes, in order, numbered from 1 on one sequence page.
    let mut live = tokio::time::timeout(WAIT, topics.subscribe(cache, topic))
        .await
        .expect("subscribe answers")
        .expect("subscribe succeeds");
    let bytes: Vec<u8> = vec![0, 1, 0xfe, 0xff, b'r', b's', 0x80];
    topics
        .publish(cache, topic, "text from Rust")
        .await
        .expect("publish text");
    topics
        .publish(cache, topic, bytes.clone())
        .await
        .expect("publish bytes");

    let first = next(&mut live, "the text item").await;
    assert_eq!(first.kind, ValueKind::Text("text from Rust".into()));
    assert_eq!(first.topic_sequence_number, 1, "{first:?}");
    let page = first.topic_sequence_page;
    let second = next(&mut live, "the binary item").await;
    assert_eq!(second.kind, ValueKind::Binary(bytes.clone()));
    assert_eq!(second.topic_sequence_number, 2, "{second:?}");
    assert_eq!(second.topic_sequence_page, page, "{second:?}");

    // Resume from sequence number 1 on that page: both replayed, then a live one.
    let mut resumed = topics
        .send_request(SubscribeRequest::new(cache, topic, Some(1), Some(page)))
        .await
        .expect("subscribe with resume succeeds");
    let replayed: Vec<_> = [
        next(&mut resumed, "replayed #1").await,
        next(&mut resumed, "replayed #2").await,
    ]
    .into_iter()
    .map(|v| (v.topic_sequence_number, v.kind))
    .collect();
    assert_eq!(
        replayed,
        vec![
            (1, ValueKind::Text("text from Rust".into())),
            (2, ValueKind::Binary(bytes.clone()))
        ]
    );
    topics
        .publish(cache, topic, "third")
        .await
        .expect("publish third");
    for (sub, label) in [(&mut resumed, "resumed"), (&mut live, "live")] {
        let third = next(sub, "the live item #3").await;
        assert_eq!(
            (third.topic_sequence_number, third.kind),
            (3, ValueKind::Text("third".into())),
            "{label} subscription"
        );
    }

    // A missing cache.
    let err = topics
        .publish("rust-no-such-cache", topic, "x")
        .await
        .expect_err("publishing to a missing cache fails");
    assert_eq!(
        err.error_code,
        MomentoErrorCode::CacheNotFoundError,
        "{err:?}"
    );
    let err = match tokio::time::timeout(WAIT, topics.subscribe("rust-no-such-cache", topic))
        .await
        .expect("subscribe answers")
    {
        Ok(_) => panic!("subscribing to a missing cache succeeded"),
        Err(e) => e,
    };
    assert_eq!(
        err.error_code,
        MomentoErrorCode::CacheNotFoundError,
        "{err:?}"
    );

    caches.delete_cache(cache).await.expect("delete_cache");
    mock.shutdown().await;
}
