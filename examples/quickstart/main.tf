# Quickstart: a cache, a topic and two webhooks. One webhook delivers to momento-mock's built-in
# receiver (/_mock/sink/audit), the other to any URL you give (`make demo` starts a small receiver).
terraform {
  required_providers {
    momento = {
      source = "local/momento"
    }
  }
}

variable "endpoint" {
  description = "Momento endpoint; momento-mock listens on http://127.0.0.1:8080 by default."
  type        = string
  default     = "http://127.0.0.1:8080"
}

variable "receiver_url" {
  description = "Where the second webhook POSTs each message."
  type        = string
  default     = "http://127.0.0.1:9000/hooks/momento"
}

provider "momento" {
  endpoint = var.endpoint
  # api_key defaults to MOMENTO_API_KEY; the mock's open mode accepts any key.
}

resource "momento_cache" "demo" {
  name = "quickstart"
}

resource "momento_topic" "orders" {
  cache_name = momento_cache.demo.name
  name       = "orders"
}

# Every message published to "orders" is POSTed to the mock's built-in receiver, which checks
# the momento-signature header against this webhook's secret.
resource "momento_webhook" "audit" {
  cache_name      = momento_cache.demo.name
  name            = "audit"
  topic_name      = momento_topic.orders.name
  destination_url = "${var.endpoint}/_mock/sink/audit"
}

# ... and to your own receiver.
resource "momento_webhook" "receiver" {
  cache_name      = momento_cache.demo.name
  name            = "receiver"
  topic_name      = momento_topic.orders.name
  destination_url = var.receiver_url
}

output "topic_id" {
  value = momento_topic.orders.id
}

output "webhook_secrets" {
  description = "Signing secrets: receivers verify momento-signature with them."
  value = {
    audit    = momento_webhook.audit.secret
    receiver = momento_webhook.receiver.secret
  }
  sensitive = true
}
