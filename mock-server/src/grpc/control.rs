//! `control_client.ScsControl`: cache lifecycle (create, delete, list with paging, flush).
//! Signing keys and indexes answer `UNIMPLEMENTED`, naming the RPC.

use momento_protos::control_client::scs_control_server::ScsControl;
use momento_protos::control_client::{
    Cache, CacheLimits, CreateCacheRequest, CreateCacheResponse, CreateIndexRequest,
    CreateIndexResponse, CreateSigningKeyRequest, CreateSigningKeyResponse, DeleteCacheRequest,
    DeleteCacheResponse, DeleteIndexRequest, DeleteIndexResponse, FlushCacheRequest,
    FlushCacheResponse, ListCachesRequest, ListCachesResponse, ListIndexesRequest,
    ListIndexesResponse, ListSigningKeysRequest, ListSigningKeysResponse, RevokeSigningKeyRequest,
    RevokeSigningKeyResponse, TopicLimits,
};
use tonic::{Request, Response, Status};

use crate::grpc::unimplemented;
use crate::names::validate_cache_name;
use crate::state::{CacheSummary, SharedState};

/// Prefix of every `ListCaches` page token; the rest is the hex of the last name on the page.
const PAGE_TOKEN_PREFIX: &str = "mock1.";

/// The control-plane service over the shared state.
#[derive(Debug, Clone)]
pub struct ControlService {
    state: SharedState,
    page_size: usize,
}

impl ControlService {
    /// `page_size` caches per `ListCaches` page (a zero is treated as one).
    pub fn new(state: SharedState, page_size: usize) -> Self {
        Self {
            state,
            page_size: page_size.max(1),
        }
    }
}

#[tonic::async_trait]
impl ScsControl for ControlService {
    async fn create_cache(
        &self,
        request: Request<CreateCacheRequest>,
    ) -> Result<Response<CreateCacheResponse>, Status> {
        let name = request.into_inner().cache_name;
        let result = self.state.create_cache(&name);
        tracing::debug!(cache = %name, ok = result.is_ok(), "CreateCache");
        result?;
        Ok(Response::new(CreateCacheResponse {}))
    }

    async fn delete_cache(
        &self,
        request: Request<DeleteCacheRequest>,
    ) -> Result<Response<DeleteCacheResponse>, Status> {
        let name = request.into_inner().cache_name;
        let result = self.state.delete_cache(&name);
        tracing::debug!(cache = %name, ok = result.is_ok(), "DeleteCache");
        result?;
        Ok(Response::new(DeleteCacheResponse {}))
    }

    async fn list_caches(
        &self,
        request: Request<ListCachesRequest>,
    ) -> Result<Response<ListCachesResponse>, Status> {
        let token = request.into_inner().next_token;
        let after = decode_page_token(&token)?;
        let page = self.state.list_caches(after.as_deref(), self.page_size);
        let next_token = match (page.more, page.caches.last()) {
            (true, Some(last)) => encode_page_token(&last.name),
            _ => String::new(),
        };
        tracing::debug!(count = page.caches.len(), more = page.more, "ListCaches");
        Ok(Response::new(ListCachesResponse {
            cache: page.caches.iter().map(to_proto_cache).collect(),
            next_token,
        }))
    }

    async fn flush_cache(
        &self,
        request: Request<FlushCacheRequest>,
    ) -> Result<Response<FlushCacheResponse>, Status> {
        let name = request.into_inner().cache_name;
        let result = self.state.flush_cache(&name);
        tracing::debug!(cache = %name, ok = result.is_ok(), "FlushCache");
        result?;
        Ok(Response::new(FlushCacheResponse {}))
    }

    async fn create_signing_key(
        &self,
        _request: Request<CreateSigningKeyRequest>,
    ) -> Result<Response<CreateSigningKeyResponse>, Status> {
        Err(unimplemented("ScsControl/CreateSigningKey"))
    }

