//! Request bodies: JSON decoded into an operation's input exactly as AWS's rest-json services
//! decode it.

use crate::error::ApiError;

/// Decodes a JSON request body into an operation's input `T`, as AWS's rest-json services
/// do: an empty (or all-whitespace) body is `{}`; members `T` does not know are ignored, at any
/// depth; anything else that does not fit — malformed JSON, invalid UTF-8, nesting deeper than
/// 128, a member given twice, a member of the wrong type, a structure given as an array, a body
/// that is not an object — is a `BadRequestException` saying why.
pub fn decode_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let invalid = |e: serde_json::Error| {
        ApiError::bad_request(format!(
            "The request body is not valid for this operation: {e}"
        ))
    };
    // Syntax, UTF-8, depth, duplicates and types, with serde_json's position in the message.
    let decoded: T = serde_json::from_slice(body).map_err(invalid)?;
    // serde's derived structures also accept a JSON array of their members in order; the
    // wire format has objects only. Decoding again through `strict::Strict` refuses arrays
    // where a structure belongs.
    let value: serde_json::Value = serde_json::from_slice(body).map_err(invalid)?;
    T::deserialize(strict::Strict(&value)).map_err(invalid)?;
    Ok(decoded)
}

/// A deserializer over a parsed JSON value that gives structures only from JSON objects.
mod strict {
    use serde::de::value::{MapDeserializer, SeqDeserializer};
    use serde::de::{self, IntoDeserializer, Unexpected, Visitor};
    use serde_json::{Error, Value};

    pub struct Strict<'a>(pub &'a Value);

    fn unexpected(value: &Value) -> Unexpected<'_> {
        match value {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(_) => Unexpected::Other("number"),
            Value::String(s) => Unexpected::Str(s),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        }
    }

    impl<'a> IntoDeserializer<'_, Error> for Strict<'a> {
        type Deserializer = Strict<'a>;
        fn into_deserializer(self) -> Strict<'a> {
            self
        }
    }

    impl<'de> de::Deserializer<'de> for Strict<'_> {
        type Error = Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
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
                Value::String(s) => visitor.visit_str(s),
                Value::Array(items) => {
                    let mut seq = SeqDeserializer::new(items.iter().map(Strict));
                    let value = visitor.visit_seq(&mut seq)?;
                    seq.end()?;
                    Ok(value)
                }
                Value::Object(members) => {
                    let mut map =
                        MapDeserializer::new(members.iter().map(|(k, v)| (k.as_str(), Strict(v))));
                    let value = visitor.visit_map(&mut map)?;
                    map.end()?;
                    Ok(value)
                }
            }
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
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
        ) -> Result<V::Value, Error> {
            match self.0 {
                Value::Object(_) => self.deserialize_any(visitor),
                other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
            }
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Inner {
        a: Option<bool>,
        b: Option<bool>,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Outer {
        name: Option<String>,
        inner: Option<Inner>,
        list: Option<Vec<Inner>>,
    }

    /// Regression: serde's derived structures accept a JSON array of their members, so
    /// `["x"]` was a CreateAccount named x and `{"AccountSettings":[true,false]}` changed
    /// both settings. Only objects are structures now.
    #[test]
    fn structures_given_as_arrays_are_refused() {
        assert!(
            serde_json::from_slice::<Outer>(br#"["x",null,null]"#).is_ok(),
            "serde's leniency"
        );
        for body in [
            &br#"["x",null,null]"#[..],
            br#"["x", [true, false], null]"#,
            br#"{"Inner":[true,false]}"#,
            br#"{"List":[[true]]}"#,
            br#"{"List":[{"A":true},[true]]}"#,
            b"null",
            b"\"x\"",
            b"12",
        ] {
            let e = decode_body::<Outer>(body).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::BadRequest);
            assert!(
                e.message.starts_with("The request body is not valid"),
                "{e}"
            );
        }
        let ok: Outer =
            decode_body(br#"{"Name":"x","Inner":{"A":true,"Z":[1]},"List":[{"B":false}],"U":{}}"#)
                .unwrap();
        assert_eq!(
            ok,
            Outer {
                name: Some("x".into()),
                inner: Some(Inner {
                    a: Some(true),
                    b: None
                }),
                list: Some(vec![Inner {
                    a: None,
                    b: Some(false)
                }]),
            }
        );
        assert_eq!(
            decode_body::<Outer>(b" \n").unwrap(),
            Outer {
                name: None,
                inner: None,
                list: None
            }
        );
        assert_eq!(
            decode_body::<Outer>(br#"{"Name":null,"Inner":null}"#).unwrap(),
            Outer {
                name: None,
                inner: None,
                list: None
            }
        );
    }
}
