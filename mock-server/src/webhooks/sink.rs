//! The built-in webhook receiver's store: what arrived at each `/_mock/sink/{name}` (bounded per
//! sink and in number of sinks), with a wait that wakes on arrivals. Signature verdicts are
//! computed by the caller ([`super::Webhooks::receive`]), which knows the secrets.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// Requests kept per sink (oldest evicted first).
pub const MAX_REQUESTS_PER_SINK: usize = 1000;
/// Distinct sinks kept at once; a POST to one more is refused (never silently forgotten).
pub const MAX_SINKS: usize = 100;
/// Bytes of each body kept (a Momento delivery is at most ~6 KiB); longer ones are cut and
/// flagged with `body_truncated`.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest wait [`Sinks::wait`] accepts.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// The headers a sink records (absent ones are `null`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkHeaders {
    #[serde(rename = "content-type")]
    pub content_type: Option<String>,
    #[serde(rename = "user-agent")]
    pub user_agent: Option<String>,
    #[serde(rename = "momento-signature")]
    pub momento_signature: Option<String>,
}

/// One request a sink received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkRequest {
    pub method: String,
    pub headers: SinkHeaders,
    /// The raw body (invalid UTF-8 replaced by U+FFFD), at most [`MAX_BODY_BYTES`].
    pub body: String,
    /// Whether `body` was cut to [`MAX_BODY_BYTES`].
    pub body_truncated: bool,
    /// When it arrived, ms since the Unix epoch.
    pub received_at_ms: u64,
    /// Whether `momento-signature` verifies under the current secret of a webhook whose
    /// destination path is this sink's path; `None` when no webhook points here.
    pub signature_valid: Option<bool>,
}

/// A POST to a new sink when [`MAX_SINKS`] sinks already hold requests.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the mock already keeps {MAX_SINKS} sinks: clear some with DELETE /_mock/sink/{{name}} or POST /_mock/reset")]
pub struct TooManySinks;

/// Every sink of one server.
#[derive(Debug, Default)]
pub struct Sinks {
    sinks: Mutex<HashMap<String, VecDeque<SinkRequest>>>,
    changed: Notify,
}

impl Sinks {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, VecDeque<SinkRequest>>> {
        self.sinks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores a request for `name`.
    pub fn record(&self, name: &str, request: SinkRequest) -> Result<(), TooManySinks> {
        {
            let mut sinks = self.lock();
            if !sinks.contains_key(name) && sinks.len() >= MAX_SINKS {
                return Err(TooManySinks);
            }
            let requests = sinks.entry(name.to_owned()).or_default();
            if requests.len() >= MAX_REQUESTS_PER_SINK {
                requests.pop_front();
            }
            requests.push_back(request);
        }
        self.changed.notify_waiters();
        Ok(())
    }

    /// What `name` received, oldest first.
    pub fn requests(&self, name: &str) -> Vec<SinkRequest> {
        self.lock()
            .get(name)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets what `name` received.
    pub fn clear(&self, name: &str) {
        self.lock().remove(name);
        self.changed.notify_waiters();
    }

    /// Forgets every sink.
    pub fn clear_all(&self) {
        self.lock().clear();
        self.changed.notify_waiters();
    }

    /// Waits until `name` holds at least `min_count` requests or `timeout` (at most
    /// [`MAX_WAIT`]) passes; returns the requests and whether it timed out.
    pub async fn wait(
        &self,
        name: &str,
        min_count: usize,
        timeout: Duration,
    ) -> (Vec<SinkRequest>, bool) {
        let deadline = tokio::time::Instant::now() + timeout.min(MAX_WAIT);
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let requests = self.requests(name);
            if requests.len() >= min_count {
                return (requests, false);
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(deadline) => {
                    let requests = self.requests(name);
                    let timed_out = requests.len() < min_count;
                    return (requests, timed_out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> SinkRequest {
        SinkRequest {
            method: "POST".into(),
            headers: SinkHeaders::default(),
            body: body.into(),
            body_truncated: false,
            received_at_ms: 0,
            signature_valid: None,
        }
    }

    #[test]
    fn bounded_per_sink_and_in_sinks() {
        let sinks = Sinks::default();
        for i in 0..MAX_REQUESTS_PER_SINK + 5 {
            sinks.record("a", request(&i.to_string())).unwrap();
        }
        let got = sinks.requests("a");
        assert_eq!(got.len(), MAX_REQUESTS_PER_SINK);
        assert_eq!(got[0].body, "5");
        for i in 1..MAX_SINKS {
            sinks.record(&format!("s{i}"), request("x")).unwrap();
        }
        assert!(sinks.record("one-too-many", request("x")).is_err());
        assert!(sinks.record("a", request("still fine")).is_ok());
        sinks.clear("a");
        assert!(sinks.requests("a").is_empty());
        assert!(sinks.record("now-fits", request("x")).is_ok());
        sinks.clear_all();
        assert!(sinks.requests("now-fits").is_empty());
    }

    #[test]
    fn json_shape_uses_header_names() {
        let mut r = request("{}");
        r.headers.momento_signature = Some("ab".into());
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["headers"]["momento-signature"], "ab");
        assert_eq!(json["headers"]["content-type"], serde_json::Value::Null);
        assert_eq!(json["signature_valid"], serde_json::Value::Null);
    }

    #[tokio::test]
    async fn wait_wakes_on_arrival() {
        let sinks = std::sync::Arc::new(Sinks::default());
        let waiter = {
            let sinks = sinks.clone();
            tokio::spawn(async move { sinks.wait("a", 1, MAX_WAIT).await })
        };
        tokio::task::yield_now().await;
        sinks.record("a", request("hi")).unwrap();
        let (got, timed_out) = waiter.await.unwrap();
        assert!(!timed_out);
        assert_eq!(got.len(), 1);
        let (none, timed_out) = sinks.wait("b", 1, Duration::from_millis(10)).await;
        assert!(timed_out && none.is_empty());
    }
}
