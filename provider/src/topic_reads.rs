//! Coalesces the topic reads of one cache that run at the same time into one `GetTopics` call.
//!
//! Terraform refreshes resources ten at a time, and a read of each topic is a round trip to the
//! server. Reads of a cache that arrive while its call is in flight wait together, and the first
//! of them then sends one call for all. A read only ever joins a call that has not started yet,
//! so every answer is at least as fresh as a `GetTopic` sent when the read began. When the server
//! has no `GetTopics` (an older momento-mock; real Momento has no topic RPCs at all), or the read
//! leading a batch was cancelled, each read falls back to its own `GetTopic`.
//!
//! A read is allowed one call's time in all, from when it began: waiting for the call in flight
//! counts against it, so a server that hangs fails every read after that time, not twice it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use momento_wire::topics as topics_pb;
use tokio::sync::watch;
use tonic::Status;

/// Most names in one call (the mock takes up to 1,000).
pub const MAX_BATCH: usize = 500;

/// What one `GetTopics` call answered: the topics found by name, or that the server has no
/// `GetTopics`, or the call's error.
#[derive(Debug, Clone)]
pub enum Batch {
    Found(Arc<HashMap<String, topics_pb::Topic>>),
    Unsupported,
    Failed(Status),
}

/// What a read gets from [`TopicReads::read`].
#[derive(Debug)]
pub enum Read {
    /// The topic as the server knows it (`None`: neither declared nor used).
    Found(Option<topics_pb::Topic>),
    /// Ask with `GetTopic` instead.
    Alone,
    Failed(Status),
}

/// The reads waiting for one cache's next call.
struct Pending {
    id: u64,
    names: Vec<String>,
    answer: watch::Receiver<Option<Batch>>,
}

#[derive(Default)]
struct CacheReads {
    /// Held while this cache's call is in flight.
    turn: tokio::sync::Mutex<()>,
    next: Mutex<Option<Pending>>,
}

/// The coalescing state of one provider process.
pub struct TopicReads {
    /// Time allowed for a read, from its start to its answer.
    budget: Duration,
    caches: Mutex<HashMap<String, Arc<CacheReads>>>,
    /// Cleared once the server answers `GetTopics` with UNIMPLEMENTED.
    unsupported: AtomicBool,
    ids: AtomicU64,
}

impl std::fmt::Debug for TopicReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicReads").finish_non_exhaustive()
    }
}

impl TopicReads {
    /// Coalescing reads that each get at most `budget` (the time allowed for one call).
    pub fn new(budget: Duration) -> Self {
        Self {
            budget,
            caches: Mutex::default(),
            unsupported: AtomicBool::default(),
            ids: AtomicU64::default(),
        }
    }

    /// Reads `topic` of `cache`, sharing a `fetch(cache, names)` call with the reads of the same
    /// cache that wait at the same time.
    pub async fn read<F, Fut>(&self, cache: &str, topic: &str, fetch: F) -> Read
    where
        F: FnOnce(String, Vec<String>) -> Fut,
        Fut: Future<Output = Batch>,
    {
        if self.unsupported.load(Ordering::Relaxed) {
            return Read::Alone;
        }
        let deadline = tokio::time::Instant::now() + self.budget;
        let reads = self.cache(cache);
        let (mut answer, leads) = {
            let mut next = reads.next.lock().unwrap_or_else(PoisonError::into_inner);
            // The batch that has not started, unless its leader is gone (then start anew).
            match next.as_mut().filter(|p| p.answer.has_changed().is_ok()) {
                Some(p) if p.names.len() >= MAX_BATCH => return Read::Alone,
                Some(p) => {
                    p.names.push(topic.to_owned());
                    (p.answer.clone(), None)
                }
                None => {
                    let (sender, receiver) = watch::channel(None);
                    let id = self.ids.fetch_add(1, Ordering::Relaxed);
                    *next = Some(Pending {
                        id,
                        names: vec![topic.to_owned()],
                        answer: receiver.clone(),
                    });
                    (receiver, Some((id, sender)))
                }
            }
        };
        if let Some((id, sender)) = leads {
            let lead = async {
                // Wait for the call in flight, and let the reads that have already arrived
                // (their tasks are ready to run) join; then take this batch: later reads start
                // the next.
                let _turn = reads.turn.lock().await;
                tokio::task::yield_now().await;
                let names = take_batch(&reads.next, id).unwrap_or_else(|| vec![topic.to_owned()]);
                fetch(cache.to_owned(), names).await
            };
            let batch = match tokio::time::timeout_at(deadline, lead).await {
                Ok(batch) => batch,
                Err(_) => {
                    // Reads that joined while this one waited get the same answer.
                    take_batch(&reads.next, id);
                    Batch::Failed(Status::deadline_exceeded(format!(
                        "no answer within {:?}",
                        self.budget
                    )))
                }
            };
            if matches!(batch, Batch::Unsupported) {
                self.unsupported.store(true, Ordering::Relaxed);
            }
            sender.send_replace(Some(batch));
        }
        let batch = match answer.wait_for(Option::is_some).await {
            Ok(batch) => batch.clone(),
            // The leading read was cancelled before its call finished.
            Err(_) => return Read::Alone,
        };
        match batch {
            Some(Batch::Found(found)) => Read::Found(found.get(topic).cloned()),
            Some(Batch::Unsupported) | None => Read::Alone,
            Some(Batch::Failed(status)) => Read::Failed(status),
        }
    }

