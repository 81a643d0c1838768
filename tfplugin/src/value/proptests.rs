//! Owns the property tests of the value model: random types, random conforming values
//! (null and unknown at any depth, every kind of number), and codec round trips.

use proptest::prelude::*;

use super::{Number, Type, Value};

/// A random type of bounded depth, `dynamic` included anywhere.
fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::String),
        Just(Type::Number),
        Just(Type::Bool),
        Just(Type::Dynamic),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_][a-z0-9_-]{0,5}", inner.clone(), 0..4)
                .prop_map(Type::Object),
            prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
}

/// A random type that may sit inside a `Value::Dynamic` (anything but bare `dynamic`).
fn arb_concrete_type() -> impl Strategy<Value = Type> {
    arb_type().prop_map(|t| if t == Type::Dynamic { Type::String } else { t })
}

fn arb_number() -> impl Strategy<Value = Number> {
    let finite = any::<f64>().prop_filter("finite", |f| f.is_finite());
    prop_oneof![
        any::<i64>().prop_map(Number::from_i64),
        any::<u64>().prop_map(Number::from_u64),
        (-1_000i64..1_000).prop_map(Number::from_i64),
        finite.clone().prop_map(|f| Number::from_f64(f).unwrap()),
        finite.prop_map(|f| Number::from_f64_exact(f).unwrap()),
        "-?[0-9]{1,40}(\\.[0-9]{1,40})?(e-?[0-9]{1,3})?".prop_map(|s| Number::parse(&s).unwrap()),
    ]
}

/// A random value conforming to `ty`; `dynamic_depth` bounds nested dynamic values.
fn arb_value(ty: &Type, dynamic_depth: u32) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::String => ".{0,12}".prop_map(Value::String).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Dynamic if dynamic_depth == 0 => ".{0,4}"
            .prop_map(|s| Value::dynamic(Type::String, Value::String(s)))
            .boxed(),
        Type::Dynamic => arb_concrete_type()
            .prop_flat_map(move |t| {
                arb_value(&t, dynamic_depth - 1).prop_map(move |v| Value::dynamic(t.clone(), v))
            })
            .boxed(),
        Type::List(t) => prop::collection::vec(arb_value(t, dynamic_depth), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(t) => prop::collection::vec(arb_value(t, dynamic_depth), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(t) => prop::collection::btree_map(".{0,6}", arb_value(t, dynamic_depth), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attrs) => {
            let fields: Vec<_> = attrs
                .iter()
                .map(|(k, t)| {
                    let k = k.clone();
                    arb_value(t, dynamic_depth).prop_map(move |v| (k.clone(), v))
                })
                .collect();
            fields
                .prop_map(|kvs| Value::Object(kvs.into_iter().collect()))
                .boxed()
        }
        Type::Tuple(ts) => {
            let elements: Vec<_> = ts.iter().map(|t| arb_value(t, dynamic_depth)).collect();
            elements.prop_map(Value::Tuple).boxed()
        }
    };
    prop_oneof![
        1 => Just(Value::Null),
        1 => Just(Value::Unknown),
        8 => known,
    ]
    .boxed()
}

fn arb_typed_value() -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(|t| {
        let values = arb_value(&t, 2);
        (Just(t), values)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_values_conform((t, v) in arb_typed_value()) {
        v.conforms_to(&t).unwrap();
    }

    #[test]
    fn msgpack_round_trip((t, v) in arb_typed_value()) {
        let bytes = v.to_msgpack(&t).unwrap();
        let back = Value::from_msgpack(&bytes, &t).unwrap();
        prop_assert_eq!(&back, &v);
        // Encoding is deterministic.
        prop_assert_eq!(back.to_msgpack(&t).unwrap(), bytes);
    }

    #[test]
    fn json_round_trip((t, v) in arb_typed_value()) {
        if v.is_wholly_known() {
            let json = v.to_json(&t).unwrap();
            prop_assert_eq!(&Value::from_json(&json, &t).unwrap(), &v);
            let bytes = v.to_json_bytes(&t).unwrap();
            prop_assert_eq!(&Value::from_json_bytes(&bytes, &t).unwrap(), &v);
        } else {
            prop_assert!(v.to_json(&t).is_err());
        }
    }

    #[test]
    fn type_json_round_trip(t in arb_type()) {
        prop_assert_eq!(Type::from_json_bytes(&t.to_json_bytes()).unwrap(), t);
    }

    #[test]
    fn number_msgpack_and_json_round_trip(x in arb_number()) {
        let v = Value::Number(x);
        let bytes = v.to_msgpack(&Type::Number).unwrap();
        prop_assert_eq!(&Value::from_msgpack(&bytes, &Type::Number).unwrap(), &v);
        let json = v.to_json_bytes(&Type::Number).unwrap();
        prop_assert_eq!(&Value::from_json_bytes(&json, &Type::Number).unwrap(), &v);
    }

    #[test]
    fn set_equality_ignores_order((t, v) in arb_typed_value(), seed in any::<u64>()) {
        let s = Value::Set(vec![v.clone(), Value::Null, v.clone(), Value::Unknown]);
        let mut shuffled = match &s { Value::Set(vs) => vs.clone(), _ => unreachable!() };
        let k = (seed % shuffled.len() as u64) as usize;
        shuffled.rotate_left(k);
        prop_assert_eq!(&Value::Set(shuffled), &s);
        let st = Type::set(t);
        prop_assert_eq!(&Value::from_msgpack(&s.to_msgpack(&st).unwrap(), &st).unwrap(), &s);
    }

    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64), t in arb_type()) {
        let _ = Value::from_msgpack(&bytes, &t);
        let _ = Value::from_json_bytes(&bytes, &t);
    }
}
