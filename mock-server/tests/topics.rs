//! The topic extension `momento_mock.topics.v1.Topics` (create, get with counters, get several,
//! list, delete and the new page after a delete), `--strict-topics`, and what deleting a cache does to its
//! topics and subscriptions.

mod common;
mod pubsub_support;

use common::{channel, start_mock_with, within};
use momento_mock::proto::topics::{
    CreateTopicRequest, DeleteTopicRequest, GetTopicRequest, GetTopicsRequest, ListTopicsRequest,
    Topic, TopicId,
};
use momento_mock::Config;
use momento_protos::control_client::scs_control_client::ScsControlClient;
use momento_protos::control_client::DeleteCacheRequest;
use pubsub_support::*;
use tonic::{Code, Status};

fn id(cache: &str, topic: &str) -> Option<TopicId> {
    Some(TopicId {
        cache_name: cache.to_owned(),
        topic_name: topic.to_owned(),
    })
}

async fn create_topic(client: &mut Topics, cache: &str, topic: &str) -> Result<Topic, Status> {
    within(
        "CreateTopic",
        client.create_topic(CreateTopicRequest {
            id: id(cache, topic),
        }),
    )
    .await
    .map(|r| r.into_inner().topic.expect("a topic"))
}

async fn get_topic(client: &mut Topics, cache: &str, topic: &str) -> Result<Topic, Status> {
    within(
        "GetTopic",
        client.get_topic(GetTopicRequest {
            id: id(cache, topic),
        }),
    )
    .await
    .map(|r| r.into_inner().topic.expect("a topic"))
}

async fn list_topics(
    client: &mut Topics,
    cache: &str,
    include_undeclared: bool,
) -> Result<Vec<(String, bool)>, Status> {
    within(
        "ListTopics",
        client.list_topics(ListTopicsRequest {
            cache_name: cache.to_owned(),
            include_undeclared,
        }),
    )
    .await
    .map(|r| {
        r.into_inner()
            .topics
            .into_iter()
            .map(|t| (t.id.unwrap_or_default().topic_name, t.declared))
            .collect()
    })
}

async fn delete_topic(client: &mut Topics, cache: &str, topic: &str) -> Result<(), Status> {
    within(
        "DeleteTopic",
        client.delete_topic(DeleteTopicRequest {
            id: id(cache, topic),
        }),
    )
    .await
    .map(|_| ())
}

