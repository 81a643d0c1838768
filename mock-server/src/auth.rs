//! Credentials: checks the token a caller presents against the configured one. Used by every gRPC
//! service (as a tonic interceptor) and, later, by the HTTP API. Never logs or echoes a token.

use std::sync::Arc;

use tonic::metadata::MetadataMap;
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// The metadata key (and HTTP header) that carries the token, without any `Bearer` prefix.
pub const AUTHORIZATION: &str = "authorization";

/// Why a caller was refused. Messages name the problem, never a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("authentication required: this momento-mock was started with an auth token, so every call must carry `authorization: <token>`, and this one carries none")]
    Missing,
    #[error("invalid auth token: the `authorization` value does not match the token this momento-mock was started with")]
    Invalid,
}

impl From<AuthError> for Status {
    fn from(err: AuthError) -> Self {
        Status::unauthenticated(err.to_string())
    }
}

/// The server's auth policy: open (accept anything) or one required token.
///
/// Cheap to clone; `Debug` never prints the token.
#[derive(Clone, Default)]
pub struct Auth {
    required: Option<Arc<str>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = if self.required.is_some() {
            "token required"
        } else {
            "open"
        };
        f.debug_struct("Auth").field("mode", &mode).finish()
    }
}

impl Auth {
    /// Open mode when `token` is `None`; otherwise only that exact token passes.
    pub fn new(token: Option<&str>) -> Self {
        Self {
            required: token.map(Arc::from),
        }
    }

    /// Whether a token is enforced.
    pub fn is_enforced(&self) -> bool {
        self.required.is_some()
    }

    /// Checks a presented token (`None` when the caller sent none).
    pub fn check_token(&self, presented: Option<&[u8]>) -> Result<(), AuthError> {
        let Some(required) = &self.required else {
            return Ok(());
        };
        match presented {
            None => Err(AuthError::Missing),
            Some(given) if constant_time_eq(given, required.as_bytes()) => Ok(()),
            Some(_) => Err(AuthError::Invalid),
        }
    }

    /// Checks the `authorization` entry of gRPC metadata.
    pub fn check_metadata(&self, metadata: &MetadataMap) -> Result<(), AuthError> {
        if !self.is_enforced() {
            return Ok(());
        }
        let presented = metadata.get(AUTHORIZATION).map(|v| v.as_bytes());
        self.check_token(presented)
    }
}

/// Use as `InterceptedService::new(server, auth.clone())` on every gRPC service.
impl Interceptor for Auth {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        match self.check_metadata(request.metadata()) {
            Ok(()) => Ok(request),
            Err(err) => {
                tracing::debug!(reason = ?err, "gRPC call refused: unauthenticated");
                Err(err.into())
            }
        }
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_mode_accepts_anything() {
        let auth = Auth::new(None);
        assert_eq!(auth.check_token(None), Ok(()));
        assert_eq!(auth.check_token(Some(b"")), Ok(()));
        assert_eq!(auth.check_token(Some(b"whatever")), Ok(()));
    }

    #[test]
    fn enforced_mode_wants_the_exact_token() {
        let auth = Auth::new(Some("tok"));
        assert_eq!(auth.check_token(Some(b"tok")), Ok(()));
        assert_eq!(auth.check_token(None), Err(AuthError::Missing));
        assert_eq!(auth.check_token(Some(b"")), Err(AuthError::Invalid));
        assert_eq!(
            auth.check_token(Some(b"Bearer tok")),
            Err(AuthError::Invalid)
        );
        assert_eq!(auth.check_token(Some(b"to")), Err(AuthError::Invalid));
    }

    #[test]
    fn nothing_leaks_the_token() {
        let auth = Auth::new(Some("s3cr3t"));
        assert!(!format!("{auth:?}").contains("s3cr3t"));
        for err in [AuthError::Missing, AuthError::Invalid] {
            assert!(!Status::from(err).message().contains("s3cr3t"));
        }
    }
}
