//! Momento's HTTP topics API on the mock's port: `POST /topics/{cache}/{topic}` (content types,
//! 204/400/401/404/415/429, header vs query token) and the `GET` long-poll (items, binary values,
//! discontinuities, "from now", the timeout), checked against gRPC subscribers and the hub.

mod common;
mod pubsub_support;

use std::time::Duration;

use common::{start_mock_with, within, HttpResponse};
use momento_mock::events::TopicValue;
use momento_mock::{Config, RunningMock};
use momento_protos::cache_client::pubsub::topic_value;
use pubsub_support::*;
use serde_json::json;

const TEXT: (&str, &str) = ("content-type", "text/plain");
const BYTES: (&str, &str) = ("content-type", "application/octet-stream");

async fn post(
    mock: &RunningMock,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    http_request(mock, "POST", path, headers, body).await
}

async fn get(mock: &RunningMock, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    http_request(mock, "GET", path, headers, b"").await
}

fn assert_error(response: &HttpResponse, status: u16, parts: &[&str]) {
    assert_eq!(response.status, status, "{response:?}");
    assert_eq!(
        response.content_type.as_deref(),
        Some("application/json"),
        "{response:?}"
    );
    let body = response.json();
    assert!(body["error"].is_string(), "{response:?}");
    let message = body["message"].as_str().unwrap_or_default();
    for part in parts {
        assert!(message.contains(part), "{part:?} not in {response:?}");
    }
}

