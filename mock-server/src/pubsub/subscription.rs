//! One live subscription to a topic: what it yields ([`SubscriptionEvent`]: a heartbeat first,
//! then an optional discontinuity and replayed messages, then live messages and periodic
//! heartbeats), how a subscriber that falls behind its bounded buffer is told so and skipped to
//! the newest message, and when it ends ([`SubscriptionEnd`]). Used by the gRPC `Subscribe`
//! stream and by the HTTP long-poll.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::topic::{Discontinuity, ResumePlan, SubscriptionEnd, Topic};
use crate::events::PublishedMessage;

/// One thing a subscription yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionEvent {
    /// "Still here": the first event of every subscription, then one per heartbeat interval.
    Heartbeat,
    /// A published message.
    Item(Arc<PublishedMessage>),
    /// Messages were missed (see [`Discontinuity`]).
    Discontinuity(Discontinuity),
}

/// What a new subscription starts from, all taken under one hold of the topic's lock so that no
/// message is missed or seen twice between the replay and the live channel.
#[derive(Debug)]
pub(crate) struct Opening {
    pub rx: broadcast::Receiver<Arc<PublishedMessage>>,
    pub plan: ResumePlan,
    pub replay: Vec<Arc<PublishedMessage>>,
    /// The topic's last sequence number at that moment.
    pub last: u64,
    pub page: u64,
}

/// A subscription. Counts as one of its topic's subscribers until dropped.
#[derive(Debug)]
pub struct Subscription {
    topic: Arc<Topic>,
    rx: broadcast::Receiver<Arc<PublishedMessage>>,
    pending: VecDeque<SubscriptionEvent>,
    /// The last sequence number handed out (or skipped over): the subscriber's position.
    position: u64,
    page: u64,
    heartbeat_period: Duration,
    /// Created on the first `next` (a Tokio timer needs a runtime).
    heartbeat: Option<Interval>,
    shutdown: CancellationToken,
    ended: Option<SubscriptionEnd>,
}

impl Subscription {
    /// Builds a subscription on `topic` from what was taken under the topic's lock (see
    /// [`Opening`]); the caller has counted this subscriber.
    pub(crate) fn new(
        topic: Arc<Topic>,
        opening: Opening,
        heartbeat_period: Duration,
        shutdown: CancellationToken,
    ) -> Self {
        let Opening {
            rx,
            plan,
            replay,
            last,
            page,
        } = opening;
        let mut pending = VecDeque::with_capacity(2 + replay.len());
        pending.push_back(SubscriptionEvent::Heartbeat);
        if let Some(d) = plan.discontinuity {
            pending.push_back(SubscriptionEvent::Discontinuity(d));
        }
        pending.extend(replay.into_iter().map(SubscriptionEvent::Item));
        Self {
            topic,
            rx,
            pending,
            position: last,
            page,
            heartbeat_period,
            heartbeat: None,
            shutdown,
            ended: None,
        }
    }

    /// The cache of the subscribed topic.
    pub fn cache(&self) -> &str {
        &self.topic.cache
    }

    /// The subscribed topic.
    pub fn topic(&self) -> &str {
        &self.topic.name
    }

    /// The sequence page this subscription reads.
    pub fn sequence_page(&self) -> u64 {
        self.page
    }

    /// The next event, waiting for one if needed. After an `Err` every later call returns the
    /// same `Err`. Cancel-safe.
    pub async fn next(&mut self) -> Result<SubscriptionEvent, SubscriptionEnd> {
        if let Some(end) = self.ended {
            return Err(end);
        }
        if let Some(event) = self.pending.pop_front() {
            return Ok(event);
        }
        loop {
            let period = self.heartbeat_period;
            let heartbeat = self.heartbeat.get_or_insert_with(|| {
                let mut interval = tokio::time::interval_at(Instant::now() + period, period);
                interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
                interval
            });
            let woke = tokio::select! {
                biased;
                () = self.shutdown.cancelled() => Woke::End(SubscriptionEnd::Shutdown),
                () = self.topic.closed.cancelled() => Woke::End(self.topic.end_reason()),
                _ = heartbeat.tick() => Woke::Heartbeat,
                received = self.rx.recv() => Woke::Received(received),
            };
            match woke {
                Woke::End(end) => {
                    self.ended = Some(end);
                    return Err(end);
                }
                Woke::Heartbeat => return Ok(SubscriptionEvent::Heartbeat),
                Woke::Received(received) => {
                    if let Some(event) = self.on_received(received) {
                        return event;
                    }
                }
            }
        }
    }

    /// An event that is ready now (queued, or already broadcast), without waiting; `None` when
    /// there is none or the subscription has ended. Never yields heartbeats other than the
    /// initial one.
    pub fn try_next(&mut self) -> Option<SubscriptionEvent> {
        if self.ended.is_some() {
            return None;
        }
        if let Some(event) = self.pending.pop_front() {
            return Some(event);
        }
        loop {
            let received = match self.rx.try_recv() {
                Ok(message) => Ok(message),
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    Err(broadcast::error::RecvError::Lagged(n))
                }
                Err(
                    broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed,
                ) => return None,
            };
            match self.on_received(received) {
                Some(Ok(event)) => return Some(event),
                Some(Err(_)) => return None,
                None => continue,
            }
        }
    }

    /// `None`: nothing to hand out (a message already seen), look again.
    fn on_received(
        &mut self,
        received: Result<Arc<PublishedMessage>, broadcast::error::RecvError>,
    ) -> Option<Result<SubscriptionEvent, SubscriptionEnd>> {
        match received {
            Ok(message) => {
                if message.topic_sequence_number <= self.position {
                    return None;
                }
                self.position = message.topic_sequence_number;
                Some(Ok(SubscriptionEvent::Item(message)))
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::debug!(
                    cache = %self.topic.cache,
                    topic = %self.topic.name,
                    missed,
                    "subscriber fell behind its buffer; skipping to the newest message"
                );
                Some(Ok(SubscriptionEvent::Discontinuity(self.skip_to_newest())))
            }
            Err(broadcast::error::RecvError::Closed) => {
                let end = self.topic.end_reason();
                self.ended = Some(end);
                Some(Err(end))
            }
        }
    }

    /// Drops everything buffered and continues after the newest published message.
    fn skip_to_newest(&mut self) -> Discontinuity {
        let newest = {
            let st = self.topic.lock();
            self.rx = self.topic.sender.subscribe();
            st.last_seq
        };
        let discontinuity = Discontinuity {
            last_topic_sequence: self.position,
            new_topic_sequence: newest,
            new_sequence_page: self.page,
        };
        self.position = newest;
        discontinuity
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.topic.release_subscriber();
    }
}

enum Woke {
    End(SubscriptionEnd),
    Heartbeat,
    Received(Result<Arc<PublishedMessage>, broadcast::error::RecvError>),
}
