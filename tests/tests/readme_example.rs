//! The harness example from README.md, kept here so that it compiles and passes.
use acceptance::{DeliveryFilter, ImportVia, Receiver, Step, TestCase};
use futures::FutureExt;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_gets_signed_posts() {
    let receiver = Receiver::answering(204).await; // a real HTTP server (wiremock)
    let config = format!(
        r#"resource "momento_cache" "c" {{ name = "app" }}
resource "momento_webhook" "w" {{
  cache_name      = momento_cache.c.name
  name            = "w"
  topic_name      = "orders"
  destination_url = "{}"
}}"#,
        receiver.url()
    );
    TestCase::new(vec![Step::new(config)
        .check_attr("momento_webhook.w", "id", "app/w")
        .import_ignoring(
            "momento_webhook.w",
            "app/w",
            ImportVia::Cli,
            &["secret_rotation"],
        )
        .after(|h| {
            async move {
                h.publish_grpc("app", "orders", "hello").await?;
                h.wait_for_deliveries(
                    &DeliveryFilter::webhook("w").outcome("delivered"),
                    1,
                    Duration::from_secs(30),
                )
                .await?;
                Ok(())
            }
            .boxed()
        })])
    .run()
    .await;
}
