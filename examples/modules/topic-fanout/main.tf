# topic-fanout: one topic in an existing cache, plus one webhook per entry of `webhooks`.
# Every message published to the topic is POSTed, signed, to every destination.
terraform {
  required_version = ">= 1.6"
  required_providers {
    momento = {
      source = "local/momento"
    }
  }
}

variable "cache_name" {
  description = "Existing cache that holds the topic and its webhooks."
  type        = string
}

variable "topic_name" {
  description = "Topic to create."
  type        = string
}

variable "webhooks" {
  description = "Webhook name => destination URL (absolute http/https)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for url in values(var.webhooks) : can(regex("^https?://[^/]+", url))])
    error_message = "Every webhook destination must be an absolute http:// or https:// URL."
  }
}

variable "secret_rotation" {
  description = "Change to rotate every webhook's signing secret."
  type        = string
  default     = null
}

resource "momento_topic" "this" {
  cache_name = var.cache_name
  name       = var.topic_name
}

resource "momento_webhook" "this" {
  for_each = var.webhooks

  cache_name      = var.cache_name
  name            = each.key
  topic_name      = momento_topic.this.name
  destination_url = each.value
  secret_rotation = var.secret_rotation
}

output "topic_id" {
  value = momento_topic.this.id
}

output "webhook_ids" {
  description = "Webhook name => id (`<cache>/<name>`)."
  value       = { for name, w in momento_webhook.this : name => w.id }
}

output "webhook_secrets" {
  description = "Webhook name => signing secret, for receivers to verify `momento-signature`."
  value       = { for name, w in momento_webhook.this : name => w.secret }
  sensitive   = true
}
