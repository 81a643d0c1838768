# A topic is imported by "<cache name>/<topic name>".
terraform import momento_topic.orders example-cache/orders