    fn cache(&self, cache: &str) -> Arc<CacheReads> {
        let mut caches = self.caches.lock().unwrap_or_else(PoisonError::into_inner);
        caches.entry(cache.to_owned()).or_default().clone()
    }
}

/// Takes the waiting batch `id` out of `next`, so that no more reads join it; `None` (and `next`
/// left alone) when the waiting batch is another one, which cannot happen while the read that
/// leads `id` holds its answer's sender.
fn take_batch(next: &Mutex<Option<Pending>>, id: u64) -> Option<Vec<String>> {
    let mut next = next.lock().unwrap_or_else(PoisonError::into_inner);
    match next.take() {
        Some(p) if p.id == id => Some(p.names),
        other => {
            *next = other;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn topic(cache: &str, name: &str) -> topics_pb::Topic {
        topics_pb::Topic {
            id: Some(topics_pb::TopicId {
                cache_name: cache.into(),
                topic_name: name.into(),
            }),
            declared: true,
            stats: None,
        }
    }

    /// A server holding topics `t0`..`t99` of cache `c`; it records each call's names and takes
    /// 20 ms per call.
    #[derive(Default)]
    struct Server {
        calls: Mutex<Vec<Vec<String>>>,
    }

    impl Server {
        async fn fetch(&self, cache: String, names: Vec<String>) -> Batch {
            self.calls.lock().unwrap().push(names.clone());
            tokio::time::sleep(Duration::from_millis(20)).await;
            let found = names
                .iter()
                .filter(|n| cache == "c" && n[1..].parse::<u32>().is_ok_and(|i| i < 100))
                .map(|n| (n.clone(), topic(&cache, n)))
                .collect();
            Batch::Found(Arc::new(found))
        }
    }

    #[tokio::test]
    async fn concurrent_reads_share_calls_and_get_their_own_answers() {
        let reads = Arc::new(TopicReads::new(Duration::from_secs(30)));
        let server = Arc::new(Server::default());
        let mut tasks = Vec::new();
        for i in 0..40 {
            let (reads, server) = (reads.clone(), server.clone());
            // t0..t29 exist, t100.. do not.
            let name = if i < 30 {
                format!("t{i}")
            } else {
                format!("t{}", i + 100)
            };
            tasks.push(tokio::spawn(async move {
                let read = reads
                    .read("c", &name, |c, n| async move { server.fetch(c, n).await })
                    .await;
                (name, read)
            }));
        }
        for task in tasks {
            let (name, read) = task.await.unwrap();
            match read {
                Read::Found(Some(t)) => {
                    assert_eq!(t.id.unwrap().topic_name, name);
                    assert!(name[1..].parse::<u32>().unwrap() < 100);
                }
                Read::Found(None) => assert!(name[1..].parse::<u32>().unwrap() >= 100),
                other => panic!("{name}: {other:?}"),
            }
        }
        let calls = server.calls.lock().unwrap();
        let asked: usize = calls.iter().map(Vec::len).sum();
        assert_eq!(asked, 40, "every read asked exactly once: {calls:?}");
        assert!(
            calls.len() < 40,
            "reads were coalesced: {} calls",
            calls.len()
        );
    }

    #[tokio::test]
    async fn a_read_never_takes_the_answer_of_a_call_that_started_before_it() {
        let reads = Arc::new(TopicReads::new(Duration::from_secs(30)));
        let started = Arc::new(tokio::sync::Notify::new());
        let release = Arc::new(tokio::sync::Notify::new());
        let first = {
            let (reads, started, release) = (reads.clone(), started.clone(), release.clone());
            tokio::spawn(async move {
                reads
                    .read("c", "early", |_, names| async move {
                        started.notify_one();
                        release.notified().await;
                        assert_eq!(names, ["early"]);
                        Batch::Found(Arc::new(HashMap::new()))
                    })
                    .await
            })
        };
        started.notified().await;
        // The first call is in flight: this read must wait for a call of its own.
        let late_calls = Arc::new(AtomicUsize::new(0));
        let late = {
            let (reads, late_calls) = (reads.clone(), late_calls.clone());
            tokio::spawn(async move {
                reads
                    .read("c", "late", |cache, names| async move {
                        late_calls.fetch_add(1, Ordering::SeqCst);
                        assert_eq!(names, ["late"]);
                        Batch::Found(Arc::new(HashMap::from([(
                            "late".to_owned(),
                            topic(&cache, "late"),
                        )])))
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.notify_one();
        assert!(matches!(first.await.unwrap(), Read::Found(None)));
        assert!(matches!(late.await.unwrap(), Read::Found(Some(_))));
        assert_eq!(late_calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failures_reach_every_read_and_unimplemented_sends_reads_alone() {
        let reads = TopicReads::new(Duration::from_secs(30));
        let read = reads
            .read("c", "t", |_, _| async {
                Batch::Failed(Status::unavailable("down"))
            })
            .await;
        assert!(matches!(read, Read::Failed(s) if s.message() == "down"));

        let read = reads
            .read("c", "t", |_, _| async { Batch::Unsupported })
            .await;
        assert!(matches!(read, Read::Alone));
        // From then on no batch call is tried.
        let read = reads
            .read("c", "t", |_, _| async {
                panic!("no GetTopics after UNIMPLEMENTED")
            })
            .await;
        assert!(matches!(read, Read::Alone));
    }

    /// A server that never answers: a read that waits for the hung call in flight still fails
    /// one budget after it began (not one budget after that call ends), and so does every read
    /// that joined it.
    #[tokio::test(start_paused = true)]
    async fn a_hung_server_fails_each_read_one_budget_after_it_began() {
        let budget = Duration::from_secs(30);
        let reads = Arc::new(TopicReads::new(budget));
        let calls = Arc::new(AtomicUsize::new(0));
        let start = tokio::time::Instant::now();
        let read_at = |after: Duration, name: &'static str| {
            let (reads, calls) = (reads.clone(), calls.clone());
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                let read = reads
                    .read("c", name, |_, _| async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        std::future::pending::<Batch>().await
                    })
                    .await;
                (read, start.elapsed())
            })
        };
        // "a" leads the first call; "b" leads the next batch while that call hangs, and "c"
        // joins "b"'s batch.
        let a = read_at(Duration::ZERO, "a");
        let b = read_at(Duration::from_secs(10), "b");
        let c = read_at(Duration::from_secs(20), "c");
        for (task, began) in [(a, 0), (b, 10), (c, 10)] {
            let (read, at) = task.await.unwrap();
            assert!(
                matches!(&read, Read::Failed(s) if s.code() == tonic::Code::DeadlineExceeded
                    && s.message() == "no answer within 30s"),
                "{read:?}"
            );
            assert_eq!(at, Duration::from_secs(began) + budget);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one call per batch");
    }

    #[tokio::test]
    async fn a_cancelled_leader_sends_its_followers_alone() {
        let reads = Arc::new(TopicReads::new(Duration::from_secs(30)));
        let entered = Arc::new(tokio::sync::Notify::new());
        let leader = {
            let (reads, entered) = (reads.clone(), entered.clone());
            tokio::spawn(async move {
                reads
                    .read("c", "a", |_, _| async move {
                        entered.notify_one();
                        std::future::pending::<Batch>().await
                    })
                    .await
            })
        };
        entered.notified().await;
        // A follower joins the next batch, whose leader is cancelled while it waits its turn.
        let next_leader = {
            let reads = reads.clone();
            tokio::spawn(async move {
                reads
                    .read("c", "b", |_, _| async { Batch::Unsupported })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let follower = {
            let reads = reads.clone();
            tokio::spawn(async move {
                reads
                    .read("c", "c", |_, _| async { Batch::Unsupported })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        next_leader.abort();
        leader.abort();
        let read = tokio::time::timeout(Duration::from_secs(10), follower)
            .await
            .expect("the follower does not hang")
            .unwrap();
        assert!(matches!(read, Read::Alone), "{read:?}");
    }
}
