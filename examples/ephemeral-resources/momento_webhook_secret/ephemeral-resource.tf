# Terraform >= 1.10: read the secret for this run only; it is never written to state or plans.
ephemeral "momento_webhook_secret" "billing" {
  cache_name   = "example-cache"
  webhook_name = "orders-to-billing"
}

# When the same configuration creates the webhook, refer to it by id. The id is known only once
# the webhook exists, so Terraform opens the secret after creating it, not at plan time.
resource "momento_webhook" "audit" {
  cache_name      = "example-cache"
  name            = "orders-to-audit"
  topic_name      = "orders"
  destination_url = "https://audit.example.com/hooks/momento"
}

ephemeral "momento_webhook_secret" "audit" {
  webhook_id = momento_webhook.audit.id
}
