# Quickstart: a cache managed by the Momento provider, against a local momento-mock.
# `make demo` runs this against a mock it starts; to run it by hand see README.md.
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

provider "momento" {
  endpoint = var.endpoint
  # api_key defaults to MOMENTO_API_KEY; the mock's open mode accepts any key.
}

resource "momento_cache" "demo" {
  name = "quickstart-cache"
}

data "momento_caches" "all" {
  depends_on = [momento_cache.demo]
}

output "cache_id" {
  value = momento_cache.demo.id
}

output "all_caches" {
  value = data.momento_caches.all.names
}
