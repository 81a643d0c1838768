//! gRPC behaviour through the generated clients: ScsControl (create, list with paging, delete,
//! flush, errors), Ping, auth-token mode, unknown services, and shutdown.

mod common;

use common::{channel, start_mock, start_mock_with, within};
use momento_mock::names::CACHE_NAME_RULE;
use momento_mock::proto::cache_client::ping_client::PingClient;
use momento_mock::proto::cache_client::PingRequest;
use momento_mock::Config;
use momento_protos::control_client::scs_control_client::ScsControlClient;
use momento_protos::control_client::{
    CreateCacheRequest, CreateSigningKeyRequest, DeleteCacheRequest, FlushCacheRequest,
    ListCachesRequest, ListCachesResponse, ListIndexesRequest,
};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

type Control = ScsControlClient<Channel>;

async fn control(mock: &momento_mock::RunningMock) -> Control {
    ScsControlClient::new(channel(mock).await)
}

async fn create(client: &mut Control, name: &str) -> Result<(), Status> {
    within(
        "CreateCache",
        client.create_cache(CreateCacheRequest {
            cache_name: name.to_owned(),
        }),
    )
    .await
    .map(|_| ())
}

async fn delete(client: &mut Control, name: &str) -> Result<(), Status> {
    within(
        "DeleteCache",
        client.delete_cache(DeleteCacheRequest {
            cache_name: name.to_owned(),
        }),
    )
    .await
    .map(|_| ())
}

async fn flush(client: &mut Control, name: &str) -> Result<(), Status> {
    within(
        "FlushCache",
        client.flush_cache(FlushCacheRequest {
            cache_name: name.to_owned(),
        }),
    )
    .await
    .map(|_| ())
}

async fn list_page(client: &mut Control, token: &str) -> Result<ListCachesResponse, Status> {
    within(
        "ListCaches",
        client.list_caches(ListCachesRequest {
            next_token: token.to_owned(),
        }),
    )
    .await
    .map(tonic::Response::into_inner)
}

fn names(page: &ListCachesResponse) -> Vec<&str> {
    page.cache.iter().map(|c| c.cache_name.as_str()).collect()
}

#[tokio::test]
async fn create_list_flush_delete() {
    let mock = start_mock().await;
    let mut client = control(&mock).await;

    assert!(names(&list_page(&mut client, "").await.unwrap()).is_empty());
    create(&mut client, "orders").await.unwrap();
    create(&mut client, "carts").await.unwrap();

    let page = list_page(&mut client, "").await.unwrap();
    assert_eq!(names(&page), ["carts", "orders"]);
    assert_eq!(page.next_token, "");
    for cache in &page.cache {
        let limits = cache.cache_limits.expect("cache_limits filled");
        assert!(limits.max_traffic_rate > 0 && limits.max_item_size_kb > 0);
        assert!(limits.max_throughput_kbps > 0 && limits.max_ttl_seconds > 0);
        let topics = cache.topic_limits.expect("topic_limits filled");
        assert_eq!(topics.max_publish_message_size_kb, 4);
        assert!(topics.max_publish_rate > 0 && topics.max_subscription_count > 0);
        assert!(!cache.cache_id.is_empty());
    }
    assert_ne!(page.cache[0].cache_id, page.cache[1].cache_id);

    flush(&mut client, "orders").await.unwrap();
    delete(&mut client, "orders").await.unwrap();
    assert_eq!(names(&list_page(&mut client, "").await.unwrap()), ["carts"]);
    assert_eq!(mock.state().cache_names(), ["carts"]);
    mock.shutdown().await;
}

