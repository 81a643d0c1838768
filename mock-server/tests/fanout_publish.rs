//! End to end: messages published over gRPC (`cache_client.pubsub.Pubsub/Publish`) reach every
//! webhook of the topic as Momento's signed POST, and the topic's counters see them.

mod common;
mod webhook_support;

use common::{channel, start_mock, within};
use momento_mock::events::Deliveries;
use momento_mock::webhooks::signing::verify;
use momento_mock::webhooks::{DeliveryFilter, Outcome};
use momento_protos::cache_client::pubsub::pubsub_client::PubsubClient;
use momento_protos::cache_client::pubsub::{topic_value, PublishRequest, TopicValue};
use serde_json::Value;
use webhook_support::{client, put, received, receiver, signature_of, wait};

#[tokio::test]
async fn grpc_publish_fans_out_to_webhooks() {
    let mock = start_mock().await;
    mock.state().create_cache("chat").unwrap();
    let (a, b) = (receiver(204).await, receiver(204).await);
    let mut c = client(&mock).await;
    let secret_a = put(&mut c, "chat", "a", "room", &a.uri()).await.unwrap();
    let secret_b = put(&mut c, "chat", "b", "room", &b.uri()).await.unwrap();

    let mut pubsub = PubsubClient::new(channel(&mock).await);
    for kind in [
        topic_value::Kind::Text("Here I am!!".into()),
        topic_value::Kind::Binary(vec![1, 2, 3]),
    ] {
        within(
            "Publish",
            pubsub.publish(PublishRequest {
                cache_name: "chat".into(),
                topic: "room".into(),
                value: Some(TopicValue { kind: Some(kind) }),
            }),
        )
        .await
        .unwrap();
    }
    let delivered = |w: &str| DeliveryFilter::all().webhook(w).outcome(Outcome::Delivered);
    wait(&mock, delivered("a"), 2).await;
    wait(&mock, delivered("b"), 2).await;

    for (server, secret) in [(&a, &secret_a), (&b, &secret_b)] {
        let mut requests = received(server).await;
        assert_eq!(requests.len(), 2);
        requests.sort_by_key(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["topic_sequence_number"]
                .as_u64()
                .unwrap()
        });
        for (request, value) in requests
            .iter()
            .zip([r#""text":"Here I am!!""#, r#""binary":"AQID""#])
        {
            assert!(verify(secret, &request.body, &signature_of(request)));
            let json: Value = serde_json::from_slice(&request.body).unwrap();
            let (event, sent) = (
                json["event_timestamp"].as_u64().unwrap(),
                json["publish_timestamp"].as_u64().unwrap(),
            );
            assert!(sent >= event);
            // Exactly Momento's keys, in Momento's order, compact.
            assert_eq!(
                String::from_utf8(request.body.clone()).unwrap(),
                format!(
                    r#"{{"cache":"chat","topic":"room","event_timestamp":{event},"publish_timestamp":{sent},"topic_sequence_number":{},"token_id":"",{value}}}"#,
                    json["topic_sequence_number"]
                )
            );
        }
    }
    let counts = mock.webhooks().counts("chat", "room");
    assert_eq!((counts.webhooks, counts.ok), (2, 4));
    mock.shutdown().await;
}
