//! One topic of one cache: its bounded message log, sequence numbering within one sequence page,
//! the broadcast channel live subscribers listen on, its counters, and the rule that decides what
//! a resuming subscriber is replayed ([`plan_resume`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::events::{PublishedMessage, TopicValue};

/// Why a topic stopped serving its subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionEnd {
    /// The server is shutting down.
    Shutdown,
    /// The topic's cache was deleted (or the state was reset).
    CacheDeleted,
    /// The topic was deleted through the topic extension; using it again starts a new page.
    TopicDeleted,
}

/// Told to a subscriber when it cannot get every message: it missed numbers up to
/// `new_topic_sequence` (exclusive of what follows), possibly because the topic was reset to a new
/// `new_sequence_page`. Items resume *after* `new_topic_sequence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discontinuity {
    /// The last sequence number the subscriber is known to have had (0 when unknown).
    pub last_topic_sequence: u64,
    /// The sequence number after which items resume.
    pub new_topic_sequence: u64,
    /// The topic's current page.
    pub new_sequence_page: u64,
}

/// What a resuming subscriber gets before live messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ResumePlan {
    pub discontinuity: Option<Discontinuity>,
    /// Replay retained messages with this sequence number and later.
    pub replay_from: Option<u64>,
}

/// Decides replay for `resume_at` (the first number the subscriber wants, as every SDK sends it:
/// last seen + 1) in `requested_page` (0: "whatever the current page is"), given the topic's
/// `page`, its last number and the oldest number still in its log.
///
/// - `resume_at == 0`: from now, nothing replayed.
/// - same page (or page 0), `resume_at` retained: replay from it; `resume_at == last + 1`: nothing
///   missed, nothing replayed.
/// - otherwise (other page: the topic was reset; number evicted from the log; number beyond the
///   last): a discontinuity, then everything the log still holds.
pub(crate) fn plan_resume(
    resume_at: u64,
    requested_page: u64,
    page: u64,
    last: u64,
    oldest_retained: Option<u64>,
) -> ResumePlan {
    if resume_at == 0 {
        return ResumePlan::default();
    }
    let first_available = oldest_retained.unwrap_or(last.saturating_add(1));
    let same_page = requested_page == 0 || requested_page == page;
    if same_page && resume_at == last.saturating_add(1) {
        return ResumePlan::default();
    }
    if same_page && resume_at <= last && resume_at >= first_available {
        return ResumePlan {
            discontinuity: None,
            replay_from: Some(resume_at),
        };
    }
    ResumePlan {
        discontinuity: Some(Discontinuity {
            last_topic_sequence: resume_at - 1,
            new_topic_sequence: first_available - 1,
            new_sequence_page: page,
        }),
        replay_from: oldest_retained,
    }
}

/// Counters of one topic at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TopicCounters {
    pub messages_published: u64,
    /// 0 before the first publish.
    pub last_sequence_number: u64,
    pub sequence_page: u64,
    pub subscribers: usize,
}

#[derive(Debug)]
pub(crate) struct TopicState {
    pub page: u64,
    pub last_seq: u64,
    pub published: u64,
    pub log: VecDeque<Arc<PublishedMessage>>,
    pub subscribers: usize,
    /// Set (once) before `Topic::closed` is cancelled.
    pub end: Option<SubscriptionEnd>,
}

/// A topic instance. A topic deleted through the extension and used again is a new instance with
/// a new, larger page.
#[derive(Debug)]
pub(crate) struct Topic {
    pub cache: String,
    pub name: String,
    log_capacity: usize,
    pub sender: broadcast::Sender<Arc<PublishedMessage>>,
    state: Mutex<TopicState>,
    /// Cancelled when the topic stops serving (cache deleted, topic deleted).
    pub closed: CancellationToken,
}

impl Topic {
    pub fn new(
        cache: &str,
        name: &str,
        page: u64,
        log_capacity: usize,
        subscriber_buffer: usize,
    ) -> Self {
        let (sender, _) = broadcast::channel(subscriber_buffer.max(1));
        Self {
            cache: cache.to_owned(),
            name: name.to_owned(),
            log_capacity: log_capacity.max(1),
            sender,
            state: Mutex::new(TopicState {
                page,
                last_seq: 0,
                published: 0,
                log: VecDeque::new(),
                subscribers: 0,
                end: None,
            }),
            closed: CancellationToken::new(),
        }
    }

