terraform {
  required_providers {
    momento = {
      source = "local/momento"
    }
  }
}

# Against a local momento-mock (plaintext gRPC, open mode):
provider "momento" {
  endpoint = "http://127.0.0.1:8080"
}

# Against Momento: endpoint and api_key usually come from MOMENTO_ENDPOINT and MOMENTO_API_KEY.
# provider "momento" {
#   endpoint = "cell-4-us-west-2-1.prod.a.momentohq.com"
#   api_key  = var.momento_api_key
# }
