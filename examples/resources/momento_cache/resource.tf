resource "momento_cache" "example" {
  name = "example-cache"
}