#[tokio::test]
async fn already_exists_and_not_found() {
    let mock = start_mock().await;
    let mut client = control(&mock).await;
    create(&mut client, "dup").await.unwrap();

    let status = create(&mut client, "dup").await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert!(status.message().contains("dup"), "{status:?}");

    for status in [
        delete(&mut client, "missing").await.unwrap_err(),
        flush(&mut client, "missing").await.unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert!(status.message().contains("missing"), "{status:?}");
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn invalid_names_are_invalid_argument_with_the_rule() {
    let mock = start_mock().await;
    let mut client = control(&mock).await;
    let long = "n".repeat(256);
    for name in ["", long.as_str(), "a b", "a/b"] {
        for status in [
            create(&mut client, name).await.unwrap_err(),
            delete(&mut client, name).await.unwrap_err(),
            flush(&mut client, name).await.unwrap_err(),
        ] {
            assert_eq!(status.code(), Code::InvalidArgument, "{name:?}: {status:?}");
            assert!(status.message().contains(CACHE_NAME_RULE), "{status:?}");
            assert!(
                status.message().starts_with("invalid cache name "),
                "{status:?}"
            );
        }
    }
    let status = create(&mut client, "a b").await.unwrap_err();
    assert_eq!(
        status.message(),
        format!("invalid cache name \"a b\": {CACHE_NAME_RULE}")
    );
    // 255 characters is still fine.
    create(&mut client, &"n".repeat(255)).await.unwrap();
    assert!(mock.state().cache_names().iter().all(|n| n.len() == 255));
    mock.shutdown().await;
}

#[tokio::test]
async fn list_caches_pages_through_every_cache_once_in_order() {
    let mock = start_mock_with(Config {
        list_caches_page_size: 2,
        ..Config::ephemeral()
    })
    .await;
    let mut client = control(&mock).await;
    for name in ["echo", "alpha", "delta", "charlie", "bravo"] {
        create(&mut client, name).await.unwrap();
    }

    let mut seen = Vec::new();
    let mut tokens = Vec::new();
    let mut token = String::new();
    loop {
        let page = list_page(&mut client, &token).await.unwrap();
        assert!(page.cache.len() <= 2, "page too large: {:?}", names(&page));
        seen.extend(names(&page).into_iter().map(str::to_owned));
        token = page.next_token;
        tokens.push(token.clone());
        if token.is_empty() {
            break;
        }
        assert!(tokens.len() < 10, "paging does not end: {tokens:?}");
    }
    assert_eq!(seen, ["alpha", "bravo", "charlie", "delta", "echo"]);
    assert_eq!(tokens.len(), 3, "{tokens:?}");
    assert!(tokens[..2].iter().all(|t| !t.is_empty()));
    assert_eq!(tokens[2], "");
    mock.shutdown().await;
}

#[tokio::test]
async fn unknown_next_token_is_invalid_argument() {
    let mock = start_mock().await;
    let mut client = control(&mock).await;
    for token in ["bogus", "mock1.zz", "mock1.2f"] {
        let status = list_page(&mut client, token).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{token}: {status:?}");
        assert!(status.message().contains("next_token"), "{status:?}");
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn unimplemented_rpcs_name_themselves() {
    let mock = start_mock().await;
    let mut client = control(&mock).await;
    let status = within(
        "CreateSigningKey",
        client.create_signing_key(CreateSigningKeyRequest { ttl_minutes: 5 }),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert_eq!(
        status.message(),
        "momento-mock does not implement ScsControl/CreateSigningKey"
    );
    let status = within("ListIndexes", client.list_indexes(ListIndexesRequest {}))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert!(
        status.message().contains("ScsControl/ListIndexes"),
        "{status:?}"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn unknown_service_is_unimplemented_naming_the_path() {
    use momento_protos::leaderboard::leaderboard_client::LeaderboardClient;
    use momento_protos::leaderboard::DeleteLeaderboardRequest;

    let mock = start_mock().await;
    let mut client = LeaderboardClient::new(channel(&mock).await);
    let status = within(
        "Leaderboard/DeleteLeaderboard",
        client.delete_leaderboard(DeleteLeaderboardRequest::default()),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    assert!(
        status
            .message()
            .contains("/leaderboard.Leaderboard/DeleteLeaderboard"),
        "{status:?}"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn ping_answers() {
    let mock = start_mock().await;
    let mut client = PingClient::new(channel(&mock).await);
    within("Ping", client.ping(PingRequest {}))
        .await
        .expect("Ping succeeds");
    mock.shutdown().await;
}

#[tokio::test]
async fn out_of_band_state_changes_are_visible() {
    let mock = start_mock().await;
    mock.state().create_cache("seeded").unwrap();
    let mut client = control(&mock).await;
    assert_eq!(
        names(&list_page(&mut client, "").await.unwrap()),
        ["seeded"]
    );
    mock.shutdown().await;
}

fn with_token(
    token: Option<&str>,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    let value: Option<MetadataValue<_>> = token.map(|t| t.parse().expect("ASCII token"));
    move |mut request: Request<()>| {
        if let Some(value) = &value {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

#[tokio::test]
async fn auth_token_mode_requires_the_exact_token() {
    const TOKEN: &str = "tok-7f3a9c";
    let mock = start_mock_with(Config {
        auth_token: Some(TOKEN.to_owned()),
        ..Config::ephemeral()
    })
    .await;
    let channel = channel(&mock).await;

    for (token, what) in [
        (None, "missing"),
        (Some("wrong"), "wrong"),
        (Some(""), "empty"),
    ] {
        let mut client = ScsControlClient::with_interceptor(channel.clone(), with_token(token));
        let status = within(
            "CreateCache",
            client.create_cache(CreateCacheRequest {
                cache_name: "c".into(),
            }),
        )
        .await
        .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{what}: {status:?}");
        assert!(status.message().contains("token"), "{status:?}");
        assert!(
            !status.message().contains(TOKEN),
            "token echoed: {status:?}"
        );
        let mut ping = PingClient::with_interceptor(channel.clone(), with_token(token));
        let status = within("Ping", ping.ping(PingRequest {})).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{what}: {status:?}");
    }
    assert!(mock.state().cache_names().is_empty());

    let mut client = ScsControlClient::with_interceptor(channel.clone(), with_token(Some(TOKEN)));
    within(
        "CreateCache",
        client.create_cache(CreateCacheRequest {
            cache_name: "c".into(),
        }),
    )
    .await
    .expect("right token accepted");
    let mut ping = PingClient::with_interceptor(channel, with_token(Some(TOKEN)));
    within("Ping", ping.ping(PingRequest {}))
        .await
        .expect("right token accepted");
    assert_eq!(mock.state().cache_names(), ["c"]);
    mock.shutdown().await;
}

#[tokio::test]
async fn open_mode_accepts_any_token() {
    let mock = start_mock().await;
    let channel = channel(&mock).await;
    for (i, token) in [None, Some(""), Some("anything")].into_iter().enumerate() {
        let mut client = ScsControlClient::with_interceptor(channel.clone(), with_token(token));
        within(
            "CreateCache",
            client.create_cache(CreateCacheRequest {
                cache_name: format!("c{i}"),
            }),
        )
        .await
        .unwrap_or_else(|s| panic!("token {token:?} refused: {s:?}"));
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn shutdown_completes_with_a_client_still_connected() {
    let mock = start_mock().await;
    let endpoint = mock.endpoint();
    let mut client = control(&mock).await;
    create(&mut client, "x").await.unwrap();
    within("shutdown", mock.shutdown()).await;
    // The port no longer serves: a new connection or call fails.
    let refused = tonic::transport::Endpoint::from_shared(endpoint)
        .unwrap()
        .connect()
        .await;
    let call_failed = create(&mut client, "y").await.is_err();
    assert!(refused.is_err() || call_failed);
}
