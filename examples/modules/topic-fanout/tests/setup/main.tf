# Test fixture: the cache the module expects to exist.
terraform {
  required_providers {
    momento = {
      source = "local/momento"
    }
  }
}

variable "cache_name" {
  type = string
}

variable "endpoint" {
  description = "The mock's address, for destinations on its built-in receiver (/_mock/sink/NAME)."
  type        = string
}

output "endpoint" {
  value = var.endpoint
}

resource "momento_cache" "this" {
  name = var.cache_name
}
