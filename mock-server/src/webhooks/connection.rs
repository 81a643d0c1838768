//! The HTTP/1.1 connections deliveries go out on. A lane owns at most one connection at a time
//! and drives it inside its own task while a request is in flight: no pool lookup, no separate
//! connection task and no cross-task hand-off per delivery. Between deliveries a connection
//! waits in its webhook's [`IdleConnections`]; one the destination closed, or that sat idle for
//! [`IDLE_TIMEOUT`], is dropped rather than reused.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Waker};
use std::time::Duration;

use http::header::{HeaderValue, HOST};
use http::uri::{Authority, PathAndQuery, Scheme};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::{http1, TrySendError};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long an unused connection is kept for the next delivery.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// A request as the lanes send it.
pub(crate) type Request = http::Request<Full<Bytes>>;

/// Where a webhook's deliveries go, worked out once per destination (not per delivery).
#[derive(Debug)]
pub(crate) struct Target {
    /// The destination, for connecting and for error messages.
    pub uri: http::Uri,
    scheme: Scheme,
    authority: Authority,
    /// The request target in origin form (`/path?query`).
    path: PathAndQuery,
    /// The `Host` header: host, and port unless it is the scheme's default.
    host: HeaderValue,
}

impl Target {
    /// Reads an absolute `http` or `https` URL.
    pub fn new(destination: &str) -> Result<Self, String> {
        let cannot = |why: &dyn std::fmt::Display| {
            format!("the destination {destination} cannot be requested: {why}")
        };
        let uri: http::Uri = destination.parse().map_err(|e| cannot(&e))?;
        let scheme = uri
            .scheme()
            .filter(|s| **s == Scheme::HTTP || **s == Scheme::HTTPS)
            .cloned()
            .ok_or_else(|| cannot(&"only http and https URLs can be requested"))?;
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| cannot(&"the URL names no host"))?;
        let default_port = if scheme == Scheme::HTTPS { 443 } else { 80 };
        let host = match authority.port_u16() {
            Some(port) if port != default_port => format!("{}:{port}", authority.host()),
            _ => authority.host().to_owned(),
        };
        let host = HeaderValue::from_str(&host).map_err(|e| cannot(&e))?;
        let path = uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        Ok(Self {
            scheme,
            authority,
            path,
            host,
            uri,
        })
    }

    /// A POST to this destination, with the `Host` header set; the caller adds the rest.
    pub fn post(&self, body: Vec<u8>) -> Result<Request, http::Error> {
        let mut request = http::Request::post(http::Uri::from(self.path.clone()))
            .body(Full::new(Bytes::from(body)))?;
        request.headers_mut().insert(HOST, self.host.clone());
        Ok(request)
    }
}

/// A failure to open a connection, with its cause chain.
#[derive(Debug)]
pub(crate) struct ConnectError(pub String);

/// Opens connections: plain TCP (TCP_NODELAY) or rustls, HTTP/1.1 only, no proxies.
#[derive(Clone, Debug)]
pub(crate) struct Connector {
    inner: HttpsConnector<HttpConnector>,
}

impl Connector {
    /// A connector checking `https` destinations against webpki's roots, on aws-lc-rs.
    pub fn new() -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        // ALPN: hyper-rustls offers http/1.1 itself (`enable_http1`).
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| format!("cannot set up TLS for webhook deliveries: {err}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        tcp.enforce_http(false);
        let inner = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Ok(Self { inner })
    }

    /// A new connection to `target` (TCP connect, then the TLS handshake for `https`).
    pub async fn open(&self, target: &Target) -> Result<Connection, ConnectError> {
        use tower::Service as _;
        let mut connect = self.inner.clone();
        std::future::poll_fn(|cx| connect.poll_ready(cx))
            .await
            .map_err(|e| ConnectError(chain("cannot connect", e.as_ref())))?;
        let stream = connect
            .call(target.uri.clone())
            .await
            .map_err(|e| ConnectError(chain("cannot connect", e.as_ref())))?;
        let (sender, driver) = http1::handshake(stream)
            .await
            .map_err(|e| ConnectError(chain("cannot start HTTP/1.1", &e)))?;
        Ok(Connection {
            scheme: target.scheme.clone(),
            authority: target.authority.clone(),
            sender,
            driver: Box::pin(driver),
            ended: false,
            idle_since: Instant::now(),
        })
    }
}

