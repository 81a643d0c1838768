data "momento_topics" "example" {
  cache_name = "example-cache"
}

output "topic_names" {
  value = data.momento_topics.example.names
}
