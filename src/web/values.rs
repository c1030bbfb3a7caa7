//! The one codec of the glue: the core's [`Value`] to and from JavaScript values through
//! serde and serde-wasm-bindgen, so structured results reach JavaScript as objects and
//! arrays (no JSON text written here and parsed there).
//!
//! Values come out as `JSON.parse` would have made them from the core's JSON writer:
//! plain objects (not `Map`s) with the keys in order, `null` (not `undefined`), and a
//! number that JSON cannot hold (NaN, ±Infinity) as `null`.

use core::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use wasm_bindgen::JsValue;

use crate::json::{Map, Value};

/// A borrowed [`Value`] as serde sees it.
struct Out<'a>(&'a Value);

impl Serialize for Out<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            // As JSON.stringify writes them: no NaN, no infinities, no negative zero.
            Value::Number(n) if !n.is_finite() => s.serialize_unit(),
            Value::Number(n) => s.serialize_f64(if *n == 0.0 { 0.0 } else { *n }),
            Value::String(t) => s.serialize_str(t),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&Out(v))?;
                }
                seq.end()
            }
            Value::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m.iter() {
                    map.serialize_entry(k, &Out(v))?;
                }
                map.end()
            }
        }
    }
}

/// `value` as a JavaScript value (see the module's documentation for its shape).
pub(crate) fn to_js(value: &Value) -> JsValue {
    // Only a failing JavaScript engine makes this fail; `null` says nothing was there.
    Out(value).serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

/// A [`Value`] read from a JavaScript value.
struct In(Value);

impl<'de> Deserialize<'de> for In {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<In, D::Error> {
        d.deserialize_any(InVisitor)
    }
}

struct InVisitor;

impl<'de> Visitor<'de> for InVisitor {
    type Value = In;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<In, E> {
        Ok(In(Value::Null))
    }
    fn visit_none<E>(self) -> Result<In, E> {
        Ok(In(Value::Null))
    }
    fn visit_bool<E>(self, b: bool) -> Result<In, E> {
        Ok(In(Value::Bool(b)))
    }
    fn visit_i64<E>(self, n: i64) -> Result<In, E> {
        Ok(In(Value::Number(n as f64)))
    }
    fn visit_u64<E>(self, n: u64) -> Result<In, E> {
        Ok(In(Value::Number(n as f64)))
    }
    fn visit_f64<E>(self, n: f64) -> Result<In, E> {
        // JSON.stringify writes NaN and the infinities as null.
        Ok(In(if n.is_finite() { Value::Number(n) } else { Value::Null }))
    }
    fn visit_str<E>(self, s: &str) -> Result<In, E> {
        Ok(In(Value::String(s.into())))
    }
    fn visit_string<E>(self, s: String) -> Result<In, E> {
        Ok(In(Value::String(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<In, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(In(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(In(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<In, A::Error> {
        let mut m = Map::new();
        while let Some((k, In(v))) = map.next_entry::<String, In>()? {
            m.0.push((k, v));
        }
        Ok(In(Value::Object(m)))
    }
}

/// A [`Value`] from a JavaScript value made of plain objects, arrays, strings, numbers,
/// booleans and null; anything else (a function, a symbol) reads as `null`, as a value
/// the core cannot read always has.
pub(crate) fn from_js(value: JsValue) -> Value {
    serde_wasm_bindgen::from_value::<In>(value).map_or(Value::Null, |In(v)| v)
}