#[tokio::test]
async fn post_publishes_text_and_bytes() {
    let mock = start_mock_with(Config::ephemeral()).await;
    create_cache(&mock, "c").await;
    let mut client = pubsub(&mock).await;
    let mut stream = live_subscription(&mut client, "c", "t").await;

    let response = post(&mock, "/topics/c/t", &[TEXT], "héllo".as_bytes()).await;
    assert_eq!(response.status, 204, "{response:?}");
    assert!(response.body.is_empty());
    let response = post(&mock, "/topics/c/t", &[BYTES], &[0, 255, 1]).await;
    assert_eq!(response.status, 204, "{response:?}");
    // Any charset parameter, any case.
    let response = post(
        &mock,
        "/topics/c/t",
        &[("content-type", "Text/Plain; charset=ISO-8859-1")],
        b"plain",
    )
    .await;
    assert_eq!(response.status, 204, "{response:?}");
    // Percent-encoded names.
    let response = post(&mock, "/topics/c/room%201", &[TEXT], b"spaced").await;
    assert_eq!(response.status, 204, "{response:?}");

    let item = next_item(&mut stream).await;
    assert_eq!((item.topic_sequence_number, text_of(&item)), (1, "héllo"));
    let item = next_item(&mut stream).await;
    assert_eq!(
        item.value.and_then(|v| v.kind),
        Some(topic_value::Kind::Binary(vec![0, 255, 1]))
    );
    assert_eq!(text_of(&next_item(&mut stream).await), "plain");
    assert_eq!(
        mock.topics().retained_messages("c", "room 1")[0].value,
        TopicValue::Text("spaced".into())
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn post_errors() {
    let mock = start_mock_with(Config {
        max_message_bytes: 4,
        ..Config::ephemeral()
    })
    .await;
    create_cache(&mock, "c").await;

    for headers in [&[][..], &[("content-type", "application/json")][..]] {
        let response = post(&mock, "/topics/c/t", headers, b"x").await;
        assert_error(&response, 415, &["text/plain", "application/octet-stream"]);
    }
    let response = post(&mock, "/topics/c/t", &[TEXT], &[0xff, 0xfe]).await;
    assert_error(&response, 400, &["UTF-8"]);
    let response = post(&mock, "/topics/missing/t", &[TEXT], b"x").await;
    assert_error(&response, 404, &["\"missing\""]);
    let response = post(&mock, "/topics/bad%20name/t", &[TEXT], b"x").await;
    assert_error(&response, 400, &["invalid cache name"]);

    // RESOURCE_EXHAUSTED is 429 in Momento's HTTP API.
    let response = post(&mock, "/topics/c/t", &[BYTES], b"12345").await;
    assert_error(
        &response,
        429,
        &["5 bytes", "4 bytes", "--max-message-bytes"],
    );
    assert_eq!(response.json()["error"], "request_size_limit_exceeded");
    let response = post(&mock, "/topics/c/t", &[BYTES], b"1234").await;
    assert_eq!(response.status, 204, "{response:?}");
    assert_eq!(
        mock.topics().counters("c", "t").unwrap().messages_published,
        1
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn tokens_go_in_the_header_or_the_query_never_both() {
    let token = jwt(r#"{"id":"http-publisher"}"#);
    let mock = start_mock_with(Config {
        auth_token: Some(token.clone()),
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();

    let response = post(&mock, "/topics/c/t", &[TEXT], b"x").await;
    assert_error(&response, 401, &["Authorization"]);
    let response = post(
        &mock,
        "/topics/c/t",
        &[TEXT, ("authorization", "wrong-token")],
        b"x",
    )
    .await;
    assert_error(&response, 401, &["invalid auth token"]);
    assert!(!response.body.contains("wrong-token") && !response.body.contains(&token));
    let response = get(&mock, "/topics/c/t?timeout_ms=1", &[]).await;
    assert_error(&response, 401, &[]);

    let response = post(
        &mock,
        "/topics/c/t",
        &[TEXT, ("authorization", &token)],
        b"header",
    )
    .await;
    assert_eq!(response.status, 204, "{response:?}");
    let path = format!("/topics/c/t?token={token}");
    let response = post(&mock, &path, &[TEXT], b"query").await;
    assert_eq!(response.status, 204, "{response:?}");
    let response = post(&mock, &path, &[TEXT, ("authorization", &token)], b"both").await;
    assert_error(&response, 400, &["not both"]);
    assert!(!response.body.contains(&token));

    // The token's id claim is the publisher id.
    let retained = mock.topics().retained_messages("c", "t");
    assert_eq!(retained.len(), 2);
    assert!(
        retained.iter().all(|m| m.publisher_id == "http-publisher"),
        "{retained:?}"
    );

    let response = get(
        &mock,
        &format!("/topics/c/t?token={token}&sequence_number=1"),
        &[],
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.json()["items"].as_array().map(Vec::len), Some(2));
    mock.shutdown().await;
}

#[tokio::test]
async fn strict_mode_refuses_undeclared_topics_over_http() {
    let mock = start_mock_with(Config {
        strict_topics: true,
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let response = post(&mock, "/topics/c/t", &[TEXT], b"x").await;
    assert_error(&response, 404, &["--strict-topics"]);
    let response = get(&mock, "/topics/c/t?timeout_ms=1", &[]).await;
    assert_error(&response, 404, &["--strict-topics"]);
    mock.topics().declare_topic("c", "t").unwrap();
    let response = post(&mock, "/topics/c/t", &[TEXT], b"x").await;
    assert_eq!(response.status, 204, "{response:?}");
    mock.shutdown().await;
}

#[tokio::test]
async fn long_poll_returns_retained_items_at_once() {
    let mock = start_mock_with(Config::ephemeral()).await;
    mock.state().create_cache("c").unwrap();
    let hub = mock.topics();
    hub.publish("c", "t", TopicValue::Text("hi".into()), "")
        .unwrap();
    hub.publish("c", "t", TopicValue::Binary(vec![1, 2, 3, 250]), "")
        .unwrap();
    let page = hub.counters("c", "t").unwrap().sequence_page;

    // A long timeout: the answer must not wait for it.
    let response = get(
        &mock,
        &format!("/topics/c/t?sequence_number=1&sequence_page={page}&timeout_ms=60000"),
        &[],
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        response.json(),
        json!({"items": [
            {"item": {"topic_sequence_number": 1, "sequence_page": page, "value": {"text": "hi"}}},
            {"item": {"topic_sequence_number": 2, "sequence_page": page, "value": {"binary": "AQID+g=="}}},
        ]})
    );
    // From the middle.
    let response = get(&mock, "/topics/c/t?sequence_number=2&timeout_ms=60000", &[]).await;
    assert_eq!(
        response.json()["items"][0]["item"]["topic_sequence_number"],
        2
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn long_poll_waits_for_the_next_item() {
    let mock = start_mock_with(Config::ephemeral()).await;
    mock.state().create_cache("c").unwrap();
    let hub = mock.topics().clone();
    hub.publish("c", "t", TopicValue::Text("one".into()), "")
        .unwrap();

    // At a position: whether the publish lands before or after the poll starts, it is returned.
    let endpoint_mock = &mock;
    let poll = get(
        endpoint_mock,
        "/topics/c/t?sequence_number=2&timeout_ms=60000",
        &[],
    );
    let publish = async {
        hub.publish("c", "t", TopicValue::Text("two".into()), "")
            .unwrap();
    };
    let (response, ()) = tokio::join!(poll, publish);
    assert_eq!(response.status, 200, "{response:?}");
    let items = response.json()["items"].clone();
    assert_eq!(items.as_array().map(Vec::len), Some(1), "{items}");
    assert_eq!(items[0]["item"]["topic_sequence_number"], 2);
    assert_eq!(items[0]["item"]["value"]["text"], "two");

    // From now (no position): only what is published after the poll began.
    let poll = get(endpoint_mock, "/topics/c/t?timeout_ms=60000", &[]);
    let publish = async {
        wait_until("the poll is subscribed", || {
            hub.counters("c", "t").map(|c| c.subscribers) == Some(1)
        })
        .await;
        hub.publish("c", "t", TopicValue::Text("three".into()), "")
            .unwrap();
    };
    let (response, ()) = tokio::join!(poll, publish);
    let items = response.json()["items"].clone();
    assert_eq!(items.as_array().map(Vec::len), Some(1), "{items}");
    assert_eq!(items[0]["item"]["topic_sequence_number"], 3);
    mock.shutdown().await;
}

#[tokio::test]
async fn long_poll_answers_empty_after_its_timeout() {
    let mock = start_mock_with(Config::ephemeral()).await;
    mock.state().create_cache("c").unwrap();
    let response = within(
        "a short long-poll",
        get(&mock, "/topics/c/t?sequence_number=1&timeout_ms=100", &[]),
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.json(), json!({"items": []}));

    let response = get(&mock, "/topics/c/t?timeout_ms=600001", &[]).await;
    assert_error(&response, 400, &["timeout_ms"]);
    let response = get(&mock, "/topics/c/t?sequence_number=-1", &[]).await;
    assert_error(&response, 400, &["sequence_number"]);
    let response = get(&mock, "/topics/missing/t?timeout_ms=1", &[]).await;
    assert_error(&response, 404, &["\"missing\""]);
    mock.shutdown().await;
}

#[tokio::test]
async fn long_poll_reports_discontinuities() {
    let mock = start_mock_with(Config {
        topic_log_capacity: 2,
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let hub = mock.topics();
    for v in ["1", "2", "3"] {
        hub.publish("c", "t", TopicValue::Text(v.into()), "")
            .unwrap();
    }
    let page = hub.counters("c", "t").unwrap().sequence_page;
    let response = get(&mock, "/topics/c/t?sequence_number=1&timeout_ms=60000", &[]).await;
    let items = response.json()["items"].clone();
    assert_eq!(
        items[0],
        json!({"discontinuity": {"last_topic_sequence": 0, "new_topic_sequence": 1, "new_sequence_page": page}})
    );
    assert_eq!(items[1]["item"]["topic_sequence_number"], 2);
    assert_eq!(items[2]["item"]["topic_sequence_number"], 3);
    // An old page: the new one is announced.
    let response = get(
        &mock,
        &format!(
            "/topics/c/t?sequence_number=9&sequence_page={}&timeout_ms=60000",
            page - 1
        ),
        &[],
    )
    .await;
    let items = response.json()["items"].clone();
    assert_eq!(items[0]["discontinuity"]["new_sequence_page"], page);
    mock.shutdown().await;
}

#[tokio::test]
async fn long_polls_end_at_shutdown() {
    let mock = start_mock_with(Config {
        shutdown_grace: Duration::from_secs(120),
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let hub = mock.topics().clone();
    let addr_mock = &mock;
    let poll = get(addr_mock, "/topics/c/t?timeout_ms=60000", &[]);
    let stop = async {
        wait_until("the poll is subscribed", || {
            hub.counters("c", "t").map(|c| c.subscribers) == Some(1)
        })
        .await;
        mock.shutdown_token().cancel();
    };
    let (response, ()) = within_limit("a poll during shutdown", Duration::from_secs(30), async {
        tokio::join!(poll, stop)
    })
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.json(), json!({"items": []}));
}
