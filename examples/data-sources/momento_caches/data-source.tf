data "momento_caches" "all" {}

output "cache_names" {
  value = data.momento_caches.all.names
}
