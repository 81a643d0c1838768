//! What goes on the wire of one webhook delivery: the JSON body (Momento's keys, in Momento's
//! order, built by hand so the order is guaranteed) and the `momento-signature` header
//! (lowercase hex of HMAC-SHA3-256 over the raw body, keyed with the secret's UTF-8 bytes).
//!
//! Body shape, compact, keys in exactly this order:
//!
//! ```text
//! {"cache":"chat","topic":"room","event_timestamp":1704296470564,"publish_timestamp":1704296470565,
//!  "topic_sequence_number":1,"token_id":"","text":"Here I am!!"}
//! ```
//!
//! A binary value (Momento never documented one) is sent as `"binary":"<standard base64>"` in
//! place of `"text"`, e.g. bytes `00 ff` → `"binary":"AP8="`.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha3::Sha3_256;

use crate::events::{PublishedMessage, TopicValue};

/// The `User-Agent` Momento sends with every delivery.
pub const USER_AGENT: &str = "Momento/1.0 (Webhooks; +https://docs.momentohq.com/topics/webhooks)";
/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "momento-signature";

/// HMAC-SHA3-256 keyed with one webhook secret.
pub type Signer = Hmac<Sha3_256>;

/// A signer for `secret` (HMAC accepts keys of any length, so this cannot fail).
pub fn signer(secret: &str) -> Signer {
    // `new_from_slice` only fails for MACs with a fixed key size; HMAC takes any length.
    match <Signer as Mac>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// Lowercase hex of HMAC-SHA3-256(`secret`, `body`).
pub fn sign(secret: &str, body: &[u8]) -> String {
    sign_with(&signer(secret), body)
}

/// Like [`sign`], from a prepared signer (cloned, so the keyed state is computed once).
pub fn sign_with(signer: &Signer, body: &[u8]) -> String {
    let hex = sign_hex(signer, body);
    // Lowercase hex digits are ASCII.
    String::from_utf8_lossy(&hex).into_owned()
}

/// [`sign_with`] into a stack buffer: the lowercase hex ASCII of the signature (the delivery
/// path turns it into a header value without an intermediate `String`).
pub fn sign_hex(signer: &Signer, body: &[u8]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut mac = signer.clone();
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = [0u8; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(digest.iter()) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0x0f)];
    }
    out
}

/// Whether `signature` (hex, either case) is the HMAC-SHA3-256 of `body` under `secret`.
/// Compares in constant time.
pub fn verify(secret: &str, body: &[u8], signature: &str) -> bool {
    let Some(bytes) = unhex(signature.trim()) else {
        return false;
    };
    let mut mac = signer(secret);
    mac.update(body);
    mac.verify_slice(&bytes).is_ok()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            match pair {
                [high, low] => Some((digit(*high)? * 16 + digit(*low)?) as u8),
                _ => None,
            }
        })
        .collect()
}

/// A message's body with the one field that changes per attempt (`publish_timestamp`) left
/// out: built once per message, shared by every webhook and attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyTemplate {
    /// `{"cache":…,"topic":…,"event_timestamp":N,"publish_timestamp":`
    prefix: Vec<u8>,
    /// `,"topic_sequence_number":N,"token_id":…,"text":…}`
    suffix: Vec<u8>,
}

impl BodyTemplate {
    /// Encodes everything of `message` but the send time.
    pub fn new(message: &PublishedMessage) -> Self {
        let mut prefix = Vec::with_capacity(64 + message.cache.len() + message.topic.len());
        prefix.extend_from_slice(b"{\"cache\":");
        json_string(&mut prefix, &message.cache);
        prefix.extend_from_slice(b",\"topic\":");
        json_string(&mut prefix, &message.topic);
        prefix.extend_from_slice(b",\"event_timestamp\":");
        prefix.extend_from_slice(message.publish_timestamp_ms.to_string().as_bytes());
        prefix.extend_from_slice(b",\"publish_timestamp\":");

        let mut suffix = Vec::with_capacity(64 + message.value.len() * 4 / 3);
        suffix.extend_from_slice(b",\"topic_sequence_number\":");
        suffix.extend_from_slice(message.topic_sequence_number.to_string().as_bytes());
        suffix.extend_from_slice(b",\"token_id\":");
        json_string(&mut suffix, &message.publisher_id);
        match &message.value {
            TopicValue::Text(text) => {
                suffix.extend_from_slice(b",\"text\":");
                json_string(&mut suffix, text);
            }
            TopicValue::Binary(bytes) => {
                suffix.extend_from_slice(b",\"binary\":\"");
                suffix.extend_from_slice(
                    base64::engine::general_purpose::STANDARD
                        .encode(bytes)
                        .as_bytes(),
                );
                suffix.push(b'"');
            }
        }
        suffix.push(b'}');
        Self { prefix, suffix }
    }

