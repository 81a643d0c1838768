//! The signed-POST fan-out against real HTTP receivers (wiremock): exact bodies and headers,
//! signatures under the current secret, rotation, deletion, failures (HTTP status, timeout,
//! refused connection), queue overflow, rate limit, retries with `Retry-After`, shutdown drain,
//! stalled destinations not starving the others, and counters. Messages are handed to the engine as the data plane does
//! (`Deliveries::published`); every wait is a journal long-poll, except for requests a receiver
//! is still holding, which are polled from the receiver (bounded by `common::TIMEOUT`).

mod common;
mod webhook_support;

use std::time::Duration;

use common::{start_mock, start_mock_with, within};
use momento_mock::events::{Deliveries, TopicValue};
use momento_mock::webhooks::signing::verify;
use momento_mock::webhooks::{DeliveryFilter, ErrorKind, Outcome};
use momento_mock::Config;
use webhook_support::{
    client, closed_port_url, delete, expected_body, message, publish, publish_timestamp, put,
    received, receiver, rotate, signature_of, slow_receiver, text, wait,
};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn delivered(webhook: &str) -> DeliveryFilter {
    DeliveryFilter::all()
        .webhook(webhook)
        .outcome(Outcome::Delivered)
}

#[tokio::test]
async fn every_receiver_gets_each_message_once_with_exact_body_and_signature() {
    let mock = start_mock().await;
    mock.state().create_cache("chat").unwrap();
    let (a, b, other) = (
        receiver(204).await,
        receiver(200).await,
        receiver(204).await,
    );
    let mut c = client(&mock).await;
    let secret_a = put(&mut c, "chat", "a", "room", &format!("{}/hook-a", a.uri()))
        .await
        .unwrap();
    let secret_b = put(
        &mut c,
        "chat",
        "b",
        "room",
        &format!("{}/hook-b?x=1", b.uri()),
    )
    .await
    .unwrap();
    put(&mut c, "chat", "other", "elsewhere", &other.uri())
        .await
        .unwrap();

    let messages = [
        text("chat", "room", "Here I am!!"),
        text(
            "chat",
            "room",
            "quote \" backslash \\ newline \n unicode é✓😀",
        ),
        message(
            "chat",
            "room",
            TopicValue::Binary(vec![0, 1, 2, 0xfe, 0xff]),
        ),
    ];
    for m in &messages {
        publish(&mock, m);
    }
    let entries_a = wait(&mock, delivered("a"), 3).await;
    let entries_b = wait(&mock, delivered("b"), 3).await;
    for entry in entries_a.iter().chain(&entries_b) {
        assert_eq!(
            (entry.attempt, entry.error, entry.retrying),
            (1, None, false)
        );
        assert!(matches!(entry.status, Some(200 | 204)), "{entry:?}");
        assert_eq!(
            (entry.cache.as_str(), entry.topic.as_str()),
            ("chat", "room")
        );
    }

    for (server, secret, path) in [(&a, &secret_a, "/hook-a"), (&b, &secret_b, "/hook-b")] {
        let requests = received(server).await;
        assert_eq!(requests.len(), 3, "each message exactly once");
        for m in &messages {
            let request = requests
                .iter()
                .find(|r| {
                    let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                    json["topic_sequence_number"] == m.topic_sequence_number
                })
                .expect("the message arrived");
            assert_eq!(request.method.as_str(), "POST");
            assert_eq!(request.url.path(), path);
            let sent_at = publish_timestamp(&request.body);
            assert!(sent_at >= m.publish_timestamp_ms);
            assert_eq!(
                String::from_utf8(request.body.clone()).unwrap(),
                expected_body(m, sent_at)
            );
            let header = |name: &str| {
                request
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            assert_eq!(header("content-type").as_deref(), Some("application/json"));
            assert_eq!(
                header("user-agent").as_deref(),
                Some("Momento/1.0 (Webhooks; +https://docs.momentohq.com/topics/webhooks)")
            );
            let signature = signature_of(request);
            assert_eq!(signature.len(), 64);
            assert_eq!(signature, signature.to_lowercase());
            assert!(verify(secret, &request.body, &signature));
            let other_secret = if secret == &secret_a {
                &secret_b
            } else {
                &secret_a
            };
            assert!(!verify(other_secret, &request.body, &signature));
        }
    }
    // The binary value travels as standard base64 under "binary".
    let binary = received(&a)
        .await
        .into_iter()
        .find(|r| r.body.windows(9).any(|w| w == b"\"binary\":"))
        .expect("binary delivery");
    let json: serde_json::Value = serde_json::from_slice(&binary.body).unwrap();
    assert_eq!(json["binary"], "AAEC/v8=");
    assert!(json.get("text").is_none());

    assert!(received(&other).await.is_empty());
    let counts = mock.webhooks().counts("chat", "room");
    assert_eq!(
        (counts.webhooks, counts.ok, counts.failed, counts.dropped),
        (2, 6, 0, 0)
    );
    assert_eq!(mock.webhooks().counts("chat", "elsewhere").webhooks, 1);
    assert_eq!(mock.webhooks().counts("chat", "none").webhooks, 0);
    mock.shutdown().await;
}

#[tokio::test]
async fn rotation_signs_with_the_new_secret_only_and_update_moves_destination() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let (first, second) = (receiver(204).await, receiver(204).await);
    let mut c = client(&mock).await;
    let old = put(&mut c, "c", "w", "t", &first.uri()).await.unwrap();
    publish(&mock, &text("c", "t", "before"));
    wait(&mock, delivered("w"), 1).await;

    let new = rotate(&mut c, "c", "w").await.unwrap();
    publish(&mock, &text("c", "t", "after"));
    wait(&mock, delivered("w"), 2).await;
    let requests = received(&first).await;
    assert_eq!(requests.len(), 2);
    let after = requests
        .iter()
        .find(|r| r.body.ends_with(b"\"text\":\"after\"}"))
        .unwrap();
    assert!(verify(&new, &after.body, &signature_of(after)));
    assert!(!verify(&old, &after.body, &signature_of(after)));
    let before = requests
        .iter()
        .find(|r| r.body.ends_with(b"\"text\":\"before\"}"))
        .unwrap();
    assert!(verify(&old, &before.body, &signature_of(before)));

    // An update of the destination applies to the next delivery; the secret stays.
    assert_eq!(
        put(&mut c, "c", "w", "t", &second.uri()).await.unwrap(),
        new
    );
    publish(&mock, &text("c", "t", "moved"));
    let entries = wait(&mock, delivered("w"), 3).await;
    assert!(entries[2].url.starts_with(&second.uri()), "{entries:?}");
    let moved = received(&second).await;
    assert_eq!(moved.len(), 1);
    assert!(verify(&new, &moved[0].body, &signature_of(&moved[0])));
    assert_eq!(received(&first).await.len(), 2);

    // A topic change moves the webhook: the old topic no longer reaches it.
    put(&mut c, "c", "w", "t2", &second.uri()).await.unwrap();
    publish(&mock, &text("c", "t", "old topic"));
    publish(&mock, &text("c", "t2", "new topic"));
    let entries = wait(&mock, delivered("w"), 4).await;
    assert_eq!(entries[3].topic, "t2");
    assert!(received(&second)
        .await
        .iter()
        .all(|r| !r.body.ends_with(b"\"old topic\"}")));
    mock.shutdown().await;
}

