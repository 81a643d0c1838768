//! `cache_client.Ping/Ping`: the cache endpoint's liveness check; answers an empty message.

use tonic::{Request, Response, Status};

use crate::proto::cache_client::ping_server::Ping;
use crate::proto::cache_client::{PingRequest, PingResponse};

/// The Ping service: stateless.
#[derive(Debug, Clone, Copy, Default)]
pub struct PingService;

#[tonic::async_trait]
impl Ping for PingService {
    async fn ping(&self, _request: Request<PingRequest>) -> Result<Response<PingResponse>, Status> {
        tracing::debug!("Ping");
        Ok(Response::new(PingResponse {}))
    }
}
