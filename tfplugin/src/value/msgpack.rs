//! Owns the cty msgpack codec (`Value::to_msgpack` / `Value::from_msgpack`): Terraform's
//! `DynamicValue.msgpack` encoding, following go-cty's `cty/msgpack` byte for byte where it
//! matters (compact ints, float64, fixext1 unknowns, `[type JSON, value]` dynamics).

use super::error::ValueError;
use super::{
    check_dynamic_type, check_no_extra_attrs, check_tuple_len, dynamic_mismatch, Number, Type,
    Value, ValueErrorKind, MAX_DEPTH,
};
use std::collections::BTreeMap;

/// cty's "wholly unknown": a fixext1 of extension type 0 with one zero data byte.
const UNKNOWN: [u8; 3] = [0xd4, 0, 0];

impl Value {
    /// Encodes the value as `ty` in cty's msgpack encoding.
    ///
    /// Null is nil and unknown is extension type 0 (fixext1 `d4 00 00`). Numbers are
    /// encoded as the smallest msgpack int when they are integers in i64 range, as uint64
    /// when in u64 range above that, as float64 when exactly equal to an f64, and otherwise
    /// as a string of their decimal. Map keys and object attributes are written sorted;
    /// objects carry every attribute of the type (missing ones as nil). A
    /// [`Value::Dynamic`] in a `dynamic` slot is `[type JSON as bin, value]`.
    ///
    /// Errors if the value does not [conform](Value::conforms_to) to `ty`.
    pub fn to_msgpack(&self, ty: &Type) -> Result<Vec<u8>, ValueError> {
        let mut out = Vec::new();
        encode(self, ty, &mut out)?;
        Ok(out)
    }

    /// Decodes cty msgpack as type `ty`.
    ///
    /// Any msgpack extension (type 0, or 12 with refinements, or any other) is an unknown
    /// value; refinements are dropped. Numbers may be any msgpack int, float32/64 (taken
    /// at their exact binary value) or a decimal string. An object may omit attributes
    /// (they become null) but must not have attributes its type does not declare. A
    /// `dynamic` slot yields [`Value::Dynamic`] (or untyped null/unknown). Bytes after the
    /// value are an error.
    pub fn from_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
        let mut r = Reader { buf: bytes, pos: 0 };
        let v = decode(&mut r, ty, 0)?;
        if r.pos != bytes.len() {
            return Err(ValueError::msgpack(format!(
                "{} unexpected bytes after the value",
                bytes.len() - r.pos
            )));
        }
        Ok(v)
    }
}

// ---------------------------------------------------------------------------------------
// Encoding

fn encode(v: &Value, ty: &Type, out: &mut Vec<u8>) -> Result<(), ValueError> {
    match (ty, v) {
        (_, Value::Null) => out.push(0xc0),
        (_, Value::Unknown) => out.extend_from_slice(&UNKNOWN),
        (Type::Dynamic, Value::Dynamic(t, inner)) => {
            check_dynamic_type(t)?;
            write_array_len(out, 2);
            write_bin(out, &t.to_json_bytes());
            encode(inner, t, out)?;
        }
        (Type::Dynamic, other) => return Err(dynamic_mismatch(other)),
        (_, Value::Dynamic(_, inner)) => encode(inner, ty, out)?,
        (Type::String, Value::String(s)) => write_str(out, s),
        (Type::Number, Value::Number(n)) => write_number(out, n),
        (Type::Bool, Value::Bool(b)) => out.push(if *b { 0xc3 } else { 0xc2 }),
        (Type::List(t), Value::List(vs)) | (Type::Set(t), Value::Set(vs)) => {
            write_array_len(out, vs.len());
            for (i, v) in vs.iter().enumerate() {
                encode(v, t, out).map_err(|e| e.in_index(i))?;
            }
        }
        (Type::Tuple(ts), Value::Tuple(vs)) => {
            check_tuple_len(ts, vs)?;
            write_array_len(out, vs.len());
            for (i, (t, v)) in ts.iter().zip(vs).enumerate() {
                encode(v, t, out).map_err(|e| e.in_index(i))?;
            }
        }
        (Type::Map(t), Value::Map(m)) => {
            write_map_len(out, m.len());
            for (k, v) in m {
                write_str(out, k);
                encode(v, t, out).map_err(|e| e.in_key(k))?;
            }
        }
        (Type::Object(attrs), Value::Object(m)) => {
            check_no_extra_attrs(attrs, m)?;
            write_map_len(out, attrs.len());
            for (k, t) in attrs {
                write_str(out, k);
                encode(m.get(k).unwrap_or(&Value::Null), t, out).map_err(|e| e.in_attr(k))?;
            }
        }
        (ty, v) => return Err(ValueError::mismatch(ty, v.kind_name())),
    }
    Ok(())
}

