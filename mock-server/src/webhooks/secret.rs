//! Webhook secrets: generation from the operating system's random source, and a wrapper that
//! keeps them out of logs and `Debug` output.

use std::fmt;

use base64::Engine as _;
use rand::TryRngCore as _;

/// Prefix of every secret the mock issues.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes per secret.
pub const SECRET_RANDOM_BYTES: usize = 32;
/// Length of a secret: the prefix plus 43 base64url characters (32 bytes, no padding).
pub const SECRET_LEN: usize = 6 + 43;

/// A webhook secret: `whsec_` followed by 43 characters of unpadded base64url (`A-Z a-z 0-9 - _`)
/// encoding 32 bytes from the operating system's random source (256 bits of entropy), e.g.
/// `whsec_Xq3…` (49 characters in all). Receivers use its UTF-8 bytes as the HMAC key.
///
/// `Debug` and `Display` print `<redacted>`; read the value with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// The operating system's random source failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot generate a webhook secret: the operating system's random source failed ({0})")]
pub struct SecretError(String);

impl Secret {
    /// A new secret from the OS random source.
    pub fn generate() -> Result<Self, SecretError> {
        let mut bytes = [0u8; SECRET_RANDOM_BYTES];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|err| SecretError(err.to_string()))?;
        let mut text = String::with_capacity(SECRET_LEN);
        text.push_str(SECRET_PREFIX);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes, &mut text);
        Ok(Self(text))
    }

    /// The secret's text (what `GetWebhookSecret` returns and what signs deliveries).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn format_is_prefix_and_43_base64url_characters() {
        let secret = Secret::generate().unwrap();
        let text = secret.expose();
        assert_eq!(text.len(), SECRET_LEN, "{text}");
        let tail = text.strip_prefix(SECRET_PREFIX).expect("prefix");
        assert_eq!(tail.len(), 43);
        assert!(tail
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tail)
            .unwrap();
        assert_eq!(decoded.len(), SECRET_RANDOM_BYTES);
    }

    #[test]
    fn secrets_are_random() {
        let secrets: HashSet<String> = (0..200)
            .map(|_| Secret::generate().unwrap().expose().to_owned())
            .collect();
        assert_eq!(secrets.len(), 200);
        // Every base64url character position varies: no constant bytes sneak in.
        let tails: Vec<&[u8]> = secrets.iter().map(|s| &s.as_bytes()[6..]).collect();
        for i in 0..42 {
            let distinct: HashSet<u8> = tails.iter().map(|t| t[i]).collect();
            assert!(distinct.len() > 10, "position {i} barely varies");
        }
    }

    #[test]
    fn never_printed() {
        let secret = Secret::generate().unwrap();
        assert!(!format!("{secret:?}").contains(secret.expose()));
        assert!(!format!("{secret}").contains(secret.expose()));
    }
}
