//! Owns `Number`: cty's arbitrary-precision number as an exact, normalized decimal
//! (sign, significant digits, power-of-ten exponent), with lossless i64/u64/f64 conversions.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::error::{ValueError, ValueErrorKind};

/// Largest accepted magnitude of the decimal exponent (keeps all arithmetic far from overflow).
const MAX_EXP: i64 = 1_000_000_000_000;

/// `Display` writes plain decimals (`123000`, `0.00015`) unless that needs more than this many
/// padding zeros, then scientific notation (`1e+400`, `1.5e-300`).
const PLAIN_ZEROS: i64 = 30;

/// An exact decimal number of arbitrary size and precision (cty's `number`).
///
/// The representation is normalized, so the derived `Eq`/`Hash` compare numeric values:
/// `1`, `1.0`, `1e0` and `10e-1` are all equal. `Ord` orders by numeric value. NaN and
/// infinities are not representable.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    /// Significant digits (each `0..=9`), no leading or trailing zeros; empty for zero.
    digits: Vec<u8>,
    /// The value is `digits × 10^exp` (negated when `negative`).
    exp: i64,
}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number {
            negative: false,
            digits: Vec::new(),
            exp: 0,
        }
    }

    /// Builds a number from parts, normalizing them.
    fn from_parts(negative: bool, mut digits: Vec<u8>, mut exp: i64) -> Result<Number, ValueError> {
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        while digits.last() == Some(&0) {
            digits.pop();
            exp += 1;
        }
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        let adjusted = exp.checked_add(digits.len() as i64);
        if !matches!(adjusted, Some(a) if (-MAX_EXP..=MAX_EXP).contains(&a)) {
            return Err(invalid(&digits_text(&digits), "exponent out of range"));
        }
        Ok(Number {
            negative,
            digits,
            exp,
        })
    }

    /// The number equal to `v`.
    pub fn from_i64(v: i64) -> Number {
        Number::from_i128(v.into())
    }

    /// The number equal to `v`.
    pub fn from_u64(v: u64) -> Number {
        Number::from_i128(v.into())
    }

    /// The number equal to `v`.
    pub fn from_i128(v: i128) -> Number {
        let digits = v
            .unsigned_abs()
            .to_string()
            .bytes()
            .map(|b| b - b'0')
            .collect();
        Number::from_parts(v < 0, digits, 0).expect("an i128 is always in range")
    }

    /// The number a float prints as: the shortest decimal that rounds to `v` (so
    /// `from_f64(0.1)` is exactly `0.1`). Errors for NaN and infinities.
    pub fn from_f64(v: f64) -> Result<Number, ValueError> {
        if !v.is_finite() {
            return Err(invalid(&v.to_string(), "not a finite number"));
        }
        Number::parse(&format!("{v:e}"))
    }

    /// The exact value of a float's binary representation (so `from_f64_exact(0.1)` is
    /// `0.1000000000000000055511151231257827021181583404541015625`). This is what cty means
    /// by a float value; the msgpack decoder uses it. Errors for NaN and infinities.
    pub fn from_f64_exact(v: f64) -> Result<Number, ValueError> {
        if !v.is_finite() {
            return Err(invalid(&v.to_string(), "not a finite number"));
        }
        let bits = v.to_bits();
        let negative = bits >> 63 == 1;
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1u64 << 52) - 1);
        let (mantissa, exp2) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1u64 << 52), biased - 1075)
        };
        if mantissa == 0 {
            return Ok(Number::zero());
        }
        let mut big = BigDecimalInt::from_u64(mantissa);
        let exp10 = if exp2 >= 0 {
            big.mul_pow(2, exp2 as u32);
            0
        } else {
            // m × 2^-k = m × 5^k × 10^-k
            big.mul_pow(5, (-exp2) as u32);
            exp2
        };
        Number::from_parts(negative, big.to_digits(), exp10)
    }

    /// Parses a decimal number: optional sign, digits with an optional fraction, optional
    /// exponent (`-12.5e-3`, `+7`, `.5`, `1E400`). Errors for anything else, including
    /// `NaN` and `Infinity`.
    pub fn parse(s: &str) -> Result<Number, ValueError> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut negative = false;
        if let Some(&c @ (b'+' | b'-')) = b.first() {
            negative = c == b'-';
            i += 1;
        }
        let mut digits = Vec::new();
        let mut frac_len: i64 = 0;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            digits.push(c - b'0');
            i += 1;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            while let Some(&c @ b'0'..=b'9') = b.get(i) {
                digits.push(c - b'0');
                frac_len += 1;
                i += 1;
            }
        }
        if digits.is_empty() {
            return Err(invalid(s, "not a decimal number"));
        }
        let mut exp: i64 = 0;
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            let mut exp_negative = false;
            if let Some(&c @ (b'+' | b'-')) = b.get(i) {
                exp_negative = c == b'-';
                i += 1;
            }
            let start = i;
            while let Some(&c @ b'0'..=b'9') = b.get(i) {
                exp = exp * 10 + i64::from(c - b'0');
                if exp > MAX_EXP {
                    return Err(invalid(s, "exponent out of range"));
                }
                i += 1;
            }
            if i == start {
                return Err(invalid(s, "missing exponent digits"));
            }
            if exp_negative {
                exp = -exp;
            }
        }
        if i != b.len() {
            return Err(invalid(s, "not a decimal number"));
        }
        Number::from_parts(negative, digits, exp - frac_len)
            .map_err(|_| invalid(s, "exponent out of range"))
    }

    /// Whether the number is zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Whether the number is negative (zero is not).
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Whether the number is a whole number.
    pub fn is_integer(&self) -> bool {
        self.exp >= 0
    }

    /// The value as an `i128`, when it is an integer in range.
    pub fn as_i128(&self) -> Option<i128> {
        if !self.is_integer() {
            return None;
        }
        if self.is_zero() {
            return Some(0);
        }
        if self.digits.len() as i64 + self.exp > 39 {
            return None;
        }
        let mut v: i128 = 0;
        for &d in &self.digits {
            v = v.checked_mul(10)?.checked_add(i128::from(d))?;
        }
        for _ in 0..self.exp {
            v = v.checked_mul(10)?;
        }
        Some(if self.negative { -v } else { v })
    }

    /// The value as an `i64`, when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_i128().and_then(|v| i64::try_from(v).ok())
    }

    /// The value as a `u64`, when it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i128().and_then(|v| u64::try_from(v).ok())
    }

    /// The nearest `f64` (correctly rounded); overflows to ±infinity and underflows to ±0.
    pub fn as_f64(&self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let adjusted = self.adjusted_exp();
        let sign = if self.negative { -1.0 } else { 1.0 };
        if adjusted > 400 {
            return sign * f64::INFINITY;
        }
        if adjusted < -400 {
            return sign * 0.0;
        }
        self.scientific()
            .parse::<f64>()
            .expect("a scientific decimal always parses as f64")
    }

    /// The `f64` whose exact binary value equals this number, if there is one (cty encodes
    /// such numbers as msgpack float64).
    pub fn as_f64_exact(&self) -> Option<f64> {
        if self.is_zero() {
            return Some(0.0);
        }
        // Any finite f64 has an exact expansion of at most 767 significant digits with a
        // decimal point position within about ±330.
        if self.digits.len() > 800 || !(-330..=330).contains(&self.adjusted_exp()) {
            return None;
        }
        let f = self.as_f64();
        if !f.is_finite() {
            return None;
        }
        match Number::from_f64_exact(f) {
            Ok(n) if n == *self => Some(f),
            _ => None,
        }
    }

    /// Position of the decimal point relative to the first significant digit: the value's
    /// magnitude is in `[10^(adjusted-1), 10^adjusted)`.
    fn adjusted_exp(&self) -> i64 {
        self.digits.len() as i64 + self.exp
    }

    /// `d.ddde±X` notation (always accepted by Rust's float parser).
    fn scientific(&self) -> String {
        let mut s = String::with_capacity(self.digits.len() + 8);
        if self.negative {
            s.push('-');
        }
        s.push(char::from(b'0' + self.digits[0]));
        if self.digits.len() > 1 {
            s.push('.');
            s.push_str(&digits_text(&self.digits[1..]));
        }
        let e = self.adjusted_exp() - 1;
        s.push_str(if e >= 0 { "e+" } else { "e" });
        s.push_str(&e.to_string());
        s
    }

    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        self.adjusted_exp()
            .cmp(&other.adjusted_exp())
            .then_with(|| self.digits.cmp(&other.digits))
    }

    fn signum(&self) -> i8 {
        if self.is_zero() {
            0
        } else if self.negative {
            -1
        } else {
            1
        }
    }
}

