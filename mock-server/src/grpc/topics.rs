//! `momento_mock.topics.v1.Topics`: the mock's topic extension (Momento has no topic RPCs) —
//! declare, inspect one or several (with counters from the hub and webhook counters from the
//! fan-out), list and delete topics, over the [`TopicHub`].

use tonic::{Request, Response, Status};

use crate::proto::topics::topics_server::Topics;
use crate::proto::topics::{
    CreateTopicRequest, CreateTopicResponse, DeleteTopicRequest, DeleteTopicResponse,
    GetTopicRequest, GetTopicResponse, GetTopicsRequest, GetTopicsResponse, ListTopicsRequest,
    ListTopicsResponse, Topic, TopicId, TopicStats,
};
use crate::pubsub::{PubSubError, TopicHub, TopicInfo};

/// Most names one `GetTopics` call takes.
const MAX_GET_TOPICS: usize = 1000;

/// The topic extension service over the hub.
#[derive(Debug, Clone)]
pub struct TopicsService {
    hub: TopicHub,
}

impl TopicsService {
    pub fn new(hub: TopicHub) -> Self {
        Self { hub }
    }
}

#[tonic::async_trait]
impl Topics for TopicsService {
    async fn create_topic(
        &self,
        request: Request<CreateTopicRequest>,
    ) -> Result<Response<CreateTopicResponse>, Status> {
        let id = topic_id(request.into_inner().id, "CreateTopic")?;
        let result = self.hub.declare_topic(&id.cache_name, &id.topic_name);
        tracing::debug!(cache = %id.cache_name, topic = %id.topic_name, ok = result.is_ok(), "CreateTopic");
        Ok(Response::new(CreateTopicResponse {
            topic: Some(to_proto(&result?)),
        }))
    }

    async fn get_topic(
        &self,
        request: Request<GetTopicRequest>,
    ) -> Result<Response<GetTopicResponse>, Status> {
        let id = topic_id(request.into_inner().id, "GetTopic")?;
        let info = self.hub.topic_info(&id.cache_name, &id.topic_name)?;
        Ok(Response::new(GetTopicResponse {
            topic: Some(to_proto(&info)),
        }))
    }

    async fn get_topics(
        &self,
        request: Request<GetTopicsRequest>,
    ) -> Result<Response<GetTopicsResponse>, Status> {
        let request = request.into_inner();
        if request.topic_names.len() > MAX_GET_TOPICS {
            return Err(Status::invalid_argument(format!(
                "GetTopics takes at most {MAX_GET_TOPICS} topic_names, got {}: split the request",
                request.topic_names.len()
            )));
        }
        let mut topics = Vec::with_capacity(request.topic_names.len());
        for name in &request.topic_names {
            match self.hub.topic_info(&request.cache_name, name) {
                Ok(info) => topics.push(to_proto(&info)),
                Err(PubSubError::CacheNotFound(_) | PubSubError::TopicNotFound { .. }) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(Response::new(GetTopicsResponse { topics }))
    }

    async fn list_topics(
        &self,
        request: Request<ListTopicsRequest>,
    ) -> Result<Response<ListTopicsResponse>, Status> {
        let request = request.into_inner();
        let topics = self
            .hub
            .list_topics(&request.cache_name, request.include_undeclared)?;
        Ok(Response::new(ListTopicsResponse {
            topics: topics.iter().map(to_proto).collect(),
        }))
    }

    async fn delete_topic(
        &self,
        request: Request<DeleteTopicRequest>,
    ) -> Result<Response<DeleteTopicResponse>, Status> {
        let id = topic_id(request.into_inner().id, "DeleteTopic")?;
        let result = self.hub.delete_topic(&id.cache_name, &id.topic_name);
        tracing::debug!(cache = %id.cache_name, topic = %id.topic_name, ok = result.is_ok(), "DeleteTopic");
        result?;
        Ok(Response::new(DeleteTopicResponse {}))
    }
}

fn topic_id(id: Option<TopicId>, rpc: &str) -> Result<TopicId, Status> {
    id.ok_or_else(|| {
        Status::invalid_argument(format!(
            "{rpc} needs an id: set id.cache_name and id.topic_name"
        ))
    })
}

fn to_proto(info: &TopicInfo) -> Topic {
    let saturate = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Topic {
        id: Some(TopicId {
            cache_name: info.cache.clone(),
            topic_name: info.topic.clone(),
        }),
        declared: info.declared,
        stats: Some(TopicStats {
            messages_published: info.counters.messages_published,
            last_sequence_number: info.counters.last_sequence_number,
            sequence_page: info.counters.sequence_page,
            subscribers: saturate(info.counters.subscribers),
            webhooks: info.deliveries.webhooks,
            deliveries_ok: info.deliveries.ok,
            deliveries_failed: info.deliveries.failed,
            deliveries_dropped: info.deliveries.dropped,
        }),
    }
}
