data "momento_webhooks" "example" {
  cache_name = "example-cache"
}

output "webhook_destinations" {
  value = { for w in data.momento_webhooks.example.webhooks : w.name => w.destination_url }
}
