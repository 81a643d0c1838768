# Terraform >= 1.10: read the secret for this run only; it is never written to state or plans.
ephemeral "momento_webhook_secret" "billing" {
  cache_name   = "example-cache"
  webhook_name = "orders-to-billing"
}
