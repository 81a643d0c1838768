resource "momento_cache" "example" {
  name = "example-cache"
}

resource "momento_topic" "orders" {
  cache_name = momento_cache.example.name
  name       = "orders"
}

resource "momento_webhook" "orders_to_billing" {
  cache_name      = momento_cache.example.name
  name            = "orders-to-billing"
  topic_name      = momento_topic.orders.name
  destination_url = "https://billing.example.com/hooks/momento"

  # Change this value to rotate the signing secret in place.
  secret_rotation = "2026-11"
}

# Receivers verify the `momento-signature` header with this secret.
output "billing_webhook_secret" {
  value     = momento_webhook.orders_to_billing.secret
  sensitive = true
}