fn digits_text(digits: &[u8]) -> String {
    digits.iter().map(|&d| char::from(b'0' + d)).collect()
}

fn invalid(input: &str, reason: &str) -> ValueError {
    let input = if input.len() > 64 {
        let mut end = 64;
        while !input.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &input[..end])
    } else {
        input.to_string()
    };
    ValueError::new(ValueErrorKind::InvalidNumber {
        input,
        reason: reason.to_string(),
    })
}

impl fmt::Display for Number {
    /// A canonical decimal: equal numbers print identically, and the text parses back
    /// (`Number::parse`) to the same number. It is also valid JSON number syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let point = self.adjusted_exp();
        let mut s = String::new();
        if self.negative {
            s.push('-');
        }
        if self.exp >= 0 && self.exp <= PLAIN_ZEROS {
            s.push_str(&digits_text(&self.digits));
            s.extend(std::iter::repeat_n('0', self.exp as usize));
        } else if self.exp < 0 && point > 0 {
            let (int, frac) = self.digits.split_at(point as usize);
            s.push_str(&digits_text(int));
            s.push('.');
            s.push_str(&digits_text(frac));
        } else if self.exp < 0 && -point <= PLAIN_ZEROS {
            s.push_str("0.");
            s.extend(std::iter::repeat_n('0', (-point) as usize));
            s.push_str(&digits_text(&self.digits));
        } else {
            return f.write_str(&self.scientific());
        }
        f.write_str(&s)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let (a, b) = (self.signum(), other.signum());
        if a != b || a == 0 {
            return a.cmp(&b);
        }
        let magnitude = self.cmp_magnitude(other);
        if a > 0 {
            magnitude
        } else {
            magnitude.reverse()
        }
    }
}

