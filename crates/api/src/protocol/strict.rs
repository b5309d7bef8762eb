//! The model's shapes held to their kinds while an input decodes: serde's derived
//! structs also accept a sequence (`tags=[["k","v"]]` would fill `key` and `value` by
//! position), which AWS refuses, so every struct is read through [`Strict`], which
//! answers an array where the model says structure with a type error naming the member.
//!
//! The query protocol's `Name=` (how botocore sends an empty list) decodes as an empty
//! list or map when the protocol says so ([`Rules::empty_text_is_empty_list`]).

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Unexpected, Visitor};
use std::fmt;

/// What the protocol adds to serde's reading of a shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules {
    /// An empty scalar where a list or map is expected is an empty list or map (query).
    pub empty_text_is_empty_list: bool,
}

/// A deserializer whose structs refuse sequences, recursively.
pub struct Strict<D> {
    inner: D,
    rules: Rules,
}

impl<D> Strict<D> {
    pub fn new(inner: D, rules: Rules) -> Self {
        Strict { inner, rules }
    }
}

/// What the shape being read expects, so the visitor can refuse the wrong kind.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Any,
    Struct,
    List,
    Map,
}

struct Wrap<V> {
    inner: V,
    rules: Rules,
    kind: Kind,
}

macro_rules! forward {
    ($($method:ident),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method(Wrap { inner: visitor, rules: self.rules, kind: Kind::Any })
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let wrap = Wrap { inner: visitor, rules: self.rules, kind: Kind::List };
        if self.rules.empty_text_is_empty_list {
            self.inner.deserialize_any(wrap)
        } else {
            self.inner.deserialize_seq(wrap)
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let wrap = Wrap { inner: visitor, rules: self.rules, kind: Kind::Map };
        if self.rules.empty_text_is_empty_list {
            self.inner.deserialize_any(wrap)
        } else {
            self.inner.deserialize_map(wrap)
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_struct(name, fields, Wrap { inner: visitor, rules: self.rules, kind: Kind::Struct })
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_unit_struct(name, Wrap { inner: visitor, rules: self.rules, kind: Kind::Any })
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_newtype_struct(name, Wrap { inner: visitor, rules: self.rules, kind: Kind::Any })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_tuple(len, Wrap { inner: visitor, rules: self.rules, kind: Kind::Any })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_tuple_struct(name, len, Wrap { inner: visitor, rules: self.rules, kind: Kind::Any })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_enum(name, variants, Wrap { inner: visitor, rules: self.rules, kind: Kind::Any })
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

impl<'de, V: Visitor<'de>> Wrap<V> {
    /// Text read: `Name=` where a list or map is expected is empty under the query rule;
    /// anything else is the inner visitor's to judge.
    fn text<E: de::Error>(self, text: &str, visit: impl FnOnce(V) -> Result<V::Value, E>) -> Result<V::Value, E> {
        if !text.is_empty() || !self.rules.empty_text_is_empty_list {
            return visit(self.inner);
        }
        match self.kind {
            Kind::List => self.inner.visit_seq(de::value::SeqDeserializer::new(std::iter::empty::<()>())),
            Kind::Map => self.inner.visit_map(de::value::MapDeserializer::new(std::iter::empty::<((), ())>())),
            Kind::Any | Kind::Struct => visit(self.inner),
        }
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<V::Value, E> {
        self.inner.visit_bool(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.inner.visit_i64(v)
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<V::Value, E> {
        self.inner.visit_i128(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.inner.visit_u64(v)
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<V::Value, E> {
        self.inner.visit_u128(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        self.inner.visit_f64(v)
    }
    fn visit_char<E: de::Error>(self, v: char) -> Result<V::Value, E> {
        self.inner.visit_char(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.text(v, |inner| inner.visit_str(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.text(v, |inner| inner.visit_borrowed_str(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        if v.is_empty() { self.text("", |inner| inner.visit_string(v)) } else { self.inner.visit_string(v) }
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        self.inner.visit_bytes(v)
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<V::Value, E> {
        self.inner.visit_borrowed_bytes(v)
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        self.inner.visit_byte_buf(v)
    }
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }
    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner.visit_some(Strict::new(d, self.rules))
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }
    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner.visit_newtype_struct(Strict::new(d, self.rules))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.kind == Kind::Struct {
            return Err(de::Error::invalid_type(Unexpected::Seq, &self));
        }
        self.inner.visit_seq(StrictSeq { inner: seq, rules: self.rules })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(StrictMap { inner: map, rules: self.rules })
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

struct StrictSeq<A> {
    inner: A,
    rules: Rules,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for StrictSeq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(StrictSeed { inner: seed, rules: self.rules })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct StrictMap<A> {
    inner: A,
    rules: Rules,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for StrictMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(seed)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(StrictSeed { inner: seed, rules: self.rules })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct StrictSeed<S> {
    inner: S,
    rules: Rules,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for StrictSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Strict::new(d, self.rules))
    }
}
