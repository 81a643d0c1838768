//! The webhook parts of the plain-HTTP API: `GET /_mock/deliveries` (filters, long-poll, JSON
//! shape), the built-in receiver `/_mock/sink/{name}` (recording, `signature_valid`, long-poll,
//! clearing) and `POST /_mock/reset` clearing both.

mod common;
mod webhook_support;

use common::{start_mock, within};
use momento_mock::events::Deliveries;
use momento_mock::webhooks::signing::sign;
use momento_mock::webhooks::{DeliveryFilter, Outcome};
use serde_json::{json, Value};
use webhook_support::{client, publish, put, receiver, rotate, text, wait};

async fn get_json(url: String) -> (u16, Value) {
    within(&format!("GET {url}"), async {
        let response = reqwest::Client::new()
            .get(&url)
            .send()
            .await
            .expect("GET answered");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("body");
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(&bytes)));
        (status, json)
    })
    .await
}

async fn post(url: String, signature: Option<&str>, body: &'static str) -> u16 {
    within(&format!("POST {url}"), async {
        let mut request = reqwest::Client::new()
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("momento-signature", signature);
        }
        request
            .send()
            .await
            .expect("POST answered")
            .status()
            .as_u16()
    })
    .await
}

#[tokio::test]
async fn deliveries_long_poll_filters_and_shape() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let ok = receiver(204).await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "w", "t", &ok.uri()).await.unwrap();
    put(&mut c, "c", "other", "u", &ok.uri()).await.unwrap();

    // The long-poll is asked before anything is published, and wakes when it happens.
    let poll = tokio::spawn(get_json(format!(
        "{}/_mock/deliveries?cache=c&topic=t&webhook=w&outcome=delivered&min_count=2&timeout_ms=60000",
        mock.endpoint()
    )));
    let m1 = text("c", "t", "one");
    publish(&mock, &m1);
    publish(&mock, &text("c", "u", "elsewhere"));
    publish(&mock, &text("c", "t", "two"));
    let (status, body) = within("long-poll", poll).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["timed_out"], false, "{body}");
    assert_eq!(body["count"], 2, "{body}");
    let entry = &body["deliveries"][0];
    let keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "id",
        "cache",
        "topic",
        "webhook",
        "url",
        "topic_sequence_number",
        "attempt",
        "started_at_ms",
        "duration_ms",
        "status",
        "error",
        "detail",
        "outcome",
        "retrying",
    ] {
        assert!(keys.contains(&key), "{key} missing from {entry}");
    }
    assert_eq!(entry["cache"], "c");
    assert_eq!(entry["webhook"], "w");
    assert_eq!(entry["outcome"], "delivered");
    assert_eq!(entry["status"], 204);
    assert_eq!(entry["error"], Value::Null);
    assert_eq!(entry["attempt"], 1);
    assert_eq!(entry["url"], ok.uri());
    assert!(entry["id"].as_u64().unwrap() < body["deliveries"][1]["id"].as_u64().unwrap());

    // Nothing matches: the wait ends at its timeout and says so.
    let (status, body) = get_json(format!(
        "{}/_mock/deliveries?outcome=failed&min_count=1&timeout_ms=50",
        mock.endpoint()
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"deliveries": [], "count": 0, "timed_out": true})
    );

    // Without min_count it answers at once with everything that matches.
    wait(
        &mock,
        DeliveryFilter::all()
            .webhook("other")
            .outcome(Outcome::Delivered),
        1,
    )
    .await;
    let (_, body) = get_json(format!("{}/_mock/deliveries", mock.endpoint())).await;
    assert_eq!(body["count"], 3, "{body}");
    let first_id = body["deliveries"][0]["id"].as_u64().unwrap();
    let (_, body) = get_json(format!(
        "{}/_mock/deliveries?after_id={first_id}",
        mock.endpoint()
    ))
    .await;
    assert_eq!(body["count"], 2, "{body}");

    for bad in ["outcome=nope", "min_count=-1", "timeout_ms=x", "error=nope"] {
        let (status, body) = get_json(format!("{}/_mock/deliveries?{bad}", mock.endpoint())).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "invalid_argument", "{body}");
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn the_sink_records_deliveries_and_checks_signatures() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let mut c = client(&mock).await;
    let sink_url = format!("{}/_mock/sink/demo", mock.endpoint());
    let secret = put(&mut c, "c", "w", "t", &sink_url).await.unwrap();

    publish(&mock, &text("c", "t", "hello sink"));
    wait(
        &mock,
        DeliveryFilter::all()
            .webhook("w")
            .outcome(Outcome::Delivered),
        1,
    )
    .await;
    let (status, body) = get_json(sink_url.clone()).await;
    assert_eq!(status, 200);
    let requests = body["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{body}");
    let r = &requests[0];
    assert_eq!(r["method"], "POST");
    assert_eq!(r["signature_valid"], true, "{r}");
    assert_eq!(r["body_truncated"], false, "{r}");
    assert_eq!(r["headers"]["content-type"], "application/json");
    assert_eq!(
        r["headers"]["user-agent"],
        "Momento/1.0 (Webhooks; +https://docs.momentohq.com/topics/webhooks)"
    );
    let delivered_body = r["body"].as_str().unwrap().to_owned();
    assert!(
        delivered_body.ends_with(r#""text":"hello sink"}"#),
        "{delivered_body}"
    );
    assert_eq!(
        r["headers"]["momento-signature"],
        sign(&secret, delivered_body.as_bytes())
    );
    assert!(r["received_at_ms"].as_u64().unwrap() > 0);

    // A forged signature, and no signature, are recorded as invalid.
    assert_eq!(post(sink_url.clone(), Some("00ff"), "{}").await, 204);
    assert_eq!(post(sink_url.clone(), None, "{}").await, 204);
    // After a rotation the old secret no longer verifies, the new one does.
    let new = rotate(&mut c, "c", "w").await.unwrap();
    let old_signature = sign(&secret, b"{\"x\":1}");
    let new_signature = sign(&new, b"{\"x\":1}");
    assert_eq!(
        post(sink_url.clone(), Some(&old_signature), "{\"x\":1}").await,
        204
    );
    assert_eq!(
        post(sink_url.clone(), Some(&new_signature), "{\"x\":1}").await,
        204
    );
    let (_, body) = get_json(sink_url.clone()).await;
    let verdicts: Vec<&Value> = body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["signature_valid"])
        .collect();
    assert_eq!(
        verdicts,
        [
            &json!(true),
            &json!(false),
            &json!(false),
            &json!(false),
            &json!(true)
        ]
    );

    // No webhook points at this sink: no verdict.
    let lonely = format!("{}/_mock/sink/lonely", mock.endpoint());
    assert_eq!(post(lonely.clone(), Some("00"), "x").await, 204);
    let (_, body) = get_json(lonely.clone()).await;
    assert_eq!(
        body["requests"][0]["signature_valid"],
        Value::Null,
        "{body}"
    );
    assert_eq!(body["requests"][0]["body"], "x");

    // Long-poll: asked first, answered when the request arrives.
    let poll = tokio::spawn(get_json(format!(
        "{}/_mock/sink/later?min_count=1&timeout_ms=60000",
        mock.endpoint()
    )));
    assert_eq!(
        post(
            format!("{}/_mock/sink/later", mock.endpoint()),
            None,
            "late"
        )
        .await,
        204
    );
    let (_, body) = within("sink long-poll", poll).await.unwrap();
    assert_eq!(body["count"], 1, "{body}");
    assert_eq!(body["timed_out"], false);

    // DELETE clears one sink.
    let status = within("DELETE sink", async {
        reqwest::Client::new()
            .delete(&lonely)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
    .await;
    assert_eq!(status, 204);
    let (_, body) = get_json(lonely).await;
    assert_eq!(body["requests"], json!([]));
    let (_, body) = get_json(sink_url.clone()).await;
    assert_eq!(body["count"], 5);
    mock.shutdown().await;
}

#[tokio::test]
async fn reset_clears_the_journal_and_the_sinks() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let mut c = client(&mock).await;
    let sink_url = format!("{}/_mock/sink/r", mock.endpoint());
    put(&mut c, "c", "w", "t", &sink_url).await.unwrap();
    publish(&mock, &text("c", "t", "x"));
    wait(&mock, DeliveryFilter::all().outcome(Outcome::Delivered), 1).await;
    let status = within("reset", async {
        reqwest::Client::new()
            .post(format!("{}/_mock/reset", mock.endpoint()))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
    .await;
    assert_eq!(status, 204);
    let (_, body) = get_json(format!("{}/_mock/deliveries", mock.endpoint())).await;
    assert_eq!(body["count"], 0, "{body}");
    let (_, body) = get_json(sink_url).await;
    assert_eq!(body["count"], 0, "{body}");
    // The caches, and with them the webhooks, are gone too.
    assert_eq!(mock.webhooks().counts("c", "t").webhooks, 0);
    mock.shutdown().await;
}
