//! HTTP/2's wire format as this server writes it (RFC 9113 §4, §6; RFC 7541 for header blocks):
//! frame headers, frame types, flags, error codes, settings, and the HPACK encoding of answers.
//! Answers use only literal fields without indexing, so the encoder keeps no state.

/// What a client sends before its first frame (RFC 9113 §3.4).
pub(super) const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// The length of every frame header.
pub(super) const HEAD_LEN: usize = 9;
/// The largest frame payload a peer may send before it learns otherwise (and all this server
/// accepts: it never raises `SETTINGS_MAX_FRAME_SIZE`).
pub(super) const DEFAULT_MAX_FRAME: usize = 16_384;
/// The window every connection and stream starts with (RFC 9113 §6.9.2).
pub(super) const DEFAULT_WINDOW: i64 = 65_535;
/// The largest window flow control allows.
pub(super) const MAX_WINDOW: i64 = (1 << 31) - 1;

pub(super) mod kind {
    pub const DATA: u8 = 0x0;
    pub const HEADERS: u8 = 0x1;
    pub const PRIORITY: u8 = 0x2;
    pub const RST_STREAM: u8 = 0x3;
    pub const SETTINGS: u8 = 0x4;
    pub const PUSH_PROMISE: u8 = 0x5;
    pub const PING: u8 = 0x6;
    pub const GOAWAY: u8 = 0x7;
    pub const WINDOW_UPDATE: u8 = 0x8;
    pub const CONTINUATION: u8 = 0x9;
}

pub(super) mod flag {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;
}

/// Error codes of `RST_STREAM` and `GOAWAY` (RFC 9113 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reason {
    NoError = 0x0,
    ProtocolError = 0x1,
    InternalError = 0x2,
    FlowControlError = 0x3,
    StreamClosed = 0x5,
    FrameSizeError = 0x6,
    RefusedStream = 0x7,
    CompressionError = 0x9,
    EnhanceYourCalm = 0xb,
}

pub(super) mod setting {
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    pub const ENABLE_PUSH: u16 = 0x2;
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;
}

/// A frame's 9-byte header.
#[derive(Debug, Clone, Copy)]
pub(super) struct Head {
    pub len: usize,
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
}

