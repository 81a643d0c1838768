# A webhook is imported by "<cache name>/<webhook name>"; its secret is read from the server.
terraform import momento_webhook.orders_to_billing example-cache/orders-to-billing
