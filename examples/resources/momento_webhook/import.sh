# A webhook is imported by "<cache name>/<webhook name>"; its secret is read from the server.
# The server does not store secret_rotation, so an imported webhook has none: if the configuration
# sets one, the next apply rotates the secret (the plan shows `secret` as known after apply).
# To keep the current secret, leave secret_rotation unset until you want to rotate.
terraform import momento_webhook.orders_to_billing example-cache/orders-to-billing