impl Head {
    pub fn parse(b: &[u8]) -> Head {
        Head {
            len: (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }
}

/// Appends a frame header; `len` is below 2^24 for every frame this server writes.
pub(super) fn put_head(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, stream: u32) {
    let len = (len as u32).to_be_bytes();
    out.extend_from_slice(&len[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
}

pub(super) fn put_settings(out: &mut Vec<u8>, settings: &[(u16, u32)]) {
    put_head(out, settings.len() * 6, kind::SETTINGS, 0, 0);
    for (id, value) in settings {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&value.to_be_bytes());
    }
}

pub(super) fn put_window_update(out: &mut Vec<u8>, stream: u32, increment: u32) {
    put_head(out, 4, kind::WINDOW_UPDATE, 0, stream);
    out.extend_from_slice(&increment.to_be_bytes());
}

pub(super) fn put_rst_stream(out: &mut Vec<u8>, stream: u32, reason: Reason) {
    put_head(out, 4, kind::RST_STREAM, 0, stream);
    out.extend_from_slice(&(reason as u32).to_be_bytes());
}

pub(super) fn put_goaway(out: &mut Vec<u8>, last_stream: u32, reason: Reason, debug: &str) {
    put_head(out, 8 + debug.len(), kind::GOAWAY, 0, 0);
    out.extend_from_slice(&last_stream.to_be_bytes());
    out.extend_from_slice(&(reason as u32).to_be_bytes());
    out.extend_from_slice(debug.as_bytes());
}

/// Appends a header block as one `HEADERS` frame and as many `CONTINUATION` frames as
/// `max_frame` requires.
pub(super) fn put_headers(
    out: &mut Vec<u8>,
    stream: u32,
    block: &[u8],
    end_stream: bool,
    max_frame: usize,
) {
    let mut chunks = block.chunks(max_frame).peekable();
    let mut frame_kind = kind::HEADERS;
    let mut flags = if end_stream { flag::END_STREAM } else { 0 };
    loop {
        let chunk = chunks.next().unwrap_or_default();
        let last = chunks.peek().is_none();
        if last {
            flags |= flag::END_HEADERS;
        }
        put_head(out, chunk.len(), frame_kind, flags, stream);
        out.extend_from_slice(chunk);
        if last {
            return;
        }
        frame_kind = kind::CONTINUATION;
        flags = 0;
    }
}

/// The header block of every successful gRPC answer: `:status: 200` (static table entry 8) and
/// `content-type: application/grpc` (a literal with the static name 31, not indexed).
pub(super) const GRPC_OK_HEADERS: &[u8] = b"\x88\x0f\x10\x10application/grpc";
/// The trailer block of every successful gRPC answer: `grpc-status: 0`.
pub(super) const GRPC_OK_TRAILERS: &[u8] = b"\x00\x0bgrpc-status\x010";

/// Encodes `:status` and `headers` as a header block of literal fields without indexing.
pub(super) fn encode_headers(
    out: &mut Vec<u8>,
    status: Option<http::StatusCode>,
    headers: &http::HeaderMap,
) {
    match status {
        Some(http::StatusCode::OK) => out.push(0x88),
        Some(code) => {
            // A literal with the static name 8 (`:status`).
            out.push(0x08);
            put_string(out, code.as_str().as_bytes());
        }
        None => {}
    }
    for (name, value) in headers {
        out.push(0x00);
        put_string(out, name.as_str().as_bytes());
        put_string(out, value.as_bytes());
    }
}

/// A string literal without Huffman coding.
fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    put_integer(out, s.len(), 7, 0);
    out.extend_from_slice(s);
}

/// An HPACK integer with a `prefix`-bit prefix whose other bits are `high` (RFC 7541 §5.1).
pub(super) fn put_integer(out: &mut Vec<u8>, mut value: usize, prefix: u8, high: u8) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(high | value as u8);
        return;
    }
    out.push(high | max as u8);
    value -= max;
    while value >= 128 {
        out.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(block: &[u8]) -> Vec<(String, String)> {
        let mut decoder = loona_hpack::Decoder::new();
        decoder
            .decode(block)
            .unwrap()
            .into_iter()
            .map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_fixed_blocks_decode_to_what_they_claim() {
        assert_eq!(
            decode(GRPC_OK_HEADERS),
            pairs(&[(":status", "200"), ("content-type", "application/grpc")])
        );
        assert_eq!(decode(GRPC_OK_TRAILERS), pairs(&[("grpc-status", "0")]));
    }

    #[test]
    fn encoded_headers_round_trip_through_a_decoder() {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-status", http::HeaderValue::from_static("3"));
        let long = "x".repeat(300);
        headers.insert("grpc-message", http::HeaderValue::from_str(&long).unwrap());
        let mut block = Vec::new();
        encode_headers(&mut block, Some(http::StatusCode::NOT_FOUND), &headers);
        assert_eq!(
            decode(&block),
            pairs(&[
                (":status", "404"),
                ("grpc-status", "3"),
                ("grpc-message", &long)
            ])
        );
    }

    #[test]
    fn header_blocks_are_split_into_continuation_frames() {
        let block: Vec<u8> = (0..40u8).collect();
        let mut out = Vec::new();
        put_headers(&mut out, 3, &block, true, 16);
        let mut frames = Vec::new();
        let mut rest = &out[..];
        while !rest.is_empty() {
            let head = Head::parse(rest);
            frames.push((head.kind, head.flags, head.len));
            rest = &rest[HEAD_LEN + head.len..];
        }
        assert_eq!(
            frames,
            vec![
                (kind::HEADERS, flag::END_STREAM, 16),
                (kind::CONTINUATION, 0, 16),
                (kind::CONTINUATION, flag::END_HEADERS, 8),
            ]
        );
        let mut empty = Vec::new();
        put_headers(&mut empty, 1, &[], false, 16);
        assert_eq!(empty.len(), HEAD_LEN);
        assert_eq!(Head::parse(&empty).flags, flag::END_HEADERS);
    }
}
