//! Plain HTTP on the gRPC port: `/_mock/health`, `/_mock/reset`, `/_mock/caches`, JSON errors.

mod common;

use common::{channel, http, start_mock, within};
use momento_protos::control_client::scs_control_client::ScsControlClient;
use momento_protos::control_client::{CreateCacheRequest, ListCachesRequest};

#[tokio::test]
async fn health_reports_ok_and_version() {
    let mock = start_mock().await;
    let response = http(&mock, "GET", "/_mock/health").await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.content_type.as_deref(), Some("application/json"));
    let body = response.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    mock.shutdown().await;
}

#[tokio::test]
async fn caches_and_reset_share_state_with_grpc() {
    let mock = start_mock().await;
    let mut client = ScsControlClient::new(channel(&mock).await);
    for name in ["b", "a"] {
        within(
            "CreateCache",
            client.create_cache(CreateCacheRequest {
                cache_name: name.into(),
            }),
        )
        .await
        .unwrap();
    }

    let response = http(&mock, "GET", "/_mock/caches").await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.json(), serde_json::json!({"caches": ["a", "b"]}));

    let response = http(&mock, "POST", "/_mock/reset").await;
    assert_eq!(response.status, 204, "{response:?}");

    assert_eq!(
        http(&mock, "GET", "/_mock/caches").await.json(),
        serde_json::json!({"caches": []})
    );
    let listed = within(
        "ListCaches",
        client.list_caches(ListCachesRequest::default()),
    )
    .await
    .unwrap()
    .into_inner();
    assert!(listed.cache.is_empty(), "{listed:?}");
    // A reset server works as a fresh one.
    within(
        "CreateCache",
        client.create_cache(CreateCacheRequest {
            cache_name: "a".into(),
        }),
    )
    .await
    .unwrap();
    mock.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_errors() {
    let mock = start_mock().await;
    for path in ["/", "/nope", "/_mock/nope"] {
        let response = http(&mock, "GET", path).await;
        assert_eq!(response.status, 404, "{path}: {response:?}");
        assert_eq!(response.content_type.as_deref(), Some("application/json"));
        assert_eq!(response.json()["error"], "not_found", "{response:?}");
        assert!(response.json()["message"].as_str().unwrap().contains(path));
    }
    let response = http(&mock, "GET", "/_mock/reset").await;
    assert_eq!(response.status, 405, "{response:?}");
    assert_eq!(response.json()["error"], "method_not_allowed");
    mock.shutdown().await;
}
