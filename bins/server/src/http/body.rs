//! JSON bodies read the way the OpenAPI document describes them.
//!
//! `serde_json` on its own lets a body through that the schema refuses: a
//! duplicate key (the last one wins), an array where an object is asked (a
//! struct deserializes from a sequence of its fields), and it refuses one
//! the schema admits: `30.0` where an integer is asked (JSON Schema counts an
//! integral number an integer). Here:
//!
//! - [`JsonObject`] is the body of every JSON endpoint: an object (a
//!   top-level array is VAL_001) without a duplicate key at any depth
//!   (VAL_001 naming the key), with integral numbers (`30.0`, `3e1`) read as
//!   integers;
//! - [`Strict`] deserializes such a value into a request type, refusing an
//!   array where a struct is asked (VAL_007 naming the field).

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    Visitor,
};
use serde_json::{Map, Number, Value};

/// The body of a JSON endpoint: a JSON object, every key once.
#[derive(Debug, Clone)]
pub struct JsonObject(pub Value);

impl JsonObject {
    /// The object.
    #[must_use]
    pub fn into_inner(self) -> Value {
        self.0
    }
}

impl<'de> de::Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Top;
        impl<'de> Visitor<'de> for Top {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
                UniqueValue.visit_map(map)
            }
        }
        deserializer.deserialize_map(Top).map(JsonObject)
    }
}

/// Parses a whole body (`logout` reads its own) as a [`JsonObject`].
///
/// # Errors
/// serde_json's error: malformed JSON, not an object, a duplicate key.
pub fn object_from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<JsonObject>(bytes).map(JsonObject::into_inner)
}

/// Any JSON value, refusing duplicate keys and reading integral numbers as
/// integers.
struct UniqueValue;

impl<'de> DeserializeSeed<'de> for UniqueValue {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(integral(v).unwrap_or_else(|| {
            Number::from_f64(v).unwrap_or_else(|| Number::from(0))
        })))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(UniqueValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let shown: String = key.chars().take(64).collect();
                return Err(de::Error::custom(format_args!("duplicate key `{shown}`")));
            }
            let value = map.next_value_seed(UniqueValue)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// `30.0` or `3e1` as the integer it is (JSON Schema's reading).
fn integral(v: f64) -> Option<Number> {
    // 2^63 and 2^64 as floats: the ranges of i64 and u64.
    const I64_END: f64 = 9_223_372_036_854_775_808.0;
    const U64_END: f64 = 18_446_744_073_709_551_616.0;
    if !v.is_finite() || v.fract() != 0.0 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    if (-I64_END..0.0).contains(&v) {
        Some(Number::from(v as i64))
    } else if (0.0..U64_END).contains(&v) {
        Some(Number::from(v as u64))
    } else {
        None
    }
}

/// A deserializer over a parsed value that refuses what the schema refuses
/// and `serde_json::Value` lets through: a sequence where a struct is asked.
pub struct Strict<'a>(pub &'a Value);

fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Unexpected::Unsigned(u),
            (None, Some(i), _) => Unexpected::Signed(i),
            (None, None, Some(f)) => Unexpected::Float(f),
            _ => Unexpected::Other("number"),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de, 'a: 'de> Deserializer<'de> for Strict<'a> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(StrictSeq(items.iter())),
            Value::Object(map) => visitor.visit_map(StrictMap {
                entries: map.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(_) => self.deserialize_any(visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct StrictSeq<'a>(std::slice::Iter<'a, Value>);

impl<'de, 'a: 'de> SeqAccess<'de> for StrictSeq<'a> {
    type Error = serde_json::Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Strict(v)))
            .transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct StrictMap<'a> {
    entries: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
}

impl<'de, 'a: 'de> MapAccess<'de> for StrictMap<'a> {
    type Error = serde_json::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                let key: de::value::BorrowedStrDeserializer<'de, serde_json::Error> =
                    de::value::BorrowedStrDeserializer::new(key);
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value without its key"))?;
        seed.deserialize(Strict(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Item {
        name: String,
        count: Option<i64>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Outer {
        items: Vec<Item>,
    }

    fn object(text: &str) -> Result<Value, String> {
        object_from_slice(text.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_body_is_an_object_with_each_key_once() {
        assert_eq!(object(r#"{"a": 1}"#), Ok(json!({"a": 1})));
        assert!(object("[]").unwrap_err().contains("expected a JSON object"));
        assert!(object("3").is_err());
        let err = object(r#"{"a": 1, "b": {"c": 1, "c": 2}}"#).unwrap_err();
        assert!(err.starts_with("duplicate key `c`"), "{err}");
        let err = object(r#"{"a": 1, "a": 1}"#).unwrap_err();
        assert!(err.starts_with("duplicate key `a`"), "{err}");
    }

    #[test]
    fn integral_numbers_are_integers() {
        assert_eq!(
            object(r#"{"a": 30.0, "b": 3e1, "c": -2.0, "d": 30.5, "e": 1e300}"#).unwrap(),
            json!({"a": 30, "b": 30, "c": -2, "d": 30.5, "e": 1e300})
        );
        let v = object(r#"{"a": 30.0}"#).unwrap();
        assert!(v["a"].is_u64());
    }

    #[test]
    fn a_struct_is_never_read_from_an_array() {
        let ok = json!({"items": [{"name": "x", "count": 3}]});
        let parsed = Outer::deserialize(Strict(&ok)).unwrap();
        assert_eq!(
            parsed.items,
            [Item {
                name: "x".into(),
                count: Some(3)
            }]
        );
        let bad = json!({"items": [["x", 3]]});
        assert!(
            serde_json::from_value::<Outer>(bad.clone()).is_ok(),
            "serde's way"
        );
        let err = Outer::deserialize(Strict(&bad)).unwrap_err().to_string();
        assert!(err.starts_with("invalid type: sequence"), "{err}");
        let err = Item::deserialize(Strict(&json!({"name": "x", "count": 1.5})))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("invalid type: floating point"), "{err}");
    }

    use serde::Deserialize as _;
}