    async fn revoke_signing_key(
        &self,
        _request: Request<RevokeSigningKeyRequest>,
    ) -> Result<Response<RevokeSigningKeyResponse>, Status> {
        Err(unimplemented("ScsControl/RevokeSigningKey"))
    }

    async fn list_signing_keys(
        &self,
        _request: Request<ListSigningKeysRequest>,
    ) -> Result<Response<ListSigningKeysResponse>, Status> {
        Err(unimplemented("ScsControl/ListSigningKeys"))
    }

    async fn create_index(
        &self,
        _request: Request<CreateIndexRequest>,
    ) -> Result<Response<CreateIndexResponse>, Status> {
        Err(unimplemented("ScsControl/CreateIndex"))
    }

    async fn delete_index(
        &self,
        _request: Request<DeleteIndexRequest>,
    ) -> Result<Response<DeleteIndexResponse>, Status> {
        Err(unimplemented("ScsControl/DeleteIndex"))
    }

    async fn list_indexes(
        &self,
        _request: Request<ListIndexesRequest>,
    ) -> Result<Response<ListIndexesResponse>, Status> {
        Err(unimplemented("ScsControl/ListIndexes"))
    }
}

fn to_proto_cache(cache: &CacheSummary) -> Cache {
    Cache {
        cache_name: cache.name.clone(),
        cache_limits: Some(CacheLimits {
            max_traffic_rate: cache.limits.max_traffic_rate,
            max_throughput_kbps: cache.limits.max_throughput_kbps,
            max_item_size_kb: cache.limits.max_item_size_kb,
            max_ttl_seconds: cache.limits.max_ttl_seconds,
        }),
        topic_limits: Some(TopicLimits {
            max_publish_rate: cache.topic_limits.max_publish_rate,
            max_subscription_count: cache.topic_limits.max_subscription_count,
            max_publish_message_size_kb: cache.topic_limits.max_publish_message_size_kb,
        }),
        cache_id: cache.id.clone(),
    }
}

/// A page token is a cursor: resume after this cache name. It stays valid when caches change.
fn encode_page_token(last_name: &str) -> String {
    let mut token = String::with_capacity(PAGE_TOKEN_PREFIX.len() + 2 * last_name.len());
    token.push_str(PAGE_TOKEN_PREFIX);
    for byte in last_name.bytes() {
        token.push_str(&format!("{byte:02x}"));
    }
    token
}

/// `""` means the first page; anything this server did not issue is `INVALID_ARGUMENT`.
fn decode_page_token(token: &str) -> Result<Option<String>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || {
        let shown: String = token.chars().take(64).collect();
        Status::invalid_argument(format!(
            "invalid next_token {shown:?}: pass \"\" for the first page, then the next_token of the previous ListCaches response"
        ))
    };
    let hex = token.strip_prefix(PAGE_TOKEN_PREFIX).ok_or_else(invalid)?;
    if hex.is_empty() || hex.len() % 2 != 0 {
        return Err(invalid());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(invalid)?;
    let name = String::from_utf8(bytes).map_err(|_| invalid())?;
    validate_cache_name(&name).map_err(|_| invalid())?;
    Ok(Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip() {
        for name in ["a", "Z.z_9-", &"q".repeat(255)] {
            assert_eq!(
                decode_page_token(&encode_page_token(name)).unwrap(),
                Some(name.to_owned())
            );
        }
        assert_eq!(decode_page_token("").unwrap(), None);
    }

    #[test]
    fn foreign_page_tokens_are_invalid_argument() {
        for token in [
            "x",
            "mock1.",
            "mock1.6",
            "mock1.zz",
            "mock1.2020", // decodes to "  ", not a cache name
            "mock1.ff",   // not UTF-8
            "mock1.\u{e9}a",
        ] {
            let status = decode_page_token(token).unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{token}");
            assert!(status.message().contains("next_token"), "{token}");
        }
    }
}