impl FromStr for Number {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Number, ValueError> {
        Number::parse(s)
    }
}

impl Default for Number {
    fn default() -> Number {
        Number::zero()
    }
}

macro_rules! number_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(v: $t) -> Number {
                Number::from_i128(v as i128)
            }
        }
    )*};
}
number_from_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl TryFrom<f64> for Number {
    type Error = ValueError;

    /// Same as [`Number::from_f64`].
    fn try_from(v: f64) -> Result<Number, ValueError> {
        Number::from_f64(v)
    }
}

/// A non-negative integer in base 10^9 limbs (least significant first), just enough to
/// expand floats exactly.
struct BigDecimalInt {
    limbs: Vec<u32>,
}

const LIMB: u64 = 1_000_000_000;

impl BigDecimalInt {
    fn from_u64(mut v: u64) -> Self {
        let mut limbs = Vec::new();
        while v > 0 {
            limbs.push((v % LIMB) as u32);
            v /= LIMB;
        }
        BigDecimalInt { limbs }
    }

    fn mul_small(&mut self, factor: u64) {
        debug_assert!(factor < 1 << 32);
        let mut carry = 0u64;
        for limb in &mut self.limbs {
            let v = u64::from(*limb) * factor + carry;
            *limb = (v % LIMB) as u32;
            carry = v / LIMB;
        }
        while carry > 0 {
            self.limbs.push((carry % LIMB) as u32);
            carry /= LIMB;
        }
    }

    /// Multiplies by `base^n` for base 2 or 5.
    fn mul_pow(&mut self, base: u64, mut n: u32) {
        let (chunk, chunk_pow) = if base == 2 {
            (1u64 << 31, 31)
        } else {
            (5u64.pow(13), 13)
        };
        while n >= chunk_pow {
            self.mul_small(chunk);
            n -= chunk_pow;
        }
        if n > 0 {
            self.mul_small(base.pow(n));
        }
    }

    fn to_digits(&self) -> Vec<u8> {
        let mut s = String::new();
        for (i, limb) in self.limbs.iter().rev().enumerate() {
            if i == 0 {
                s.push_str(&limb.to_string());
            } else {
                s.push_str(&format!("{limb:09}"));
            }
        }
        s.bytes().map(|b| b - b'0').collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn equal_by_value() {
        assert_eq!(n("1"), n("1.0"));
        assert_eq!(n("1"), n("1e0"));
        assert_eq!(n("1"), n("10e-1"));
        assert_eq!(n("0"), n("-0.000"));
        assert_eq!(n("+5"), Number::from_i64(5));
        assert_eq!(n(".5"), n("0.5"));
        assert_eq!(n("5."), n("5"));
        assert_eq!(Number::from_f64(1.0).unwrap(), Number::from_i64(1));
        assert_ne!(n("1"), n("1.0000000000000000000001"));
    }

    #[test]
    fn rejects_non_numbers() {
        for s in [
            "",
            "-",
            ".",
            "e5",
            "1e",
            "1e+",
            "NaN",
            "nan",
            "inf",
            "Infinity",
            "-Infinity",
            "1x",
            " 1",
            "1 ",
            "0x10",
            "1.2.3",
            "--1",
            "1e99999999999999999",
        ] {
            assert!(Number::parse(s).is_err(), "{s:?} should be rejected");
        }
        assert!(Number::from_f64(f64::NAN).is_err());
        assert!(Number::from_f64(f64::INFINITY).is_err());
        assert!(Number::from_f64_exact(f64::NEG_INFINITY).is_err());
        let e = Number::parse("NaN").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid number \"NaN\": not a decimal number"
        );
    }

