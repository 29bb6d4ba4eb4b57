//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::Utc;

/// A byte count (see the scalar's description).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Bytes(pub i64);

/// A number of bytes, or of bytes per second. GraphQL's `Int` is 32-bit
/// and sizes pass 2 GiB, so this is its own scalar: a non-negative integer
/// written as a JSON number, within the range RFC 8259 calls interoperable
/// (up to 2^53 - 1 bytes, 8 PiB), so JavaScript's `number` holds it exactly.
#[Scalar(
    name = "Bytes",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc8259#section-6"
)]
impl ScalarType for Bytes {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(number) => number
                .as_i64()
                .filter(|bytes| *bytes >= 0)
                .map(Bytes)
                .ok_or_else(|| InputValueError::custom("Bytes must be a non-negative integer")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.max(0).into())
    }
}

/// A moment in time (see the scalar's description).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(moment: chrono::DateTime<Utc>) -> Self {
        Self(moment)
    }
}

/// A moment in time, as an RFC 3339 string: `2026-12-02T18:00:00+00:00`.
/// Answers are in UTC; arguments may carry any offset.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|moment| Self(moment.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(
                        "DateTime must be an RFC 3339 string such as 2026-12-02T18:00:00Z",
                    )
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_read_any_offset_and_answer_in_utc() {
        let parsed = DateTime::parse(Value::from("2026-12-02T19:00:00+01:00")).unwrap();
        assert_eq!(parsed.to_value(), Value::from("2026-12-02T18:00:00+00:00"));
        assert!(DateTime::parse(Value::from("yesterday")).is_err());
        assert!(DateTime::parse(Value::from(1)).is_err());
    }
}