type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;

/// One keep-alive HTTP/1.1 connection to one origin.
pub(crate) struct Connection {
    scheme: Scheme,
    authority: Authority,
    sender: http1::SendRequest<Full<Bytes>>,
    /// The connection's state machine; it makes progress only while polled.
    driver: Pin<Box<http1::Connection<Stream, Full<Bytes>>>>,
    /// The driver finished: the connection is closed (by either side) or broke.
    ended: bool,
    idle_since: Instant,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("scheme", &self.scheme)
            .field("authority", &self.authority)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Whether this connection goes where `target` does.
    pub fn serves(&self, target: &Target) -> bool {
        self.scheme == target.scheme && self.authority == target.authority
    }

    /// Whether a request can go out on this connection now. Polls it once without waiting, so
    /// that a close (or anything else) that arrived while it was idle is seen first.
    pub fn is_open(&mut self) -> bool {
        if !self.ended {
            let mut cx = Context::from_waker(Waker::noop());
            self.ended = self.driver.as_mut().poll(&mut cx).is_ready();
        }
        !self.ended && !self.sender.is_closed()
    }

    /// Sends `request` and waits for the answer's head, driving the connection meanwhile. A
    /// request that never went out comes back inside the error (`TrySendError::take_message`).
    pub async fn send(
        &mut self,
        request: Request,
    ) -> Result<http::Response<Incoming>, TrySendError<Request>> {
        let answer = self.sender.try_send_request(request);
        self.driving(answer).await
    }

    /// Reads and discards an answer body, up to `limit` bytes, driving the connection
    /// meanwhile. True when the body ended within the limit, so the connection can be reused.
    pub async fn discard(&mut self, body: Incoming, limit: usize) -> bool {
        let read_all = async move {
            let mut body = pin!(body);
            let mut read = 0usize;
            loop {
                match body.frame().await {
                    None => return true,
                    Some(Ok(frame)) => {
                        read += frame.data_ref().map_or(0, Bytes::len);
                        if read > limit {
                            return false;
                        }
                    }
                    Some(Err(_)) => return false,
                }
            }
        };
        self.driving(read_all).await
    }

    /// Polls `work` to its end, polling the connection first each time so that its reads and
    /// writes happen in this task.
    async fn driving<F: Future>(&mut self, work: F) -> F::Output {
        let mut work = pin!(work);
        let (driver, ended) = (&mut self.driver, &mut self.ended);
        std::future::poll_fn(|cx| {
            if !*ended {
                *ended = driver.as_mut().poll(cx).is_ready();
            }
            // Once the connection has ended, `work` ends too: hyper fails what it left unfinished.
            work.as_mut().poll(cx)
        })
        .await
    }
}

/// A webhook's connections that no lane holds right now, most recently used last.
#[derive(Debug)]
pub(crate) struct IdleConnections {
    kept: Mutex<Vec<Connection>>,
    /// How long a connection is kept unused ([`IDLE_TIMEOUT`]).
    timeout: Duration,
}

impl Default for IdleConnections {
    fn default() -> Self {
        Self::with_timeout(IDLE_TIMEOUT)
    }
}

impl IdleConnections {
    fn with_timeout(timeout: Duration) -> Self {
        Self {
            kept: Mutex::new(Vec::new()),
            timeout,
        }
    }

    /// The most recently used open connection to `target`, if any. Drops every connection it
    /// passes over that is closed, expired or goes elsewhere (an updated destination).
    pub fn take(&self, target: &Target) -> Option<Connection> {
        let mut idle = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(mut connection) = idle.pop() {
            if connection.serves(target)
                && connection.idle_since.elapsed() < self.timeout
                && connection.is_open()
            {
                return Some(connection);
            }
        }
        None
    }

    /// Keeps `connection` for a later delivery, unless it is closed.
    pub fn put(&self, mut connection: Connection) {
        if connection.is_open() {
            connection.idle_since = Instant::now();
            self.kept
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(connection);
        }
    }

    /// When the oldest connection kept expires, if any is kept.
    pub fn next_expiry(&self) -> Option<Instant> {
        let idle = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        idle.first().map(|c| c.idle_since + self.timeout)
    }

