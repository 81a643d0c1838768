//! Provider configuration: where the Momento endpoint is and how the API key is read, following
//! Momento's SDKs (v1 keys are base64 JSON carrying the real key and the base endpoint).
use base64::Engine;

/// Where and how the provider connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The URI the gRPC channel connects to, e.g. `http://127.0.0.1:8080` or
    /// `https://control.cell-1.momentohq.com:443`.
    pub uri: String,
    pub tls: bool,
}

impl Endpoint {
    /// Reads an `endpoint` setting:
    /// - `http://host:port`: plaintext gRPC to exactly that address (the mock, local setups);
    /// - `https://host[:port]`: TLS to that host (port 443 by default);
    /// - a bare base host such as `cell-4-us-west-2-1.prod.a.momentohq.com`: TLS to
    ///   `control.<host>:443`, as Momento's SDKs do.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("the endpoint is empty".into());
        }
        if let Some(rest) = raw.strip_prefix("http://") {
            let authority = authority(rest, raw)?;
            if !authority.contains(':') {
                return Err(format!(
                    "the endpoint {raw:?} needs a port, e.g. http://127.0.0.1:8080"
                ));
            }
            return Ok(Self {
                uri: format!("http://{authority}"),
                tls: false,
            });
        }
        if let Some(rest) = raw.strip_prefix("https://") {
            let authority = authority(rest, raw)?;
            let with_port = if has_port(authority) {
                authority.to_owned()
            } else {
                format!("{authority}:443")
            };
            return Ok(Self {
                uri: format!("https://{with_port}"),
                tls: true,
            });
        }
        if raw.contains("://") {
            return Err(format!(
                "the endpoint {raw:?} must start with http:// or https://, or be a bare host name"
            ));
        }
        let host = authority(raw, raw)?;
        if has_port(host) {
            return Err(format!(
                "the endpoint {raw:?} has a port but no scheme: write http://{host} for plaintext or https://{host} for TLS"
            ));
        }
        Ok(Self {
            uri: format!("https://control.{host}:443"),
            tls: true,
        })
    }
}

fn authority<'a>(rest: &'a str, raw: &str) -> Result<&'a str, String> {
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') || authority.contains(char::is_whitespace) {
        return Err(format!(
            "the endpoint {raw:?} must be a host with an optional port, without a path"
        ));
    }
    Ok(authority)
}

fn has_port(authority: &str) -> bool {
    authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// An API key as used on the wire, plus the endpoint a v1 key names.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub token: String,
    pub endpoint: Option<String>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("token", &"<redacted>")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl ApiKey {
    /// Reads a key: a v1 key (base64 of `{"api_key": ..., "endpoint": ...}`) is unwrapped to its
    /// inner key; anything else is used as it is. Empty is allowed (the mock's open mode).
    pub fn parse(raw: &str) -> Self {
        let raw = raw.trim();
        #[derive(serde::Deserialize)]
        struct V1 {
            api_key: String,
            endpoint: Option<String>,
        }
        let v1 = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<V1>(&bytes).ok());
        match v1 {
            Some(v1) => Self {
                token: v1.api_key,
                endpoint: v1.endpoint.filter(|e| !e.is_empty()),
            },
            None => Self {
                token: raw.to_owned(),
                endpoint: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:8080").unwrap(),
            Endpoint {
                uri: "http://127.0.0.1:8080".into(),
                tls: false
            }
        );
        assert_eq!(
            Endpoint::parse("https://example.com").unwrap(),
            Endpoint {
                uri: "https://example.com:443".into(),
                tls: true
            }
        );
        assert_eq!(
            Endpoint::parse("https://example.com:9443/").unwrap(),
            Endpoint {
                uri: "https://example.com:9443".into(),
                tls: true
            }
        );
        assert_eq!(
            Endpoint::parse("cell-1.prod.a.momentohq.com").unwrap(),
            Endpoint {
                uri: "https://control.cell-1.prod.a.momentohq.com:443".into(),
                tls: true
            }
        );
        assert!(Endpoint::parse("http://localhost")
            .unwrap_err()
            .contains("needs a port"));
        assert!(Endpoint::parse("localhost:8080")
            .unwrap_err()
            .contains("http://localhost:8080"));
        assert!(Endpoint::parse("ftp://x").unwrap_err().contains("http://"));
        assert!(Endpoint::parse("http://x:1/path")
            .unwrap_err()
            .contains("without a path"));
        assert!(Endpoint::parse("").is_err());
    }

    #[test]
    fn v1_keys_are_unwrapped() {
        let v1 = base64::engine::general_purpose::STANDARD
            .encode(r#"{"api_key":"inner.jwt.token","endpoint":"cell-1.momentohq.com"}"#);
        let key = ApiKey::parse(&v1);
        assert_eq!(key.token, "inner.jwt.token");
        assert_eq!(key.endpoint.as_deref(), Some("cell-1.momentohq.com"));
        let plain = ApiKey::parse("eyJhbGciOi.payload.sig");
        assert_eq!(plain.token, "eyJhbGciOi.payload.sig");
        assert_eq!(plain.endpoint, None);
        assert_eq!(ApiKey::parse("").token, "");
        assert!(
            !format!("{key:?}").contains("inner.jwt.token"),
            "Debug must not print the key"
        );
    }
}