#[tokio::test]
async fn create_get_list_delete_with_counters() {
    let mock = start_mock_with(Config::ephemeral()).await;
    create_cache(&mock, "c").await;
    let mut topics = topics(&mock).await;
    let mut client = pubsub(&mock).await;

    let created = create_topic(&mut topics, "c", "orders").await.unwrap();
    assert!(created.declared);
    let stats = created.stats.unwrap();
    assert_ne!(stats.sequence_page, 0);
    assert_eq!(
        (stats.messages_published, stats.last_sequence_number),
        (0, 0)
    );
    let first_page = stats.sequence_page;

    let err = create_topic(&mut topics, "c", "orders").await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    let err = create_topic(&mut topics, "missing", "orders")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    for (cache, topic) in [("", "x"), ("c", "")] {
        let err = create_topic(&mut topics, cache, topic).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    }
    let err = within(
        "CreateTopic without id",
        topics.create_topic(CreateTopicRequest { id: None }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

    // Counters come from the hub.
    let _subscriber = live_subscription(&mut client, "c", "orders").await;
    publish(&mut client, "c", "orders", text("a"))
        .await
        .unwrap();
    publish(&mut client, "c", "orders", text("b"))
        .await
        .unwrap();
    let got = get_topic(&mut topics, "c", "orders").await.unwrap();
    let stats = got.stats.unwrap();
    assert!(got.declared);
    assert_eq!(stats.messages_published, 2);
    assert_eq!(stats.last_sequence_number, 2);
    assert_eq!(stats.sequence_page, first_page);
    assert_eq!(stats.subscribers, 1);
    assert_eq!(
        (
            stats.webhooks,
            stats.deliveries_ok,
            stats.deliveries_failed,
            stats.deliveries_dropped
        ),
        (0, 0, 0, 0)
    );

    // A topic that was only used is visible to GetTopic and to ListTopics on request.
    publish(&mut client, "c", "adhoc", text("x")).await.unwrap();
    let adhoc = get_topic(&mut topics, "c", "adhoc").await.unwrap();
    assert!(!adhoc.declared);
    assert_eq!(adhoc.stats.unwrap().messages_published, 1);
    let err = get_topic(&mut topics, "c", "never").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert_eq!(
        list_topics(&mut topics, "c", false).await.unwrap(),
        [("orders".to_owned(), true)]
    );
    assert_eq!(
        list_topics(&mut topics, "c", true).await.unwrap(),
        [("adhoc".to_owned(), false), ("orders".to_owned(), true)]
    );
    let err = list_topics(&mut topics, "missing", true).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    // Deleting undeclares and drops the log and counters; only declared topics can be deleted.
    let err = delete_topic(&mut topics, "c", "adhoc").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    delete_topic(&mut topics, "c", "orders").await.unwrap();
    let err = get_topic(&mut topics, "c", "orders").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    let err = delete_topic(&mut topics, "c", "orders").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    // Used again, the topic numbers from 1 in a new, larger page.
    let mut stream = live_subscription(&mut client, "c", "orders").await;
    publish(&mut client, "c", "orders", text("again"))
        .await
        .unwrap();
    let item = next_item(&mut stream).await;
    assert_eq!(item.topic_sequence_number, 1);
    assert!(item.sequence_page > first_page, "{item:?} vs {first_page}");
    mock.shutdown().await;
}

/// `GetTopics`: the named topics that exist, in the order asked, as `GetTopic` answers each.
async fn get_topics(
    client: &mut Topics,
    cache: &str,
    names: &[&str],
) -> Result<Vec<(String, bool)>, Status> {
    within(
        "GetTopics",
        client.get_topics(GetTopicsRequest {
            cache_name: cache.to_owned(),
            topic_names: names.iter().map(|n| (*n).to_owned()).collect(),
        }),
    )
    .await
    .map(|r| {
        r.into_inner()
            .topics
            .into_iter()
            .map(|t| (t.id.expect("an id").topic_name, t.declared))
            .collect()
    })
}

#[tokio::test]
async fn get_topics_answers_several_topics_at_once() {
    let mock = start_mock_with(Config::ephemeral()).await;
    create_cache(&mock, "c").await;
    let mut topics = topics(&mock).await;
    let mut client = pubsub(&mock).await;
    create_topic(&mut topics, "c", "b").await.unwrap();
    create_topic(&mut topics, "c", "a").await.unwrap();
    publish(&mut client, "c", "used", text("x")).await.unwrap();

    assert_eq!(
        get_topics(&mut topics, "c", &["b", "never", "used", "a"])
            .await
            .unwrap(),
        [
            ("b".to_owned(), true),
            ("used".to_owned(), false),
            ("a".to_owned(), true)
        ]
    );
    assert_eq!(get_topics(&mut topics, "c", &[]).await.unwrap(), []);
    // A cache that does not exist holds no topics (GetTopic answers NOT_FOUND for each).
    assert_eq!(
        get_topics(&mut topics, "missing", &["a"]).await.unwrap(),
        []
    );
    let err = get_topics(&mut topics, "c", &["a", ""]).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let many: Vec<String> = (0..1001).map(|i| format!("t{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let err = get_topics(&mut topics, "c", &many).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("at most 1000"), "{err:?}");
    mock.shutdown().await;
}

#[tokio::test]
async fn deleting_a_topic_ends_its_subscriptions_with_unavailable() {
    let mock = start_mock_with(Config::ephemeral()).await;
    create_cache(&mock, "c").await;
    let mut topics = topics(&mock).await;
    let mut client = pubsub(&mock).await;
    create_topic(&mut topics, "c", "t").await.unwrap();
    let mut stream = live_subscription(&mut client, "c", "t").await;
    delete_topic(&mut topics, "c", "t").await.unwrap();
    let err = within("the end of the stream", stream.message())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    mock.shutdown().await;
}

#[tokio::test]
async fn strict_mode_wants_declared_topics() {
    let mock = start_mock_with(Config {
        strict_topics: true,
        ..Config::ephemeral()
    })
    .await;
    create_cache(&mock, "c").await;
    let mut topics = topics(&mock).await;
    let mut client = pubsub(&mock).await;

    let err = publish(&mut client, "c", "t", text("x")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(
        err.message()
            .contains("topic \"t\" is not declared in cache \"c\""),
        "{err:?}"
    );
    assert!(err.message().contains("--strict-topics"), "{err:?}");
    let err = subscribe(&mut client, "c", "t", 0, 0).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(err.message().contains("--strict-topics"), "{err:?}");
    // An unknown cache is still reported as such.
    let err = publish(&mut client, "missing", "t", text("x"))
        .await
        .unwrap_err();
    assert!(
        err.message().contains("cache \"missing\" not found"),
        "{err:?}"
    );

    create_topic(&mut topics, "c", "t").await.unwrap();
    let mut stream = live_subscription(&mut client, "c", "t").await;
    publish(&mut client, "c", "t", text("x")).await.unwrap();
    assert_eq!(next_item(&mut stream).await.topic_sequence_number, 1);
    mock.shutdown().await;
}

#[tokio::test]
async fn deleting_the_cache_ends_subscriptions_and_drops_topics() {
    let mock = start_mock_with(Config::ephemeral()).await;
    create_cache(&mock, "c").await;
    let mut topics = topics(&mock).await;
    let mut client = pubsub(&mock).await;
    create_topic(&mut topics, "c", "declared").await.unwrap();
    publish(&mut client, "c", "used", text("x")).await.unwrap();
    let mut stream = live_subscription(&mut client, "c", "used").await;

    let mut control = ScsControlClient::new(channel(&mock).await);
    within(
        "DeleteCache",
        control.delete_cache(DeleteCacheRequest {
            cache_name: "c".into(),
        }),
    )
    .await
    .unwrap();

    let err = within("the end of the stream", stream.message())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(mock.topics().counters("c", "used").is_none());

    // A new cache of the same name starts empty.
    create_cache(&mock, "c").await;
    assert!(list_topics(&mut topics, "c", true)
        .await
        .unwrap()
        .is_empty());
    let err = get_topic(&mut topics, "c", "used").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    mock.shutdown().await;
}

#[tokio::test]
async fn the_extension_sits_behind_the_auth_token() {
    let mock = start_mock_with(Config {
        auth_token: Some("tok".into()),
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let mut topics = topics(&mock).await;
    let err = create_topic(&mut topics, "c", "t").await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    mock.shutdown().await;
}
