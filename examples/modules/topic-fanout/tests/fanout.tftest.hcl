# `terraform test` for topic-fanout against a live momento-mock. `make module-test` starts the
# mock; by hand: MOMENTO_ENDPOINT=http://127.0.0.1:8080 terraform test -var endpoint=http://127.0.0.1:8080

# The provider reads MOMENTO_ENDPOINT (set to the mock's address by `make module-test`).
provider "momento" {}

variables {
  cache_name = "fanout-test"
  topic_name = "orders"
}

run "setup_cache" {
  module {
    source = "./tests/setup"
  }
}

run "creates_topic_and_webhooks" {
  variables {
    webhooks = {
      billing  = "${run.setup_cache.endpoint}/_mock/sink/billing"
      shipping = "${run.setup_cache.endpoint}/_mock/sink/shipping"
    }
  }

  assert {
    condition     = momento_topic.this.id == "fanout-test/orders"
    error_message = "the topic id is <cache>/<topic>"
  }

  assert {
    condition     = output.webhook_ids == { billing = "fanout-test/billing", shipping = "fanout-test/shipping" }
    error_message = "one webhook per map entry, named after its key"
  }

  assert {
    condition     = alltrue([for w in momento_webhook.this : w.topic_name == "orders"])
    error_message = "every webhook listens on the module's topic"
  }

  assert {
    condition     = length(distinct([for w in momento_webhook.this : w.secret])) == 2
    error_message = "every webhook has its own secret"
  }
}

run "moving_a_destination_updates_in_place" {
  variables {
    webhooks = {
      billing  = "${run.setup_cache.endpoint}/_mock/sink/billing-v2"
      shipping = "${run.setup_cache.endpoint}/_mock/sink/shipping"
    }
  }

  assert {
    condition     = momento_webhook.this["billing"].destination_url == "${run.setup_cache.endpoint}/_mock/sink/billing-v2"
    error_message = "the destination changed"
  }

  assert {
    condition     = momento_webhook.this["billing"].secret == run.creates_topic_and_webhooks.webhook_secrets["billing"]
    error_message = "updating the destination keeps the secret"
  }
}

run "rotation_changes_every_secret" {
  variables {
    webhooks = {
      billing  = "${run.setup_cache.endpoint}/_mock/sink/billing-v2"
      shipping = "${run.setup_cache.endpoint}/_mock/sink/shipping"
    }
    secret_rotation = "2026-11"
  }

  assert {
    condition     = momento_webhook.this["shipping"].secret != run.creates_topic_and_webhooks.webhook_secrets["shipping"]
    error_message = "changing secret_rotation rotates the secret"
  }
}

run "rejects_relative_destinations" {
  command = plan

  variables {
    webhooks = {
      broken = "/not-a-url"
    }
  }

  expect_failures = [var.webhooks]
}
