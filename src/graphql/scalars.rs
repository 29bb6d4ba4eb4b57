//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// A byte count (see the scalar's description).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub i64);

/// A number of bytes, or of bytes per second. GraphQL's `Int` is 32-bit
/// and sizes pass 2 GiB, so this is its own scalar: a non-negative JSON
/// number, exact up to 2^53 bytes (8 PiB).
#[Scalar(name = "Bytes")]
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