    // Every critical section is a few field updates that cannot panic half-way, so a poisoned
    // lock still holds consistent data: recover instead of panicking.
    pub fn lock(&self) -> MutexGuard<'_, TopicState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Numbers, logs and broadcasts one message. `None` when the topic no longer serves (its
    /// cache or itself was deleted meanwhile).
    pub fn append(
        &self,
        value: TopicValue,
        publisher_id: String,
        publish_timestamp_ms: u64,
    ) -> Option<Arc<PublishedMessage>> {
        let mut st = self.lock();
        if st.end.is_some() {
            return None;
        }
        st.last_seq += 1;
        st.published += 1;
        let message = Arc::new(PublishedMessage {
            cache: self.cache.clone(),
            topic: self.name.clone(),
            topic_sequence_number: st.last_seq,
            sequence_page: st.page,
            value,
            publisher_id,
            publish_timestamp_ms,
        });
        st.log.push_back(Arc::clone(&message));
        while st.log.len() > self.log_capacity {
            st.log.pop_front();
        }
        // Sent under the lock, so a subscriber that snapshots the log and subscribes under the
        // same lock sees every message exactly once. Err only means "no receivers".
        let _ = self.sender.send(Arc::clone(&message));
        Some(message)
    }

    pub fn counters(&self) -> TopicCounters {
        let st = self.lock();
        TopicCounters {
            messages_published: st.published,
            last_sequence_number: st.last_seq,
            sequence_page: st.page,
            subscribers: st.subscribers,
        }
    }

    /// The retained messages, oldest first.
    pub fn retained(&self) -> Vec<Arc<PublishedMessage>> {
        self.lock().log.iter().cloned().collect()
    }

    /// Stops serving: running subscriptions end with `reason` (the first reason wins).
    pub fn close(&self, reason: SubscriptionEnd) {
        {
            let mut st = self.lock();
            if st.end.is_none() {
                st.end = Some(reason);
            }
        }
        self.closed.cancel();
    }

    pub fn end_reason(&self) -> SubscriptionEnd {
        self.lock().end.unwrap_or(SubscriptionEnd::TopicDeleted)
    }

    pub fn release_subscriber(&self) {
        let mut st = self.lock();
        st.subscribers = st.subscribers.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc(last: u64, new: u64, page: u64) -> Option<Discontinuity> {
        Some(Discontinuity {
            last_topic_sequence: last,
            new_topic_sequence: new,
            new_sequence_page: page,
        })
    }

    #[test]
    fn zero_means_from_now() {
        assert_eq!(plan_resume(0, 0, 7, 10, Some(1)), ResumePlan::default());
        assert_eq!(plan_resume(0, 3, 7, 10, Some(1)), ResumePlan::default());
    }

    #[test]
    fn retained_numbers_replay_from_the_number_asked_for() {
        // Page 0 means "the current page" (Python and JS send 0 before they have seen a page).
        for page in [0, 7] {
            let plan = plan_resume(3, page, 7, 10, Some(1));
            assert_eq!(plan.discontinuity, None);
            assert_eq!(plan.replay_from, Some(3));
        }
        // Exactly the next number: nothing missed.
        assert_eq!(plan_resume(11, 7, 7, 10, Some(1)), ResumePlan::default());
        // The oldest retained number is still a clean replay.
        assert_eq!(plan_resume(5, 7, 7, 10, Some(5)).replay_from, Some(5));
        assert_eq!(plan_resume(5, 7, 7, 10, Some(5)).discontinuity, None);
    }

    #[test]
    fn evicted_numbers_get_a_discontinuity_then_the_log() {
        let plan = plan_resume(2, 7, 7, 10, Some(6));
        assert_eq!(plan.discontinuity, disc(1, 5, 7));
        assert_eq!(plan.replay_from, Some(6));
    }

    #[test]
    fn another_page_gets_a_discontinuity_then_the_whole_log() {
        let plan = plan_resume(5, 5, 7, 1, Some(1));
        assert_eq!(plan.discontinuity, disc(4, 0, 7));
        assert_eq!(plan.replay_from, Some(1));
        // A reset topic without messages: only the new page is news.
        let plan = plan_resume(5, 5, 7, 0, None);
        assert_eq!(plan.discontinuity, disc(4, 0, 7));
        assert_eq!(plan.replay_from, None);
    }

    #[test]
    fn numbers_beyond_the_last_get_a_discontinuity() {
        let plan = plan_resume(300, 0, 7, 1, Some(1));
        assert_eq!(plan.discontinuity, disc(299, 0, 7));
        assert_eq!(plan.replay_from, Some(1));
    }

    #[test]
    fn the_log_is_bounded_and_numbers_count_up() {
        let topic = Topic::new("c", "t", 9, 2, 8);
        for i in 1..=3u64 {
            let m = topic
                .append(TopicValue::Text(i.to_string()), String::new(), 0)
                .unwrap();
            assert_eq!((m.topic_sequence_number, m.sequence_page), (i, 9));
        }
        let seqs: Vec<u64> = topic
            .retained()
            .iter()
            .map(|m| m.topic_sequence_number)
            .collect();
        assert_eq!(seqs, [2, 3]);
        let c = topic.counters();
        assert_eq!((c.messages_published, c.last_sequence_number), (3, 3));
        topic.close(SubscriptionEnd::CacheDeleted);
        topic.close(SubscriptionEnd::TopicDeleted);
        assert_eq!(topic.end_reason(), SubscriptionEnd::CacheDeleted);
        assert!(topic
            .append(TopicValue::Text("late".into()), String::new(), 0)
            .is_none());
    }
}
