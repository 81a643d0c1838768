//! HPACK decoding of the header blocks clients send (RFC 7541): integers, string literals
//! (Huffman codes through `httlib-huffman`'s table-driven decoder), and the static and dynamic
//! tables. Decoding is in place: a field's name and value are handed to a callback as slices.
use std::borrow::Cow;
use std::collections::VecDeque;

/// What a header block got wrong; the connection ends with `COMPRESSION_ERROR`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct DecodeError(&'static str);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// A dynamic table entry: a name and a value.
type Entry = (Box<[u8]>, Box<[u8]>);

/// A literal field's name (from a table or the block) and value (from the block).
type Literal<'n, 'b> = (Cow<'n, [u8]>, Cow<'b, [u8]>);

/// The decoder's state for one connection: its dynamic table.
pub(super) struct Decoder {
    /// Newest entry first, as HPACK numbers them.
    dynamic: VecDeque<Entry>,
    /// The table's size as HPACK counts it: name, value and 32 bytes per entry.
    size: usize,
    /// The limit the client last set with a size update.
    max_size: usize,
    /// The most a size update may set: this server's `SETTINGS_HEADER_TABLE_SIZE`.
    allowed: usize,
}

impl Decoder {
    pub fn new(allowed: usize) -> Self {
        Decoder {
            dynamic: VecDeque::new(),
            size: 0,
            max_size: allowed,
            allowed,
        }
    }

    /// Decodes `block`, calling `field(name, value)` for each header field in order.
    pub fn decode(
        &mut self,
        mut block: &[u8],
        mut field: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), DecodeError> {
        // Size updates may only come before the block's first field (RFC 7541 §4.2).
        let mut at_start = true;
        while let Some(&first) = block.first() {
            if first & 0x80 != 0 {
                let index = integer(&mut block, 7)?;
                let (name, value) = self.get(index)?;
                field(name, value);
            } else if first & 0x40 != 0 {
                let (name, value) = self.literal(&mut block, 6)?;
                field(&name, &value);
                let entry = (name.into_owned().into(), value.into_owned().into());
                self.insert(entry);
            } else if first & 0x20 != 0 {
                if !at_start {
                    return Err(DecodeError(
                        "a dynamic table size update after a header field",
                    ));
                }
                let size = integer(&mut block, 5)?;
                if size > self.allowed {
                    return Err(DecodeError(
                        "a dynamic table size update above SETTINGS_HEADER_TABLE_SIZE",
                    ));
                }
                self.max_size = size;
                self.evict(0);
                continue;
            } else {
                // Without indexing (0000) or never indexed (0001): a 4-bit prefix either way.
                let (name, value) = self.literal(&mut block, 4)?;
                field(&name, &value);
            }
            at_start = false;
        }
        Ok(())
    }

    /// A literal field: an indexed or literal name, then a literal value.
    fn literal<'n, 't: 'n, 'b: 'n>(
        &'t self,
        block: &mut &'b [u8],
        prefix: u8,
    ) -> Result<Literal<'n, 'b>, DecodeError> {
        let index = integer(block, prefix)?;
        let name = if index == 0 {
            string(block)?
        } else {
            Cow::Borrowed(self.get(index)?.0)
        };
        Ok((name, string(block)?))
    }

    fn get(&self, index: usize) -> Result<(&[u8], &[u8]), DecodeError> {
        if index == 0 {
            return Err(DecodeError("header index 0"));
        }
        if let Some((name, value)) = STATIC_TABLE.get(index - 1) {
            return Ok((name.as_bytes(), value.as_bytes()));
        }
        self.dynamic
            .get(index - 1 - STATIC_TABLE.len())
            .map(|(name, value)| (&name[..], &value[..]))
            .ok_or(DecodeError("a header index beyond the tables"))
    }

    fn insert(&mut self, entry: Entry) {
        let entry_size = entry_size(&entry);
        if entry_size > self.max_size {
            // An entry larger than the table empties it and is not added (RFC 7541 §4.4).
            self.dynamic.clear();
            self.size = 0;
            return;
        }
        self.evict(entry_size);
        self.size += entry_size;
        self.dynamic.push_front(entry);
    }

    /// Drops the oldest entries until `room` more bytes fit.
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max_size {
            match self.dynamic.pop_back() {
                Some(entry) => self.size -= entry_size(&entry),
                None => break,
            }
        }
    }
}

fn entry_size((name, value): &Entry) -> usize {
    name.len() + value.len() + 32
}

