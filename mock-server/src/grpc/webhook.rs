//! `webhook.Webhook`: Momento's webhook control RPCs (put, delete, list, get and rotate the
//! secret) over [`crate::webhooks::Webhooks`], with Momento's status codes. Never logs secrets.

use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};

use crate::proto::webhook::webhook_destination::Kind;
use crate::proto::webhook::webhook_server::Webhook;
use crate::proto::webhook::{
    DeleteWebhookRequest, DeleteWebhookResponse, GetWebhookSecretRequest, GetWebhookSecretResponse,
    ListWebhookRequest, ListWebhooksResponse, PutWebhookRequest, PutWebhookResponse,
    RotateWebhookSecretRequest, RotateWebhookSecretResponse, Webhook as ProtoWebhook,
    WebhookDestination, WebhookId,
};
use crate::webhooks::{WebhookError, WebhookSpec, Webhooks, ERR_WEBHOOKS_PER_CACHE_LIMIT};

/// The webhook control service.
#[derive(Debug, Clone)]
pub struct WebhookService {
    webhooks: Webhooks,
}

impl WebhookService {
    pub fn new(webhooks: Webhooks) -> Self {
        Self { webhooks }
    }
}

impl From<WebhookError> for Status {
    fn from(err: WebhookError) -> Self {
        let message = err.to_string();
        match err {
            WebhookError::InvalidArgument(_) => Status::invalid_argument(message),
            WebhookError::CacheNotFound(_)
            | WebhookError::TopicNotDeclared { .. }
            | WebhookError::WebhookNotFound { .. } => Status::not_found(message),
            WebhookError::LimitExceeded { .. } => {
                let mut status = Status::resource_exhausted(message);
                status.metadata_mut().insert(
                    "err",
                    MetadataValue::from_static(ERR_WEBHOOKS_PER_CACHE_LIMIT),
                );
                status
            }
            WebhookError::Internal(_) => Status::internal(message),
        }
    }
}

/// The id a request must carry.
fn required_id(id: Option<WebhookId>, field: &str) -> Result<WebhookId, Status> {
    id.ok_or_else(|| {
        Status::invalid_argument(format!(
            "{field} is missing: set its cache_name and webhook_name"
        ))
    })
}

#[tonic::async_trait]
impl Webhook for WebhookService {
    async fn put_webhook(
        &self,
        request: Request<PutWebhookRequest>,
    ) -> Result<Response<PutWebhookResponse>, Status> {
        let webhook = request.into_inner().webhook.ok_or_else(|| {
            Status::invalid_argument(
                "webhook is missing: set webhook_id, topic_name and destination.post_url",
            )
        })?;
        let id = required_id(webhook.webhook_id, "webhook.webhook_id")?;
        let url = webhook
            .destination
            .and_then(|d| d.kind)
            .map(|Kind::PostUrl(url)| url);
        let outcome = self.webhooks.put(WebhookSpec {
            cache: id.cache_name,
            name: id.webhook_name,
            topic: webhook.topic_name,
            url,
        })?;
        Ok(Response::new(PutWebhookResponse {
            secret_string: outcome.secret,
        }))
    }

    async fn delete_webhook(
        &self,
        request: Request<DeleteWebhookRequest>,
    ) -> Result<Response<DeleteWebhookResponse>, Status> {
        let id = required_id(request.into_inner().webhook_id, "webhook_id")?;
        self.webhooks.delete(&id.cache_name, &id.webhook_name)?;
        Ok(Response::new(DeleteWebhookResponse {}))
    }

    async fn list_webhooks(
        &self,
        request: Request<ListWebhookRequest>,
    ) -> Result<Response<ListWebhooksResponse>, Status> {
        let cache = request.into_inner().cache_name;
        let webhooks = self.webhooks.list(&cache)?;
        tracing::debug!(%cache, count = webhooks.len(), "ListWebhooks");
        Ok(Response::new(ListWebhooksResponse {
            webhook: webhooks
                .into_iter()
                .map(|w| ProtoWebhook {
                    webhook_id: Some(WebhookId {
                        cache_name: w.cache,
                        webhook_name: w.name,
                    }),
                    topic_name: w.topic,
                    destination: Some(WebhookDestination {
                        kind: Some(Kind::PostUrl(w.url)),
                    }),
                })
                .collect(),
        }))
    }

    async fn get_webhook_secret(
        &self,
        request: Request<GetWebhookSecretRequest>,
    ) -> Result<Response<GetWebhookSecretResponse>, Status> {
        let request = request.into_inner();
        let secret = self
            .webhooks
            .secret(&request.cache_name, &request.webhook_name)?;
        Ok(Response::new(GetWebhookSecretResponse {
            cache_name: request.cache_name,
            webhook_name: request.webhook_name,
            secret_string: secret,
        }))
    }

    async fn rotate_webhook_secret(
        &self,
        request: Request<RotateWebhookSecretRequest>,
    ) -> Result<Response<RotateWebhookSecretResponse>, Status> {
        let id = required_id(request.into_inner().webhook_id, "webhook_id")?;
        let secret = self
            .webhooks
            .rotate_secret(&id.cache_name, &id.webhook_name)?;
        Ok(Response::new(RotateWebhookSecretResponse {
            secret_string: secret,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_metadata() {
        let status = Status::from(WebhookError::LimitExceeded {
            cache: "c".into(),
            limit: 5,
        });
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(status.message().contains("--max-webhooks-per-cache"));
        assert_eq!(
            status.metadata().get("err").and_then(|v| v.to_str().ok()),
            Some(ERR_WEBHOOKS_PER_CACHE_LIMIT)
        );
        let status = Status::from(WebhookError::TopicNotDeclared {
            cache: "c".into(),
            topic: "t".into(),
        });
        assert_eq!(status.code(), tonic::Code::NotFound);
        assert!(status.message().contains("--strict-topics"));
    }
}
