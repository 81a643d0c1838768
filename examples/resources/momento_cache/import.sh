# A cache is imported by its name.
terraform import momento_cache.example example-cache