/// An integer with a `prefix`-bit prefix (RFC 7541 §5.1), at most 2^28 + 2^prefix.
fn integer(block: &mut &[u8], prefix: u8) -> Result<usize, DecodeError> {
    let (&first, rest) = block
        .split_first()
        .ok_or(DecodeError("a truncated integer"))?;
    *block = rest;
    let mask = (1u8 << prefix) - 1;
    let mut value = usize::from(first & mask);
    if value < usize::from(mask) {
        return Ok(value);
    }
    let mut shift = 0;
    loop {
        let (&byte, rest) = block
            .split_first()
            .ok_or(DecodeError("a truncated integer"))?;
        *block = rest;
        value += usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
        shift += 7;
        if shift > 21 {
            return Err(DecodeError("an integer too large for a header block"));
        }
    }
}

/// A string literal (RFC 7541 §5.2), Huffman-decoded if it is coded.
fn string<'a>(block: &mut &'a [u8]) -> Result<Cow<'a, [u8]>, DecodeError> {
    let huffman = block.first().is_some_and(|b| b & 0x80 != 0);
    let len = integer(block, 7)?;
    if len > block.len() {
        return Err(DecodeError("a string longer than its header block"));
    }
    let (raw, rest) = block.split_at(len);
    *block = rest;
    if !huffman {
        return Ok(Cow::Borrowed(raw));
    }
    // Huffman codes are 5 to 30 bits; most symbols in headers take 5 to 8.
    let mut decoded = Vec::with_capacity(len * 8 / 5 + 1);
    httlib_huffman::decode(raw, &mut decoded, httlib_huffman::DecoderSpeed::FourBits)
        .map_err(|_| DecodeError("an invalid Huffman code"))?;
    Ok(Cow::Owned(decoded))
}

