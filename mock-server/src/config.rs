//! Configuration of one mock server: [`Config`], its defaults (the CLI's defaults) and its checks.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::Error;

/// Default listen address: where every Momento SDK's local mode looks (`127.0.0.1:8080`).
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);
/// Default number of caches per `ListCaches` page.
pub const DEFAULT_LIST_CACHES_PAGE_SIZE: usize = 100;
/// Default bound on one decoded or encoded gRPC message (4 MiB, gRPC's customary limit).
pub const DEFAULT_GRPC_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Default time that shutdown waits for open connections before closing them.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Everything one mock server needs to start. `Config::default()` equals the CLI's defaults.
///
/// `Debug` never prints the auth token.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to bind; port 0 picks a free port (see [`crate::RunningMock::addr`]).
    pub listen: SocketAddr,
    /// Caches per `ListCaches` page (at least 1).
    pub list_caches_page_size: usize,
    /// When set, every gRPC call must carry metadata `authorization: <token>` exactly.
    /// When `None`, any token (including none or the empty string) is accepted.
    pub auth_token: Option<String>,
    /// Largest gRPC message the server decodes or encodes, in bytes.
    pub grpc_max_message_bytes: usize,
    /// How long [`crate::RunningMock::shutdown`] lets open connections finish before dropping them.
    pub shutdown_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            list_caches_page_size: DEFAULT_LIST_CACHES_PAGE_SIZE,
            auth_token: None,
            grpc_max_message_bytes: DEFAULT_GRPC_MAX_MESSAGE_BYTES,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

impl Config {
    /// The defaults, listening on `127.0.0.1:0` (a free port): what an in-process test wants.
    pub fn ephemeral() -> Self {
        Self {
            listen: SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            ..Self::default()
        }
    }

    /// Checks the values that the types alone do not rule out.
    pub fn validate(&self) -> Result<(), Error> {
        if self.list_caches_page_size == 0 {
            return Err(Error::InvalidConfig(
                "list_caches_page_size must be at least 1".to_owned(),
            ));
        }
        if self.grpc_max_message_bytes == 0 {
            return Err(Error::InvalidConfig(
                "grpc_max_message_bytes must be at least 1".to_owned(),
            ));
        }
        if matches!(&self.auth_token, Some(t) if t.is_empty()) {
            return Err(Error::InvalidConfig(
                "the auth token must not be empty; leave it unset for open mode, which accepts any token"
                    .to_owned(),
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("list_caches_page_size", &self.list_caches_page_size)
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("grpc_max_message_bytes", &self.grpc_max_message_bytes)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_token() {
        let config = Config {
            auth_token: Some("s3cr3t-token".to_owned()),
            ..Config::default()
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("s3cr3t-token"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
    }

    #[test]
    fn validate_rejects_bad_values() {
        assert!(Config::default().validate().is_ok());
        let zero_page = Config {
            list_caches_page_size: 0,
            ..Config::default()
        };
        assert!(zero_page.validate().is_err());
        let empty_token = Config {
            auth_token: Some(String::new()),
            ..Config::default()
        };
        assert!(empty_token.validate().is_err());
    }
}