    #[test]
    fn display_is_canonical() {
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("007", "7"),
            ("1.50", "1.5"),
            ("-12.5e-3", "-0.0125"),
            ("1e3", "1000"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            ("1e400", "1e+400"),
            ("-1.5e-300", "-1.5e-300"),
            ("1.25e-30", "0.00000000000000000000000000000125"),
            ("1.25e-32", "1.25e-32"),
            ("18446744073709551615", "18446744073709551615"),
        ];
        for (input, want) in cases {
            assert_eq!(n(input).to_string(), want, "for {input}");
            assert_eq!(n(want), n(input));
        }
    }

    #[test]
    fn integer_conversions() {
        assert_eq!(n("9223372036854775807").as_i64(), Some(i64::MAX));
        assert_eq!(n("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(n("9223372036854775808").as_i64(), None);
        assert_eq!(n("9223372036854775808").as_u64(), Some(1 << 63));
        assert_eq!(Number::from_u64(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(n("18446744073709551616").as_u64(), None);
        assert_eq!(n("-1").as_u64(), None);
        assert_eq!(n("1.5").as_i64(), None);
        assert_eq!(n("1.5e1").as_i64(), Some(15));
        assert_eq!(n("1e400").as_i64(), None);
        assert!(n("1e400").is_integer());
        assert!(!n("1e-400").is_integer());
    }

    #[test]
    fn float_conversions() {
        assert_eq!(Number::from_f64(0.1).unwrap(), n("0.1"));
        assert_eq!(
            Number::from_f64_exact(0.1).unwrap(),
            n("0.1000000000000000055511151231257827021181583404541015625")
        );
        assert_eq!(n("0.1").as_f64(), 0.1);
        assert_eq!(n("0.1").as_f64_exact(), None);
        assert_eq!(n("0.5").as_f64_exact(), Some(0.5));
        let two_70 = n("1180591620717411303424");
        assert_eq!(two_70.as_f64_exact(), Some(2f64.powi(70)));
        assert_eq!(Number::from_f64_exact(2f64.powi(70)).unwrap(), two_70);
        assert_eq!(n("1e400").as_f64(), f64::INFINITY);
        assert_eq!(n("-1e400").as_f64(), f64::NEG_INFINITY);
        assert_eq!(n("1e-400").as_f64(), 0.0);
        assert_eq!(n("1e400").as_f64_exact(), None);
        let tiny = f64::from_bits(1); // smallest subnormal
        assert_eq!(
            Number::from_f64_exact(tiny).unwrap().as_f64_exact(),
            Some(tiny)
        );
        assert_eq!(Number::from_f64(-0.0).unwrap(), Number::zero());
        assert_eq!(Number::from_f64(-1.5e-300).unwrap(), n("-1.5e-300"));
    }

    #[test]
    fn ordering() {
        let mut v: Vec<Number> = [
            "3", "-1e400", "0", "0.001", "-2", "1e400", "-0.5", "2.5", "10",
        ]
        .iter()
        .map(|s| n(s))
        .collect();
        v.sort();
        let got: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            got,
            ["-1e+400", "-2", "-0.5", "0", "0.001", "2.5", "3", "10", "1e+400"]
        );
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(
            neg in any::<bool>(),
            digits in "[0-9]{1,50}",
            exp in -500i64..500,
        ) {
            let s = format!("{}{}e{}", if neg { "-" } else { "" }, digits, exp);
            let x = Number::parse(&s).unwrap();
            prop_assert_eq!(Number::parse(&x.to_string()).unwrap(), x);
        }

        #[test]
        fn f64_conversions_are_lossless(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
            let short = Number::from_f64(f).unwrap();
            prop_assert_eq!(short.as_f64(), f);
            let exact = Number::from_f64_exact(f).unwrap();
            prop_assert_eq!(exact.as_f64(), f);
            prop_assert_eq!(exact.as_f64_exact(), Some(f));
        }

        #[test]
        fn order_matches_f64(a in -1e10f64..1e10, b in -1e10f64..1e10) {
            let (x, y) = (Number::from_f64(a).unwrap(), Number::from_f64(b).unwrap());
            prop_assert_eq!(x.cmp(&y), a.partial_cmp(&b).unwrap());
        }

        #[test]
        fn order_matches_i128(a in any::<i64>(), b in any::<u64>()) {
            let (x, y) = (Number::from_i64(a), Number::from_u64(b));
            prop_assert_eq!(x.cmp(&y), i128::from(a).cmp(&i128::from(b)));
            prop_assert_eq!(x.as_i64(), Some(a));
            prop_assert_eq!(y.as_u64(), Some(b));
        }
    }
}