/// RFC 7541 Appendix A.
const STATIC_TABLE: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http2::frame::put_integer;
    use proptest::prelude::*;

    type Fields = Vec<(Vec<u8>, Vec<u8>)>;

    fn ours(decoder: &mut Decoder, block: &[u8]) -> Result<Fields, DecodeError> {
        let mut fields = Vec::new();
        decoder.decode(block, |n, v| fields.push((n.to_vec(), v.to_vec())))?;
        Ok(fields)
    }

    /// `loona-hpack`, a decoder that is slow but independent of this one.
    fn reference(decoder: &mut loona_hpack::Decoder<'static>, block: &[u8]) -> Option<Fields> {
        decoder.decode(block).ok()
    }

    /// How a test encodes a field: indexing, Huffman, and whether the name comes from a table.
    #[derive(Debug, Clone)]
    struct Encoding {
        index: bool,
        never: bool,
        huffman_name: bool,
        huffman_value: bool,
    }

    fn put_string(out: &mut Vec<u8>, s: &[u8], huffman: bool) {
        if huffman {
            let mut coded = Vec::new();
            httlib_huffman::encode(s, &mut coded).unwrap();
            put_integer(out, coded.len(), 7, 0x80);
            out.extend_from_slice(&coded);
        } else {
            put_integer(out, s.len(), 7, 0);
            out.extend_from_slice(s);
        }
    }

    fn put_literal(out: &mut Vec<u8>, name: &[u8], value: &[u8], how: &Encoding) {
        let (prefix, high) = match (how.index, how.never) {
            (true, _) => (6, 0x40),
            (false, true) => (4, 0x10),
            (false, false) => (4, 0x00),
        };
        put_integer(out, 0, prefix, high);
        put_string(out, name, how.huffman_name);
        put_string(out, value, how.huffman_value);
    }

    #[test]
    fn every_static_entry_matches_the_reference() {
        for index in 1..=61u8 {
            let block = [0x80 | index];
            assert_eq!(
                ours(&mut Decoder::new(4096), &block).unwrap(),
                reference(&mut loona_hpack::Decoder::new(), &block).unwrap(),
                "static entry {index}"
            );
        }
        assert!(ours(&mut Decoder::new(4096), &[0x80 | 62]).is_err());
        assert!(ours(&mut Decoder::new(4096), &[0x80]).is_err());
    }

    #[test]
    fn indexed_literals_are_found_again_and_old_ones_evicted() {
        let mut decoder = Decoder::new(100);
        let how = Encoding {
            index: true,
            never: false,
            huffman_name: true,
            huffman_value: false,
        };
        let mut block = Vec::new();
        put_literal(&mut block, b"x-first", b"1", &how); // 40 bytes in the table
        put_literal(&mut block, b"x-second", b"22", &how); // 42 more
        assert_eq!(ours(&mut decoder, &block).unwrap().len(), 2);
        // 62 is the newest entry, 63 the one before.
        assert_eq!(
            ours(&mut decoder, &[0x80 | 62, 0x80 | 63]).unwrap(),
            vec![
                (b"x-second".to_vec(), b"22".to_vec()),
                (b"x-first".to_vec(), b"1".to_vec())
            ]
        );
        // A third entry of 41 bytes evicts the oldest.
        let mut block = Vec::new();
        put_literal(&mut block, b"x-third", b"33", &how);
        ours(&mut decoder, &block).unwrap();
        assert_eq!(ours(&mut decoder, &[0x80 | 63]).unwrap()[0].0, b"x-second");
        assert!(ours(&mut decoder, &[0x80 | 64]).is_err());
        // A size update to 0 empties the table.
        assert_eq!(ours(&mut decoder, &[0x20]).unwrap(), vec![]);
        assert!(ours(&mut decoder, &[0x80 | 62]).is_err());
    }

    #[test]
    fn a_table_filled_exactly_keeps_exactly_what_fits() {
        // Entries of 50 bytes (18 of name and value, and 32) in a table of 100: always two.
        let mut decoder = Decoder::new(100);
        let how = Encoding {
            index: true,
            never: false,
            huffman_name: false,
            huffman_value: true,
        };
        for i in 0..20 {
            let mut block = Vec::new();
            put_literal(
                &mut block,
                b"x-entry-name",
                format!("val{i:03}").as_bytes(),
                &how,
            );
            ours(&mut decoder, &block).unwrap();
            if i > 0 {
                let kept = ours(&mut decoder, &[0x80 | 62, 0x80 | 63]).unwrap();
                assert_eq!(kept[1].1, format!("val{:03}", i - 1).into_bytes());
            }
            assert!(ours(&mut decoder, &[0x80 | 64]).is_err(), "after entry {i}");
        }
    }

    #[test]
    fn malformed_blocks_are_errors() {
        let cases: [(&[u8], &str); 6] = [
            (&[0x7f], "truncated"),
            (&[0x7f, 0xff, 0xff, 0xff, 0xff, 0x01], "too large"),
            (&[0x00, 0x05, b'a'], "longer than"),
            (&[0x00, 0x81, 0xff], "Huffman"),
            (&[0x82, 0x20], "size update after"),
            (&[0x3f, 0xe2, 0x1f], "above SETTINGS_HEADER_TABLE_SIZE"),
        ];
        for (block, expected) in cases {
            let err = ours(&mut Decoder::new(4096), block).unwrap_err();
            assert!(err.0.contains(expected), "{block:?}: {err}");
        }
    }

    fn field() -> impl Strategy<Value = (Vec<u8>, Vec<u8>, Encoding, Option<u8>)> {
        (
            proptest::collection::vec(any::<u8>(), 0..40),
            proptest::collection::vec(any::<u8>(), 0..80),
            (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
            proptest::option::of(0u8..70),
        )
            .prop_map(|(name, value, (index, never, hn, hv), indexed)| {
                let how = Encoding {
                    index,
                    never,
                    huffman_name: hn,
                    huffman_value: hv,
                };
                (name, value, how, indexed)
            })
    }

    proptest! {
        /// Blocks of literal and indexed fields, over several blocks that share the dynamic
        /// table, decode as the reference decodes them.
        #[test]
        fn blocks_decode_as_the_reference_decodes_them(
            blocks in proptest::collection::vec(proptest::collection::vec(field(), 0..8), 1..5),
            table_size in prop_oneof![Just(4096usize), 0usize..300],
        ) {
            let mut mine = Decoder::new(4096);
            let mut theirs = loona_hpack::Decoder::new();
            for (i, fields) in blocks.iter().enumerate() {
                let mut block = Vec::new();
                // The reference refuses a block that is only a size update.
                if i == 0 && !fields.is_empty() {
                    put_integer(&mut block, table_size, 5, 0x20);
                }
                for (name, value, how, indexed) in fields {
                    match indexed {
                        Some(index) => put_integer(&mut block, usize::from(*index) + 1, 7, 0x80),
                        None => put_literal(&mut block, name, value, how),
                    }
                }
                let expected = reference(&mut theirs, &block);
                match ours(&mut mine, &block) {
                    Ok(decoded) => prop_assert_eq!(Some(decoded), expected),
                    // Both refuse an index beyond the tables; after that their tables may differ.
                    Err(_) => { prop_assert_eq!(expected, None); return Ok(()); }
                }
            }
        }

        #[test]
        fn random_bytes_never_panic(block in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = ours(&mut Decoder::new(4096), &block);
        }
    }
}
