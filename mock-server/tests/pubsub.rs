//! `cache_client.pubsub.Pubsub` through the generated client: heartbeats (first and periodic),
//! text and binary items in order, resume and replay, discontinuities, error codes and `err`
//! metadata, the subscription limit, publisher ids from JWTs, in-process publishing, auth, and
//! subscriptions ending on shutdown.

mod common;
mod pubsub_support;

use std::time::{Duration, Instant};

use common::{start_mock_with, within};
use momento_mock::events::TopicValue as HubValue;
use momento_mock::Config;
use momento_protos::cache_client::pubsub::{subscription_item::Kind, topic_value};
use pubsub_support::*;
use tonic::metadata::MetadataValue;
use tonic::{Code, Request};

#[tokio::test]
async fn the_first_message_is_a_heartbeat_and_heartbeats_repeat() {
    let mock = start_mock_with(Config {
        heartbeat_interval: Duration::from_millis(50),
        ..Config::ephemeral()
    })
    .await;
    create_cache(&mock, "c").await;
    let mut client = pubsub(&mock).await;
    let mut stream = live_subscription(&mut client, "c", "t").await;
    for _ in 0..3 {
        assert!(matches!(next_kind(&mut stream).await, Kind::Heartbeat(_)));
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn text_and_binary_reach_subscribers_numbered_in_one_page() {
    let mock = start_mock_with(Config::ephemeral()).await;
    create_cache(&mock, "c").await;
    let mut client = pubsub(&mock).await;
    let mut first = live_subscription(&mut client, "c", "t").await;
    let mut second = live_subscription(&mut client, "c", "t").await;

    publish(&mut client, "c", "t", text("hello")).await.unwrap();
    publish(&mut client, "c", "t", binary(&[0, 159, 255]))
        .await
        .unwrap();
    publish(&mut client, "c", "t", text("héllo ✓"))
        .await
        .unwrap();

    for stream in [&mut first, &mut second] {
        let items = [
            next_item(stream).await,
            next_item(stream).await,
            next_item(stream).await,
        ];
        let numbers: Vec<u64> = items.iter().map(|i| i.topic_sequence_number).collect();
        assert_eq!(numbers, [1, 2, 3]);
        let page = items[0].sequence_page;
        assert_ne!(page, 0);
        assert!(items.iter().all(|i| i.sequence_page == page), "{items:?}");
        assert_eq!(text_of(&items[0]), "hello");
        assert_eq!(
            items[1].value.as_ref().and_then(|v| v.kind.clone()),
            Some(topic_value::Kind::Binary(vec![0, 159, 255]))
        );
        assert_eq!(text_of(&items[2]), "héllo ✓");
        assert!(items.iter().all(|i| i.publisher_id.is_empty()));
    }
    // Another topic of the same cache numbers on its own.
    let mut other = live_subscription(&mut client, "c", "other").await;
    publish(&mut client, "c", "other", text("x")).await.unwrap();
    assert_eq!(next_item(&mut other).await.topic_sequence_number, 1);
    mock.shutdown().await;
}

#[tokio::test]
async fn resuming_replays_from_the_number_asked_for() {
    let mock = start_mock_with(Config::ephemeral()).await;
    create_cache(&mock, "c").await;
    let mut client = pubsub(&mock).await;

    // SDKs resume at the last number they saw + 1; page 0 means "the current page".
    for (topic, with_page) in [("a", true), ("b", false)] {
        for v in ["one", "two", "three"] {
            publish(&mut client, "c", topic, text(v)).await.unwrap();
        }
        let page = mock.topics().counters("c", topic).unwrap().sequence_page;
        let requested_page = if with_page { page } else { 0 };
        let mut stream = subscribe(&mut client, "c", topic, 2, requested_page)
            .await
            .unwrap();
        assert!(matches!(next_kind(&mut stream).await, Kind::Heartbeat(_)));
        let item = next_item(&mut stream).await;
        assert_eq!((item.topic_sequence_number, text_of(&item)), (2, "two"));
        assert_eq!(item.sequence_page, page);
        let item = next_item(&mut stream).await;
        assert_eq!((item.topic_sequence_number, text_of(&item)), (3, "three"));
        // Then live, without gaps or repeats.
        publish(&mut client, "c", topic, text("four"))
            .await
            .unwrap();
        let item = next_item(&mut stream).await;
        assert_eq!((item.topic_sequence_number, text_of(&item)), (4, "four"));

        // Resuming right after the last number replays nothing: the next message is live.
        let mut stream = subscribe(&mut client, "c", topic, 5, requested_page)
            .await
            .unwrap();
        assert!(matches!(next_kind(&mut stream).await, Kind::Heartbeat(_)));
        publish(&mut client, "c", topic, text("five"))
            .await
            .unwrap();
        let item = next_item(&mut stream).await;
        assert_eq!((item.topic_sequence_number, text_of(&item)), (5, "five"));
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn resuming_from_an_evicted_number_or_another_page_starts_with_a_discontinuity() {
    let mock = start_mock_with(Config {
        topic_log_capacity: 2,
        ..Config::ephemeral()
    })
    .await;
    create_cache(&mock, "c").await;
    let mut client = pubsub(&mock).await;
    for v in ["1", "2", "3"] {
        publish(&mut client, "c", "t", text(v)).await.unwrap();
    }
    let page = mock.topics().counters("c", "t").unwrap().sequence_page;

    let mut stream = subscribe(&mut client, "c", "t", 1, page).await.unwrap();
    assert!(matches!(next_kind(&mut stream).await, Kind::Heartbeat(_)));
    match next_kind(&mut stream).await {
        Kind::Discontinuity(d) => {
            assert_eq!(d.last_topic_sequence, 0);
            // Items resume after this number.
            assert_eq!(d.new_topic_sequence, 1);
            assert_eq!(d.new_sequence_page, page);
        }
        other => panic!("expected a discontinuity, got {other:?}"),
    }
    assert_eq!(next_item(&mut stream).await.topic_sequence_number, 2);
    assert_eq!(next_item(&mut stream).await.topic_sequence_number, 3);

    // A page the topic no longer has (e.g. from before a reset): told the new page, then the log.
    let mut stream = subscribe(&mut client, "c", "t", 3, page - 1).await.unwrap();
    assert!(matches!(next_kind(&mut stream).await, Kind::Heartbeat(_)));
    match next_kind(&mut stream).await {
        Kind::Discontinuity(d) => {
            assert_eq!(d.last_topic_sequence, 2);
            assert_eq!(d.new_topic_sequence, 1);
            assert_eq!(d.new_sequence_page, page);
        }
        other => panic!("expected a discontinuity, got {other:?}"),
    }
    assert_eq!(next_item(&mut stream).await.topic_sequence_number, 2);
    mock.shutdown().await;
}

#[tokio::test]
async fn bad_requests_get_momentos_codes() {
    let mock = start_mock_with(Config::ephemeral()).await;
    create_cache(&mock, "c").await;
    let mut client = pubsub(&mock).await;

    let err = publish(&mut client, "missing", "t", text("x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(err.message().contains("\"missing\""), "{err:?}");
    let err = subscribe(&mut client, "missing", "t", 0, 0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    for (cache, topic) in [("bad name", "t"), ("c", "")] {
        let err = publish(&mut client, cache, topic, text("x"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        let err = subscribe(&mut client, cache, topic, 0, 0)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    }
    let err = publish(&mut client, "c", "t", None).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    mock.shutdown().await;
}

#[tokio::test]
async fn oversized_payloads_are_resource_exhausted_with_err_metadata() {
    let mock = start_mock_with(Config {
        max_message_bytes: 8,
        ..Config::ephemeral()
    })
    .await;
    create_cache(&mock, "c").await;
    let mut client = pubsub(&mock).await;
    publish(&mut client, "c", "t", text("12345678"))
        .await
        .unwrap();
    for value in [text("123456789"), binary(&[7; 9])] {
        let err = publish(&mut client, "c", "t", value).await.unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
        assert_eq!(
            err.metadata().get("err").and_then(|v| v.to_str().ok()),
            Some("request_size_limit_exceeded"),
            "{err:?}"
        );
        for part in ["9 bytes", "8 bytes", "--max-message-bytes"] {
            assert!(err.message().contains(part), "{part}: {err:?}");
        }
    }
    assert_eq!(
        mock.topics().counters("c", "t").unwrap().messages_published,
        1
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn the_subscription_limit_is_enforced_and_freed_on_disconnect() {
    let mock = start_mock_with(Config {
        max_subscriptions_per_topic: 2,
        ..Config::ephemeral()
    })
    .await;
    create_cache(&mock, "c").await;
    let mut client = pubsub(&mock).await;
    let first = live_subscription(&mut client, "c", "t").await;
    let _second = live_subscription(&mut client, "c", "t").await;

    let err = subscribe(&mut client, "c", "t", 0, 0).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert_eq!(
        err.metadata().get("err").and_then(|v| v.to_str().ok()),
        Some("topic_subscriptions_limit_exceeded")
    );
    assert!(
        err.message().contains("--max-subscriptions-per-topic"),
        "{err:?}"
    );
    // Other topics have their own count.
    let _elsewhere = live_subscription(&mut client, "c", "other").await;

    drop(first);
    let topics = mock.topics().clone();
    wait_until("the dropped subscription is released", || {
        topics.counters("c", "t").map(|c| c.subscribers) == Some(1)
    })
    .await;
    let _third = live_subscription(&mut client, "c", "t").await;
    mock.shutdown().await;
}

#[tokio::test]
async fn the_publisher_id_is_the_id_claim_of_the_publishers_jwt() {
    let mock = start_mock_with(Config::ephemeral()).await;
    create_cache(&mock, "c").await;
    let mut client = pubsub(&mock).await;
    let mut stream = live_subscription(&mut client, "c", "t").await;

    let token = jwt(r#"{"id":"token-id-42","sub":"someone"}"#);
    let mut request = Request::new(momento_protos::cache_client::pubsub::PublishRequest {
        cache_name: "c".into(),
        topic: "t".into(),
        value: text("signed"),
    });
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(token.as_str()).unwrap(),
    );
    within("Publish with a JWT", client.publish(request))
        .await
        .unwrap();
    // A token that is not a JWT gives no id.
    let mut request = Request::new(momento_protos::cache_client::pubsub::PublishRequest {
        cache_name: "c".into(),
        topic: "t".into(),
        value: text("plain"),
    });
    request
        .metadata_mut()
        .insert("authorization", MetadataValue::from_static("not-a-jwt"));
    within("Publish with a plain token", client.publish(request))
        .await
        .unwrap();

    assert_eq!(next_item(&mut stream).await.publisher_id, "token-id-42");
    assert_eq!(next_item(&mut stream).await.publisher_id, "");
    mock.shutdown().await;
}

#[tokio::test]
async fn in_process_publishes_reach_grpc_subscribers() {
    let mock = start_mock_with(Config::ephemeral()).await;
    mock.state().create_cache("c").unwrap();
    let mut client = pubsub(&mock).await;
    let mut stream = live_subscription(&mut client, "c", "t").await;
    let message = mock
        .topics()
        .publish("c", "t", HubValue::Text("from the test".into()), "harness")
        .unwrap();
    let item = next_item(&mut stream).await;
    assert_eq!(item.topic_sequence_number, message.topic_sequence_number);
    assert_eq!(item.sequence_page, message.sequence_page);
    assert_eq!(
        (text_of(&item), item.publisher_id.as_str()),
        ("from the test", "harness")
    );
    assert_eq!(mock.topics().retained_messages("c", "t").len(), 1);
    mock.shutdown().await;
}

#[tokio::test]
async fn pubsub_sits_behind_the_auth_token() {
    let mock = start_mock_with(Config {
        auth_token: Some("s3cret".into()),
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let mut client = pubsub(&mock).await;
    let err = publish(&mut client, "c", "t", text("x")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let err = subscribe(&mut client, "c", "t", 0, 0).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");

    let mut request = Request::new(momento_protos::cache_client::pubsub::PublishRequest {
        cache_name: "c".into(),
        topic: "t".into(),
        value: text("x"),
    });
    request
        .metadata_mut()
        .insert("authorization", MetadataValue::from_static("s3cret"));
    within("authorized Publish", client.publish(request))
        .await
        .unwrap();
    mock.shutdown().await;
}

#[tokio::test]
async fn subscriptions_end_cleanly_at_shutdown_without_waiting_for_the_grace_period() {
    let grace = Duration::from_secs(120);
    let mock = start_mock_with(Config {
        shutdown_grace: grace,
        ..Config::ephemeral()
    })
    .await;
    create_cache(&mock, "c").await;
    let mut client = pubsub(&mock).await;
    let mut stream = live_subscription(&mut client, "c", "t").await;

    let started = Instant::now();
    within_limit(
        "shutdown with an open subscription",
        Duration::from_secs(60),
        mock.shutdown(),
    )
    .await;
    assert!(
        started.elapsed() < grace,
        "shutdown waited {:?}",
        started.elapsed()
    );
    // The stream ends (cleanly: no error status), it does not hang.
    let end = within("the end of the stream", stream.message()).await;
    assert!(matches!(end, Ok(None)), "{end:?}");
}