    /// The complete body, sent at `publish_timestamp_ms`.
    pub fn render(&self, publish_timestamp_ms: u64) -> Vec<u8> {
        // u64::MAX has 20 digits.
        let mut body = Vec::with_capacity(self.prefix.len() + 20 + self.suffix.len());
        body.extend_from_slice(&self.prefix);
        push_decimal(&mut body, publish_timestamp_ms);
        body.extend_from_slice(&self.suffix);
        body
    }
}

/// Appends the decimal digits of `n` (what `n.to_string()` gives, without the `String`).
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `text` as a JSON string (quotes, backslashes and control characters escaped;
/// everything else, non-ASCII included, as UTF-8).
fn json_string(out: &mut Vec<u8>, text: &str) {
    // Serialising a `str` into a Vec cannot fail; fall back to an empty string regardless.
    if serde_json::to_writer(&mut *out, text).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(value: TopicValue) -> PublishedMessage {
        PublishedMessage {
            cache: "chat".into(),
            topic: "room-281".into(),
            topic_sequence_number: 1,
            sequence_page: 7,
            value,
            publisher_id: String::new(),
            publish_timestamp_ms: 1_704_296_470_564,
        }
    }

    #[test]
    fn documented_test_vector() {
        let body = br#"{"text":"some text", "another_field": "another field" }"#;
        assert_eq!(
            sign("1234567890", body),
            "b43f72787eb66410ff110295b036ef828e5686af21b414ce092f02c05deea3da"
        );
        assert!(verify(
            "1234567890",
            body,
            "b43f72787eb66410ff110295b036ef828e5686af21b414ce092f02c05deea3da"
        ));
        assert!(verify(
            "1234567890",
            body,
            "B43F72787EB66410FF110295B036EF828E5686AF21B414CE092F02C05DEEA3DA"
        ));
        assert!(!verify("123456789", body, &sign("1234567890", body)));
        assert!(!verify("1234567890", b"other", &sign("1234567890", body)));
        assert!(!verify("1234567890", body, "zz"));
        assert!(!verify("1234567890", body, "abc"));
        assert!(!verify("1234567890", body, ""));
    }

    #[test]
    fn decimals_match_to_string() {
        for n in [0, 1, 9, 10, 1_704_296_470_565, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }

    #[test]
    fn prepared_signer_matches() {
        let s = signer("whsec_x");
        assert_eq!(sign_with(&s, b"a"), sign("whsec_x", b"a"));
        assert_eq!(sign_with(&s, b"b"), sign("whsec_x", b"b"));
    }

    #[test]
    fn body_has_momentos_keys_in_order() {
        let body = BodyTemplate::new(&message(TopicValue::Text("Here I am!!".into())))
            .render(1_704_296_470_565);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"cache":"chat","topic":"room-281","event_timestamp":1704296470564,"publish_timestamp":1704296470565,"topic_sequence_number":1,"token_id":"","text":"Here I am!!"}"#
        );
    }

    #[test]
    fn body_escapes_strings() {
        let mut m = message(TopicValue::Text("say \"hi\"\\ \n\t\u{1} é ✓ 😀".into()));
        m.cache = "c\"a".into();
        m.topic = "t/ö".into();
        m.publisher_id = "tok\"en".into();
        let body = BodyTemplate::new(&m).render(5);
        let text = String::from_utf8(body.clone()).unwrap();
        assert_eq!(
            text,
            "{\"cache\":\"c\\\"a\",\"topic\":\"t/ö\",\"event_timestamp\":1704296470564,\"publish_timestamp\":5,\"topic_sequence_number\":1,\"token_id\":\"tok\\\"en\",\"text\":\"say \\\"hi\\\"\\\\ \\n\\t\\u0001 é ✓ 😀\"}"
        );
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["text"], "say \"hi\"\\ \n\t\u{1} é ✓ 😀");
        assert_eq!(parsed["cache"], "c\"a");
        assert_eq!(parsed["token_id"], "tok\"en");
    }

    #[test]
    fn binary_values_are_standard_base64() {
        let body =
            BodyTemplate::new(&message(TopicValue::Binary(vec![0x00, 0xff, 0xfb, 0x10]))).render(9);
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.ends_with(r#","topic_sequence_number":1,"token_id":"","binary":"AP/7EA=="}"#),
            "{text}"
        );
        assert!(!text.contains("\"text\""), "{text}");
        let empty = BodyTemplate::new(&message(TopicValue::Binary(Vec::new()))).render(9);
        assert!(String::from_utf8(empty)
            .unwrap()
            .ends_with(r#""binary":""}"#));
    }
}
