resource "momento_cache" "example" {
  name = "example-cache"
}

resource "momento_topic" "orders" {
  cache_name = momento_cache.example.name
  name       = "orders"
}