fn write_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(i) = n.as_i64() {
        write_int(out, i);
    } else if let Some(u) = n.as_u64() {
        write_uint(out, u);
    } else if let Some(f) = n.as_f64_exact() {
        out.push(0xcb);
        out.extend_from_slice(&f.to_bits().to_be_bytes());
    } else {
        write_str(out, &n.to_string());
    }
}

/// The most compact msgpack int, as vmihailenco/msgpack's `EncodeInt` (used by cty) writes
/// it: non-negative values in the unsigned family, negative ones in the signed family.
fn write_int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        write_uint(out, v as u64);
    } else if v >= -32 {
        out.push(v as i8 as u8);
    } else if v >= i64::from(i8::MIN) {
        out.push(0xd0);
        out.push(v as i8 as u8);
    } else if v >= i64::from(i16::MIN) {
        out.push(0xd1);
        out.extend_from_slice(&(v as i16).to_be_bytes());
    } else if v >= i64::from(i32::MIN) {
        out.push(0xd2);
        out.extend_from_slice(&(v as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

fn write_uint(out: &mut Vec<u8>, v: u64) {
    if v <= 0x7f {
        out.push(v as u8);
    } else if v <= u64::from(u8::MAX) {
        out.push(0xcc);
        out.push(v as u8);
    } else if v <= u64::from(u16::MAX) {
        out.push(0xcd);
        out.extend_from_slice(&(v as u16).to_be_bytes());
    } else if v <= u64::from(u32::MAX) {
        out.push(0xce);
        out.extend_from_slice(&(v as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Writes a length with the fix/8/16/32 family of `markers` (`fix` holds the fix marker
/// and its capacity; `None` for the 8-bit form means the family has none).
fn write_len(
    out: &mut Vec<u8>,
    len: usize,
    fix: Option<(u8, usize)>,
    m8: Option<u8>,
    m16: u8,
    m32: u8,
) {
    match (fix, m8) {
        (Some((marker, cap)), _) if len < cap => out.push(marker | len as u8),
        (_, Some(m8)) if len <= usize::from(u8::MAX) => {
            out.push(m8);
            out.push(len as u8);
        }
        _ if len <= usize::from(u16::MAX) => {
            out.push(m16);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(m32);
            let len = u32::try_from(len).expect("msgpack lengths are limited to u32");
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_len(out, s.len(), Some((0xa0, 32)), Some(0xd9), 0xda, 0xdb);
    out.extend_from_slice(s.as_bytes());
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) {
    write_len(out, b.len(), None, Some(0xc4), 0xc5, 0xc6);
    out.extend_from_slice(b);
}

fn write_array_len(out: &mut Vec<u8>, len: usize) {
    write_len(out, len, Some((0x90, 16)), None, 0xdc, 0xdd);
}

fn write_map_len(out: &mut Vec<u8>, len: usize) {
    write_len(out, len, Some((0x80, 16)), None, 0xde, 0xdf);
}

// ---------------------------------------------------------------------------------------
// Decoding

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Result<u8, ValueError> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or_else(|| ValueError::msgpack("unexpected end of input"))
    }

    fn byte(&mut self) -> Result<u8, ValueError> {
        let b = self.peek()?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ValueError> {
        if self.buf.len() - self.pos < n {
            return Err(ValueError::msgpack("unexpected end of input"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], ValueError> {
        Ok(self.take(N)?.try_into().expect("took exactly N bytes"))
    }

    fn uint_n(&mut self, n: usize) -> Result<u64, ValueError> {
        Ok(match n {
            1 => u64::from(self.byte()?),
            2 => u64::from(u16::from_be_bytes(self.be()?)),
            4 => u64::from(u32::from_be_bytes(self.be()?)),
            _ => u64::from_be_bytes(self.be()?),
        })
    }

    fn len_n(&mut self, n: usize) -> Result<usize, ValueError> {
        let len = self.uint_n(n)?;
        usize::try_from(len).map_err(|_| ValueError::msgpack("length too large"))
    }

    /// Skips an extension value (any type code, any payload).
    fn skip_ext(&mut self) -> Result<(), ValueError> {
        let data_len = match self.byte()? {
            0xd4 => 1,
            0xd5 => 2,
            0xd6 => 4,
            0xd7 => 8,
            0xd8 => 16,
            0xc7 => self.len_n(1)?,
            0xc8 => self.len_n(2)?,
            0xc9 => self.len_n(4)?,
            other => {
                return Err(ValueError::mismatch(
                    "msgpack extension",
                    marker_name(other),
                ))
            }
        };
        self.take(1 + data_len)?; // type code + data
        Ok(())
    }

    /// Reads an array header, or returns the marker that was found instead (unconsumed).
    fn array_len(&mut self) -> Result<Result<usize, u8>, ValueError> {
        let m = self.peek()?;
        let len = match m {
            0x90..=0x9f => usize::from(m & 0x0f),
            0xdc => {
                self.pos += 1;
                return self.len_n(2).map(Ok);
            }
            0xdd => {
                self.pos += 1;
                return self.len_n(4).map(Ok);
            }
            _ => return Ok(Err(m)),
        };
        self.pos += 1;
        Ok(Ok(len))
    }

    /// Reads a map header, or returns the marker that was found instead (unconsumed).
    fn map_len(&mut self) -> Result<Result<usize, u8>, ValueError> {
        let m = self.peek()?;
        let len = match m {
            0x80..=0x8f => usize::from(m & 0x0f),
            0xde => {
                self.pos += 1;
                return self.len_n(2).map(Ok);
            }
            0xdf => {
                self.pos += 1;
                return self.len_n(4).map(Ok);
            }
            _ => return Ok(Err(m)),
        };
        self.pos += 1;
        Ok(Ok(len))
    }

    /// Reads a str or bin item's bytes, or returns the marker found instead (unconsumed).
    fn str_or_bin(&mut self) -> Result<Result<&'a [u8], u8>, ValueError> {
        let m = self.peek()?;
        let len = match m {
            0xa0..=0xbf => {
                self.pos += 1;
                usize::from(m & 0x1f)
            }
            0xd9 | 0xc4 => {
                self.pos += 1;
                self.len_n(1)?
            }
            0xda | 0xc5 => {
                self.pos += 1;
                self.len_n(2)?
            }
            0xdb | 0xc6 => {
                self.pos += 1;
                self.len_n(4)?
            }
            _ => return Ok(Err(m)),
        };
        self.take(len).map(Ok)
    }

    /// Reads a string (str, or bin holding UTF-8, as cty's decoder accepts both).
    fn string(&mut self, expected: &str) -> Result<String, ValueError> {
        match self.str_or_bin()? {
            Ok(bytes) => String::from_utf8(bytes.to_vec())
                .map_err(|_| ValueError::msgpack("string is not valid UTF-8")),
            Err(m) => Err(ValueError::mismatch(expected, marker_name(m))),
        }
    }
}

fn is_ext(marker: u8) -> bool {
    matches!(marker, 0xc7..=0xc9 | 0xd4..=0xd8)
}

fn marker_name(m: u8) -> &'static str {
    match m {
        0x00..=0x7f | 0xcc..=0xd3 | 0xe0..=0xff => "msgpack integer",
        0x80..=0x8f | 0xde | 0xdf => "msgpack map",
        0x90..=0x9f | 0xdc | 0xdd => "msgpack array",
        0xa0..=0xbf | 0xd9..=0xdb => "msgpack string",
        0xc0 => "msgpack nil",
        0xc1 => "reserved msgpack byte 0xc1",
        0xc2 | 0xc3 => "msgpack bool",
        0xc4..=0xc6 => "msgpack binary",
        0xc7..=0xc9 | 0xd4..=0xd8 => "msgpack extension",
        0xca | 0xcb => "msgpack float",
    }
}

fn decode(r: &mut Reader<'_>, ty: &Type, depth: usize) -> Result<Value, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError::new(ValueErrorKind::TooDeep(MAX_DEPTH)));
    }
    let m = r.peek()?;
    if is_ext(m) {
        r.skip_ext()?;
        return Ok(Value::Unknown);
    }
    if m == 0xc0 {
        r.pos += 1;
        return Ok(Value::Null);
    }
    match ty {
        Type::Dynamic => decode_dynamic(r, depth),
        Type::String => r.string("string").map(Value::String),
        Type::Number => decode_number(r).map(Value::Number),
        Type::Bool => match r.byte()? {
            0xc2 => Ok(Value::Bool(false)),
            0xc3 => Ok(Value::Bool(true)),
            other => Err(ValueError::mismatch("bool", marker_name(other))),
        },
        Type::List(t) | Type::Set(t) => {
            let len = r
                .array_len()?
                .map_err(|m| ValueError::mismatch(ty, marker_name(m)))?;
            let mut vs = Vec::with_capacity(len.min(r.buf.len() - r.pos));
            for i in 0..len {
                vs.push(decode(r, t, depth + 1).map_err(|e| e.in_index(i))?);
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(vs)
            } else {
                Value::List(vs)
            })
        }
        Type::Tuple(ts) => {
            let len = r
                .array_len()?
                .map_err(|m| ValueError::mismatch(ty, marker_name(m)))?;
            if len != ts.len() {
                return Err(ValueError::new(ValueErrorKind::TupleLength {
                    expected: ts.len(),
                    found: len,
                }));
            }
            let mut vs = Vec::with_capacity(len);
            for (i, t) in ts.iter().enumerate() {
                vs.push(decode(r, t, depth + 1).map_err(|e| e.in_index(i))?);
            }
            Ok(Value::Tuple(vs))
        }
        Type::Map(t) => {
            let len = r
                .map_len()?
                .map_err(|m| ValueError::mismatch(ty, marker_name(m)))?;
            let mut m = BTreeMap::new();
            for _ in 0..len {
                let k = r.string("string map key")?;
                let v = decode(r, t, depth + 1).map_err(|e| e.in_key(&k))?;
                m.insert(k, v);
            }
            Ok(Value::Map(m))
        }
        Type::Object(attrs) => {
            let len = r
                .map_len()?
                .map_err(|m| ValueError::mismatch(ty, marker_name(m)))?;
            let mut m = BTreeMap::new();
            for _ in 0..len {
                let k = r.string("string attribute name")?;
                let Some(t) = attrs.get(&k) else {
                    return Err(ValueError::new(ValueErrorKind::UnsupportedAttribute(k)));
                };
                let v = decode(r, t, depth + 1).map_err(|e| e.in_attr(&k))?;
                m.insert(k, v);
            }
            for k in attrs.keys() {
                if !m.contains_key(k) {
                    m.insert(k.clone(), Value::Null);
                }
            }
            Ok(Value::Object(m))
        }
    }
}

/// `[type JSON (bin or str), value]`, as cty's `unmarshalDynamic` reads it.
fn decode_dynamic(r: &mut Reader<'_>, depth: usize) -> Result<Value, ValueError> {
    let expected = "a [type, value] array for a dynamic value";
    match r.array_len()? {
        Ok(2) => {}
        Ok(n) => {
            return Err(ValueError::mismatch(
                expected,
                format!("msgpack array of {n} elements"),
            ))
        }
        Err(m) => return Err(ValueError::mismatch(expected, marker_name(m))),
    }
    let type_json = r
        .str_or_bin()?
        .map_err(|m| ValueError::mismatch("type JSON (msgpack binary)", marker_name(m)))?;
    let t = Type::from_json_bytes(type_json)?;
    let v = decode(r, &t, depth + 1)?;
    if t == Type::Dynamic {
        // A dynamic value whose type says "dynamic" just nests another one.
        return Ok(v);
    }
    Ok(Value::Dynamic(t, Box::new(v)))
}

fn decode_number(r: &mut Reader<'_>) -> Result<Number, ValueError> {
    let m = r.byte()?;
    Ok(match m {
        0x00..=0x7f => Number::from_u64(u64::from(m)),
        0xe0..=0xff => Number::from_i64(i64::from(m as i8)),
        0xcc => Number::from_u64(r.uint_n(1)?),
        0xcd => Number::from_u64(r.uint_n(2)?),
        0xce => Number::from_u64(r.uint_n(4)?),
        0xcf => Number::from_u64(r.uint_n(8)?),
        0xd0 => Number::from_i64(i64::from(i8::from_be_bytes(r.be()?))),
        0xd1 => Number::from_i64(i64::from(i16::from_be_bytes(r.be()?))),
        0xd2 => Number::from_i64(i64::from(i32::from_be_bytes(r.be()?))),
        0xd3 => Number::from_i64(i64::from_be_bytes(r.be()?)),
        0xca => Number::from_f64_exact(f64::from(f32::from_be_bytes(r.be()?)))?,
        0xcb => Number::from_f64_exact(f64::from_be_bytes(r.be()?))?,
        _ => {
            r.pos -= 1;
            let s = r.string("number")?;
            Number::parse(&s)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Value {
        Value::Number(Number::parse(s).unwrap())
    }

    fn enc(v: &Value, t: &Type) -> Vec<u8> {
        v.to_msgpack(t).unwrap()
    }

    fn round_trip(v: &Value, t: &Type) {
        let bytes = enc(v, t);
        assert_eq!(
            &Value::from_msgpack(&bytes, t).unwrap(),
            v,
            "bytes {bytes:02x?}"
        );
    }

    #[test]
    fn null_and_unknown() {
        assert_eq!(enc(&Value::Null, &Type::String), [0xc0]);
        assert_eq!(enc(&Value::Unknown, &Type::String), [0xd4, 0x00, 0x00]);
        assert_eq!(enc(&Value::Unknown, &Type::Dynamic), [0xd4, 0x00, 0x00]);
        assert_eq!(enc(&Value::Null, &Type::Dynamic), [0xc0]);
        for t in [Type::String, Type::list(Type::Number), Type::Dynamic] {
            assert_eq!(Value::from_msgpack(&[0xc0], &t).unwrap(), Value::Null);
            assert_eq!(
                Value::from_msgpack(&[0xd4, 0, 0], &t).unwrap(),
                Value::Unknown
            );
        }
    }

    #[test]
    fn refined_unknowns_decode_as_unknown() {
        // ext 12 with a refinement map {1: false} (definitely not null): c7 03 0c 81 01 c2
        let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
        assert_eq!(
            Value::from_msgpack(&refined, &Type::String).unwrap(),
            Value::Unknown
        );
        // ext 12 with a string prefix refinement {1: false, 2: "ab"} as fixext... any length.
        let prefix = [0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'];
        assert_eq!(
            Value::from_msgpack(&prefix, &Type::String).unwrap(),
            Value::Unknown
        );
        // fixext1 type 12, ext8 type 0 with empty payload, fixext4 with other types.
        for bytes in [
            &[0xd4, 0x0c, 0x00][..],
            &[0xc7, 0x00, 0x00],
            &[0xd6, 0x05, 1, 2, 3, 4],
        ] {
            assert_eq!(
                Value::from_msgpack(bytes, &Type::Number).unwrap(),
                Value::Unknown
            );
        }
        // Inside an object.
        let obj = [0x81, 0xa1, b'a', 0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
        let t = Type::object([("a", Type::String)]);
        assert_eq!(
            Value::from_msgpack(&obj, &t).unwrap(),
            Value::object([("a", Value::Unknown)])
        );
        // Truncated extension payload.
        assert!(Value::from_msgpack(&[0xc7, 0x05, 0x0c, 0x81], &Type::String).is_err());
    }

    #[test]
    fn primitives_byte_exact() {
        assert_eq!(enc(&"hi".into(), &Type::String), [0xa2, b'h', b'i']);
        assert_eq!(enc(&true.into(), &Type::Bool), [0xc3]);
        assert_eq!(enc(&false.into(), &Type::Bool), [0xc2]);
        let long = "x".repeat(40);
        let bytes = enc(&long.as_str().into(), &Type::String);
        assert_eq!(&bytes[..2], [0xd9, 40]);
        let longer = "x".repeat(300);
        assert_eq!(
            &enc(&longer.as_str().into(), &Type::String)[..3],
            [0xda, 0x01, 0x2c]
        );
    }

    #[test]
    fn integers_byte_exact() {
        let cases: [(i64, &[u8]); 12] = [
            (0, &[0x00]),
            (127, &[0x7f]),
            (128, &[0xcc, 0x80]),
            (255, &[0xcc, 0xff]),
            (256, &[0xcd, 0x01, 0x00]),
            (65536, &[0xce, 0x00, 0x01, 0x00, 0x00]),
            (1 << 32, &[0xcf, 0, 0, 0, 1, 0, 0, 0, 0]),
            (-1, &[0xff]),
            (-32, &[0xe0]),
            (-33, &[0xd0, 0xdf]),
            (-129, &[0xd1, 0xff, 0x7f]),
            (i64::MIN, &[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        ];
        for (i, want) in cases {
            assert_eq!(enc(&Value::from(i), &Type::Number), want, "for {i}");
            round_trip(&Value::from(i), &Type::Number);
        }
        // 1.0 and 1e0 are integers too.
        assert_eq!(enc(&n("1.0"), &Type::Number), [0x01]);
        assert_eq!(enc(&n("-4e2"), &Type::Number), [0xd1, 0xfe, 0x70]);
    }

    #[test]
    fn u64_range_uses_uint64() {
        let v = Value::from(u64::MAX);
        assert_eq!(
            enc(&v, &Type::Number),
            [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        round_trip(&v, &Type::Number);
        round_trip(&Value::from(1u64 << 63), &Type::Number);
    }

    #[test]
    fn floats_byte_exact() {
        let mut want = vec![0xcb];
        want.extend_from_slice(&1.5f64.to_be_bytes());
        assert_eq!(enc(&n("1.5"), &Type::Number), want);
        // 2^70 is exactly a float64 (cty writes it as one).
        let two_70 = n("1180591620717411303424");
        let mut want = vec![0xcb];
        want.extend_from_slice(&2f64.powi(70).to_be_bytes());
        assert_eq!(enc(&two_70, &Type::Number), want);
        round_trip(&two_70, &Type::Number);
        // float32 input is accepted.
        let mut f32_bytes = vec![0xca];
        f32_bytes.extend_from_slice(&0.25f32.to_be_bytes());
        assert_eq!(
            Value::from_msgpack(&f32_bytes, &Type::Number).unwrap(),
            n("0.25")
        );
        // NaN is rejected.
        let mut nan = vec![0xcb];
        nan.extend_from_slice(&f64::NAN.to_be_bytes());
        assert!(Value::from_msgpack(&nan, &Type::Number).is_err());
    }

    #[test]
    fn non_f64_numbers_are_strings() {
        // 0.1 is not exactly an f64: cty would send it as the string "0.1".
        assert_eq!(enc(&n("0.1"), &Type::Number), [0xa3, b'0', b'.', b'1']);
        round_trip(&n("0.1"), &Type::Number);
        let big = "123456789012345678901234567890";
        let mut want = vec![0xbe];
        want.extend_from_slice(big.as_bytes());
        assert_eq!(enc(&n(big), &Type::Number), want);
        round_trip(&n(big), &Type::Number);
        assert_eq!(
            enc(&n("1e400"), &Type::Number),
            [0xa6, b'1', b'e', b'+', b'4', b'0', b'0']
        );
        round_trip(&n("1e400"), &Type::Number);
        round_trip(&n("-1.5e-300"), &Type::Number);
        round_trip(&Value::try_from(-1.5e-300).unwrap(), &Type::Number);
        round_trip(&Value::try_from(0.1).unwrap(), &Type::Number);
        round_trip(
            &Value::Number(Number::from_f64_exact(0.1).unwrap()),
            &Type::Number,
        );
    }

    #[test]
    fn numbers_decode_from_any_encoding() {
        let t = Type::Number;
        assert_eq!(Value::from_msgpack(&[0xd0, 0x05], &t).unwrap(), n("5"));
        assert_eq!(Value::from_msgpack(&[0xcc, 0x05], &t).unwrap(), n("5"));
        assert_eq!(
            Value::from_msgpack(&[0xd3, 0, 0, 0, 0, 0, 0, 0, 5], &t).unwrap(),
            n("5")
        );
        assert_eq!(
            Value::from_msgpack(&[0xa4, b'1', b'e', b'-', b'2'], &t).unwrap(),
            n("0.01")
        );
        let e = Value::from_msgpack(&[0xa3, b'a', b'b', b'c'], &t).unwrap_err();
        assert!(
            matches!(e.kind(), ValueErrorKind::InvalidNumber { .. }),
            "{e}"
        );
        let e = Value::from_msgpack(&[0xc3], &t).unwrap_err();
        assert_eq!(e.to_string(), "expected number, found msgpack bool");
    }

    #[test]
    fn collections() {
        let t = Type::list(Type::String);
        let v = Value::list(["a".into(), Value::Null, Value::Unknown]);
        assert_eq!(enc(&v, &t), [0x93, 0xa1, b'a', 0xc0, 0xd4, 0, 0]);
        round_trip(&v, &t);

        let t = Type::map(Type::Number);
        let v = Value::map([("b", 2.into()), ("a", 1.into())]);
        assert_eq!(enc(&v, &t), [0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0x02]);
        round_trip(&v, &t);

        let t = Type::set(Type::Bool);
        let v = Value::set([true.into(), false.into()]);
        assert_eq!(enc(&v, &t), [0x92, 0xc3, 0xc2]);
        round_trip(&v, &t);

        let t = Type::tuple([Type::String, Type::Number]);
        let v = Value::tuple(["a".into(), 1.into()]);
        assert_eq!(enc(&v, &t), [0x92, 0xa1, b'a', 0x01]);
        round_trip(&v, &t);
        assert!(Value::tuple(["a".into()]).to_msgpack(&t).is_err());
        assert!(Value::from_msgpack(&[0x91, 0xa1, b'a'], &t).is_err());

        let big: Vec<Value> = (0..20).map(Value::from).collect();
        let bytes = enc(&Value::list(big.clone()), &Type::list(Type::Number));
        assert_eq!(&bytes[..3], [0xdc, 0x00, 20]);
        round_trip(&Value::list(big), &Type::list(Type::Number));
    }

    #[test]
    fn objects() {
        let t = Type::object([("b", Type::Number), ("a", Type::String)]);
        let v = Value::object([("a", "x".into()), ("b", 1.into())]);
        // Sorted attribute order.
        assert_eq!(
            enc(&v, &t),
            [0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0x01]
        );
        round_trip(&v, &t);
        // Missing attributes encode as nil...
        assert_eq!(
            enc(&Value::object([("a", "x".into())]), &t),
            [0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0xc0]
        );
        // ...and decode as null.
        assert_eq!(
            Value::from_msgpack(&[0x81, 0xa1, b'a', 0xa1, b'x'], &t).unwrap(),
            Value::object([("a", "x".into()), ("b", Value::Null)])
        );
        // Unknown attribute names are errors both ways.
        let e = Value::from_msgpack(&[0x81, 0xa1, b'c', 0xc0], &t).unwrap_err();
        assert_eq!(e.to_string(), "unsupported attribute \"c\"");
        assert!(Value::object([("c", Value::Null)]).to_msgpack(&t).is_err());
    }

    #[test]
    fn dynamic_values() {
        let v = Value::dynamic(Type::String, "hi".into());
        let bytes = enc(&v, &Type::Dynamic);
        let mut want = vec![0x92, 0xc4, 8];
        want.extend_from_slice(b"\"string\"");
        want.extend_from_slice(&[0xa2, b'h', b'i']);
        assert_eq!(bytes, want);
        round_trip(&v, &Type::Dynamic);

        // The type JSON may also come as a msgpack str.
        let mut as_str = vec![0x92, 0xa8];
        as_str.extend_from_slice(b"\"string\"");
        as_str.extend_from_slice(&[0xa2, b'h', b'i']);
        assert_eq!(Value::from_msgpack(&as_str, &Type::Dynamic).unwrap(), v);

        // Typed null and unknown inside the wrapper.
        round_trip(&Value::dynamic(Type::Number, Value::Null), &Type::Dynamic);
        round_trip(
            &Value::dynamic(Type::Number, Value::Unknown),
            &Type::Dynamic,
        );

        // Nested: an object attribute of type dynamic holding a list.
        let t = Type::object([("d", Type::Dynamic)]);
        let v = Value::object([(
            "d",
            Value::dynamic(Type::list(Type::Number), Value::list([1.into(), 2.into()])),
        )]);
        round_trip(&v, &t);

        // A dynamic slot needs the wrapper.
        let e = Value::string("x").to_msgpack(&Type::Dynamic).unwrap_err();
        assert!(
            e.to_string().starts_with("expected a Value::Dynamic"),
            "{e}"
        );
        let e = Value::object([("d", Value::string("x"))])
            .to_msgpack(&t)
            .unwrap_err();
        assert_eq!(e.path(), ".d");

        // A wrapper in a typed slot encodes its content.
        assert_eq!(
            enc(&Value::dynamic(Type::String, "a".into()), &Type::String),
            [0xa1, b'a']
        );

        // Malformed dynamic values.
        assert!(Value::from_msgpack(&[0x91, 0xc4, 0x00], &Type::Dynamic).is_err());
        assert!(Value::from_msgpack(&[0xa1, b'a'], &Type::Dynamic).is_err());
        let mut bad_type = vec![0x92, 0xc4, 5];
        bad_type.extend_from_slice(b"\"str\"");
        bad_type.push(0xc0);
        assert!(Value::from_msgpack(&bad_type, &Type::Dynamic).is_err());
    }

    #[test]
    fn decode_errors_have_paths() {
        let t = Type::object([("tags", Type::map(Type::list(Type::String)))]);
        // {"tags": {"a": ["x", "y", 3]}}
        let bytes = [
            0x81, 0xa4, b't', b'a', b'g', b's', 0x81, 0xa1, b'a', 0x93, 0xa1, b'x', 0xa1, b'y',
            0x03,
        ];
        let e = Value::from_msgpack(&bytes, &t).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at .tags[\"a\"][2]: expected string, found msgpack integer"
        );
    }

    #[test]
    fn malformed_input() {
        assert!(Value::from_msgpack(&[], &Type::String).is_err());
        assert!(Value::from_msgpack(&[0xa5, b'a'], &Type::String).is_err());
        assert!(Value::from_msgpack(&[0xc0, 0xc0], &Type::String).is_err());
        assert!(Value::from_msgpack(&[0xa1, 0xff], &Type::String).is_err());
        assert!(Value::from_msgpack(&[0xc1], &Type::Bool).is_err());
        // A huge declared length with no data must not allocate or panic.
        assert!(
            Value::from_msgpack(&[0xdd, 0xff, 0xff, 0xff, 0xff], &Type::list(Type::Bool)).is_err()
        );
        // Non-string map key.
        assert!(Value::from_msgpack(&[0x81, 0x01, 0x01], &Type::map(Type::Number)).is_err());
    }

    #[test]
    fn deep_nesting_is_bounded() {
        // ["list","dynamic"] wrappers nested far beyond MAX_DEPTH.
        let mut bytes = Vec::new();
        for _ in 0..1000 {
            bytes.extend_from_slice(&[0x92, 0xc4, 18]);
            bytes.extend_from_slice(b"[\"list\",\"dynamic\"]");
            bytes.push(0x91);
        }
        bytes.push(0xc0);
        let e = Value::from_msgpack(&bytes, &Type::Dynamic).unwrap_err();
        assert!(matches!(e.kind(), ValueErrorKind::TooDeep(_)), "{e}");
    }

    #[test]
    fn wrong_types_on_encode() {
        let e = Value::from(1).to_msgpack(&Type::String).unwrap_err();
        assert_eq!(e.to_string(), "expected string, found number");
        let t = Type::list(Type::object([("a", Type::Bool)]));
        let v = Value::list([
            Value::object([("a", true.into())]),
            Value::object([("a", "no".into())]),
        ]);
        let e = v.to_msgpack(&t).unwrap_err();
        assert_eq!(e.to_string(), "at [1].a: expected bool, found string");
    }
}