#[tokio::test]
async fn a_deleted_webhook_gets_nothing_more() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let (gone, stays) = (receiver(204).await, receiver(204).await);
    let mut c = client(&mock).await;
    put(&mut c, "c", "gone", "t", &gone.uri()).await.unwrap();
    put(&mut c, "c", "stays", "t", &stays.uri()).await.unwrap();
    publish(&mock, &text("c", "t", "one"));
    wait(&mock, delivered("gone"), 1).await;
    wait(&mock, delivered("stays"), 1).await;

    delete(&mut c, "c", "gone").await.unwrap();
    for i in 0..3 {
        publish(&mock, &text("c", "t", &format!("later {i}")));
    }
    // The live webhook's deliveries are the barrier: they were published after the delete.
    wait(&mock, delivered("stays"), 4).await;
    assert_eq!(received(&gone).await.len(), 1);
    assert_eq!(mock.webhooks().counts("c", "t").webhooks, 1);
    mock.shutdown().await;
}

#[tokio::test]
async fn deleting_a_webhook_drops_its_queued_deliveries() {
    let mock = start_mock_with(Config {
        delivery_timeout: Duration::from_secs(60),
        webhook_concurrency: 1,
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let stalled = slow_receiver(Duration::from_secs(60)).await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "w", "t", &stalled.uri()).await.unwrap();
    for i in 0..3 {
        publish(&mock, &text("c", "t", &i.to_string()));
    }
    delete(&mut c, "c", "w").await.unwrap();
    let entries = wait(
        &mock,
        DeliveryFilter::all()
            .webhook("w")
            .error(ErrorKind::WebhookDeleted),
        3,
    )
    .await;
    assert!(entries.iter().all(|e| e.outcome == Outcome::Dropped));
    assert_eq!(mock.webhooks().counts("c", "t").dropped, 3);
    mock.shutdown().await;
}

#[tokio::test]
async fn non_2xx_is_failed_with_its_status() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let failing = receiver(500).await;
    let redirecting = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", failing.uri()))
        .mount(&redirecting)
        .await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "five-hundred", "t", &failing.uri())
        .await
        .unwrap();
    put(&mut c, "c", "redirect", "t", &redirecting.uri())
        .await
        .unwrap();
    publish(&mock, &text("c", "t", "x"));
    let failed = |w: &str| DeliveryFilter::all().webhook(w).outcome(Outcome::Failed);
    let entry = &wait(&mock, failed("five-hundred"), 1).await[0];
    assert_eq!(entry.status, Some(500));
    assert_eq!(entry.error, Some(ErrorKind::HttpStatus));
    assert!(!entry.retrying);
    // Redirects are not followed: a 3xx is a failure too.
    let entry = &wait(&mock, failed("redirect"), 1).await[0];
    assert_eq!(entry.status, Some(302));
    assert_eq!(received(&failing).await.len(), 1);
    let counts = mock.webhooks().counts("c", "t");
    assert_eq!((counts.ok, counts.failed), (0, 2));
    mock.shutdown().await;
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out() {
    let mock = start_mock_with(Config {
        delivery_timeout: Duration::from_millis(300),
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let silent = slow_receiver(Duration::from_secs(60)).await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "w", "t", &silent.uri()).await.unwrap();
    publish(&mock, &text("c", "t", "x"));
    let entry = &wait(
        &mock,
        DeliveryFilter::all().webhook("w").outcome(Outcome::Failed),
        1,
    )
    .await[0];
    assert_eq!(entry.error, Some(ErrorKind::Timeout), "{entry:?}");
    assert_eq!(entry.status, None);
    mock.shutdown().await;
}

/// Destinations that hold every attempt until the timeout must not take the global cap away
/// from the others: each webhook always has one attempt of its own.
#[tokio::test]
async fn stalled_destinations_cannot_starve_other_webhooks() {
    let mock = start_mock_with(Config {
        max_inflight_deliveries: 1,
        webhook_concurrency: 4,
        // Longer than every wait of the test: a stalled attempt holds its slot throughout.
        delivery_timeout: Duration::from_secs(300),
        shutdown_grace: Duration::from_millis(100),
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let stalled = slow_receiver(Duration::from_secs(300)).await;
    let live = receiver(204).await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "stalled-a", "t-stalled", &stalled.uri())
        .await
        .unwrap();
    put(&mut c, "c", "stalled-b", "t-stalled", &stalled.uri())
        .await
        .unwrap();
    put(&mut c, "c", "live", "t-live", &live.uri())
        .await
        .unwrap();
    // Enough attempts to fill both stalled webhooks' own slots and the one global slot.
    for i in 0..6 {
        publish(&mock, &text("c", "t-stalled", &format!("s{i}")));
    }
    let stalled_requests = within("the stalled receiver gets its 3 requests", async {
        loop {
            let got = stalled.received_requests().await.unwrap_or_default().len();
            if got >= 3 {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(stalled_requests, 3, "2 reserved slots and 1 global slot");

    publish(&mock, &text("c", "t-live", "hello"));
    wait(&mock, delivered("live"), 1).await;
    assert_eq!(received(&live).await.len(), 1);
    assert!(
        mock.deliveries()
            .query(&DeliveryFilter::all().topic("t-stalled"))
            .is_empty(),
        "the stalled attempts are still in flight"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn a_closed_port_is_a_connect_failure() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let mut c = client(&mock).await;
    let url = closed_port_url();
    put(&mut c, "c", "w", "t", &url).await.unwrap();
    publish(&mock, &text("c", "t", "x"));
    let entry = &wait(
        &mock,
        DeliveryFilter::all().webhook("w").outcome(Outcome::Failed),
        1,
    )
    .await[0];
    assert_eq!(entry.error, Some(ErrorKind::Connect), "{entry:?}");
    assert_eq!(entry.url, url);
    assert!(entry.detail.is_some());
    mock.shutdown().await;
}

#[tokio::test]
async fn a_full_queue_drops_and_says_so() {
    let mock = start_mock_with(Config {
        webhook_queue_capacity: 1,
        webhook_concurrency: 1,
        delivery_timeout: Duration::from_secs(60),
        shutdown_grace: Duration::from_millis(100),
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let stalled = slow_receiver(Duration::from_secs(60)).await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "w", "t", &stalled.uri()).await.unwrap();
    // At most one in flight, one held by the worker and one queued: the rest must be dropped.
    for i in 0..10 {
        publish(&mock, &text("c", "t", &i.to_string()));
    }
    let dropped = wait(
        &mock,
        DeliveryFilter::all()
            .webhook("w")
            .error(ErrorKind::QueueFull),
        7,
    )
    .await;
    assert!(dropped
        .iter()
        .all(|e| e.outcome == Outcome::Dropped && e.status.is_none()));
    assert!(mock.webhooks().counts("c", "t").dropped >= 7);

    // Shutdown with a short grace abandons the stalled ones and journals them.
    let webhooks = mock.webhooks().clone();
    mock.shutdown().await;
    let abandoned = webhooks
        .journal()
        .query(&DeliveryFilter::all().error(ErrorKind::Shutdown));
    assert!(!abandoned.is_empty());
    let all = webhooks.journal().query(&DeliveryFilter::all());
    assert_eq!(all.len(), 10, "every message accounted for: {all:#?}");
}

#[tokio::test]
async fn the_rate_limit_drops_the_excess() {
    let mock = start_mock_with(Config {
        max_deliveries_per_second: 2,
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let ok = receiver(204).await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "w", "t", &ok.uri()).await.unwrap();
    for i in 0..10 {
        publish(&mock, &text("c", "t", &i.to_string()));
    }
    let limited = wait(
        &mock,
        DeliveryFilter::all()
            .webhook("w")
            .error(ErrorKind::RateLimited),
        5,
    )
    .await;
    assert!(limited.iter().all(|e| e.outcome == Outcome::Dropped));
    let delivered_count = wait(&mock, delivered("w"), 2).await.len();
    assert!(delivered_count <= 5, "{delivered_count}");
    mock.shutdown().await;
}

#[tokio::test]
async fn retries_back_off_and_honour_retry_after() {
    let mock = start_mock_with(Config {
        delivery_attempts: 3,
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let flaky = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&flaky)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&flaky)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(3)
        .mount(&flaky)
        .await;
    let always_failing = receiver(500).await;
    let mut c = client(&mock).await;
    let secret = put(&mut c, "c", "flaky", "t", &flaky.uri()).await.unwrap();
    put(&mut c, "c", "broken", "t", &always_failing.uri())
        .await
        .unwrap();
    let m = text("c", "t", "again");
    publish(&mock, &m);

    wait(&mock, delivered("flaky"), 1).await;
    let attempts = mock
        .deliveries()
        .query(&DeliveryFilter::all().webhook("flaky"));
    let summary: Vec<_> = attempts
        .iter()
        .map(|e| (e.attempt, e.status, e.outcome, e.retrying))
        .collect();
    assert_eq!(
        summary,
        [
            (1, Some(429), Outcome::Failed, true),
            (2, Some(503), Outcome::Failed, true),
            (3, Some(204), Outcome::Delivered, false),
        ]
    );
    // Retry-After: 1 was honoured (a lower bound only; never flaky on a slow machine).
    assert!(
        attempts[2].started_at_ms >= attempts[1].started_at_ms + 990,
        "{attempts:#?}"
    );
    // Each attempt is signed afresh over its own body, with a fresh publish_timestamp.
    let requests = received(&flaky).await;
    assert_eq!(requests.len(), 3);
    let mut last = 0;
    for request in &requests {
        let sent_at = publish_timestamp(&request.body);
        assert!(sent_at >= last);
        last = sent_at;
        assert_eq!(
            String::from_utf8(request.body.clone()).unwrap(),
            expected_body(&m, sent_at)
        );
        assert!(verify(&secret, &request.body, &signature_of(request)));
    }

    let broken = wait(
        &mock,
        DeliveryFilter::all()
            .webhook("broken")
            .outcome(Outcome::Failed),
        3,
    )
    .await;
    let summary: Vec<_> = broken.iter().map(|e| (e.attempt, e.retrying)).collect();
    assert_eq!(summary, [(1, true), (2, true), (3, false)]);
    let counts = mock.webhooks().counts("c", "t");
    assert_eq!((counts.ok, counts.failed), (1, 1));
    mock.shutdown().await;
}

#[tokio::test]
async fn shutdown_drains_in_flight_deliveries() {
    let mock = start_mock_with(Config {
        shutdown_grace: Duration::from_secs(60),
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let slowish = slow_receiver(Duration::from_millis(200)).await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "w", "t", &slowish.uri()).await.unwrap();
    for i in 0..5 {
        publish(&mock, &text("c", "t", &i.to_string()));
    }
    let webhooks = mock.webhooks().clone();
    common::within("shutdown", mock.shutdown()).await;
    let done = webhooks.journal().query(&delivered("w"));
    assert_eq!(done.len(), 5, "{done:#?}");
    // After shutdown, new messages are dropped and journaled, not sent.
    webhooks.published(&text("c", "t", "late"));
    let late = webhooks
        .journal()
        .query(&DeliveryFilter::all().error(ErrorKind::Shutdown));
    assert_eq!(late.len(), 1);
    assert_eq!(received(&slowish).await.len(), 5);
}

#[tokio::test]
async fn cache_deletion_stops_deliveries_and_resets_counters() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let ok = receiver(204).await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "w", "t", &ok.uri()).await.unwrap();
    publish(&mock, &text("c", "t", "x"));
    wait(&mock, delivered("w"), 1).await;
    assert_eq!(mock.webhooks().counts("c", "t").ok, 1);
    mock.state().delete_cache("c").unwrap();
    assert_eq!(mock.webhooks().counts("c", "t"), Default::default());
    mock.state().create_cache("c").unwrap();
    publish(&mock, &text("c", "t", "y"));
    // A webhook on a fresh cache is the barrier for the message above.
    put(&mut c, "c", "fresh", "t", &ok.uri()).await.unwrap();
    publish(&mock, &text("c", "t", "z"));
    wait(&mock, delivered("fresh"), 1).await;
    assert_eq!(mock.deliveries().query(&delivered("w")).len(), 1);
    assert_eq!(received(&ok).await.len(), 2);
    mock.shutdown().await;
}