    /// Drops the connections that expired or were closed by the destination.
    pub fn prune(&self) {
        let mut idle = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        idle.retain_mut(|c| c.idle_since.elapsed() < self.timeout && c.is_open());
    }
}

/// `context: error: cause: cause…`, for the journal.
pub(crate) fn chain(context: &str, err: &(dyn std::error::Error + 'static)) -> String {
    let mut detail = format!("{context}: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_and_path(url: &str) -> (String, String) {
        let target = Target::new(url).expect("valid target");
        let request = target.post(Vec::new()).expect("request");
        (
            request.headers()[HOST].to_str().unwrap().to_owned(),
            request.uri().to_string(),
        )
    }

    #[test]
    fn targets_send_origin_form_with_the_host_header_clients_send() {
        assert_eq!(
            host_and_path("http://127.0.0.1:8080/hooks/a?x=1&y=2"),
            ("127.0.0.1:8080".into(), "/hooks/a?x=1&y=2".into())
        );
        assert_eq!(
            host_and_path("http://example.com"),
            ("example.com".into(), "/".into())
        );
        assert_eq!(
            host_and_path("https://example.com:443/h"),
            ("example.com".into(), "/h".into())
        );
        assert_eq!(
            host_and_path("https://example.com:80/h"),
            ("example.com:80".into(), "/h".into())
        );
        assert_eq!(
            host_and_path("http://[::1]:9000/h"),
            ("[::1]:9000".into(), "/h".into())
        );
    }

    #[test]
    fn targets_refuse_what_cannot_be_requested() {
        let err = Target::new("ftp://example.com/x").unwrap_err();
        assert!(
            err.contains("ftp://example.com/x") && err.contains("http and https"),
            "{err}"
        );
        let err = Target::new("/relative").unwrap_err();
        assert!(err.contains("cannot be requested"), "{err}");
    }

    /// A listener that accepts connections and keeps them open without reading.
    async fn holding_listener() -> (String, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/h", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        (url, task)
    }

    #[tokio::test]
    async fn idle_connections_go_only_where_they_were_opened() {
        let (url, _server) = holding_listener().await;
        let target = Target::new(&url).unwrap();
        let elsewhere = Target::new("http://127.0.0.1:9/h").unwrap();
        let connector = Connector::new().unwrap();
        let idle = IdleConnections::default();
        assert!(idle.next_expiry().is_none());

        idle.put(connector.open(&target).await.unwrap());
        let expiry = idle.next_expiry().expect("one connection kept");
        assert!(expiry > Instant::now() + IDLE_TIMEOUT - Duration::from_secs(30));
        assert!(idle.take(&elsewhere).is_none(), "another origin");
        assert!(idle.next_expiry().is_none(), "passing over it dropped it");

        idle.put(connector.open(&target).await.unwrap());
        let mut kept = idle.take(&target).expect("kept for its origin");
        assert!(kept.is_open());
        assert!(idle.take(&target).is_none(), "taken");
        idle.put(kept);
        assert!(idle.take(&target).is_some(), "put back");
    }

    #[tokio::test]
    async fn idle_connections_expire() {
        let (url, _server) = holding_listener().await;
        let target = Target::new(&url).unwrap();
        let connector = Connector::new().unwrap();
        let idle = IdleConnections::with_timeout(Duration::from_millis(1));
        idle.put(connector.open(&target).await.unwrap());
        idle.put(connector.open(&target).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(idle.next_expiry().unwrap() <= Instant::now());
        idle.prune();
        assert!(idle.next_expiry().is_none(), "pruned");

        idle.put(connector.open(&target).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(idle.take(&target).is_none(), "expired");
    }

    #[tokio::test]
    async fn a_connection_the_destination_closed_is_not_kept() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = Target::new(&format!("http://{}/h", listener.local_addr().unwrap())).unwrap();
        let connector = Connector::new().unwrap();
        let (connection, accepted) = tokio::join!(connector.open(&target), listener.accept());
        let mut connection = connection.unwrap();
        assert!(connection.is_open());
        drop(accepted.unwrap());
        // The close reaches the connection once the runtime has seen the socket's readiness.
        let closed = async {
            while connection.is_open() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), closed)
            .await
            .expect("the close is noticed");
        let idle = IdleConnections::default();
        idle.put(connection);
        assert!(idle.next_expiry().is_none());
    }
}
