//! Readers for values that arrive typed by guesswork.
//!
//! Environment variables have no types, so figment guesses (`12345` becomes
//! a number, `true` a boolean): string keys accept any scalar and keep its
//! text, and list keys accept one plain value as a list of one.

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Signed(i64),
    Unsigned(u64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Signed(number) => number.to_string(),
            Self::Unsigned(number) => number.to_string(),
            Self::Float(number) => number.to_string(),
            Self::Bool(flag) => flag.to_string(),
        }
    }
}

pub(super) fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Scalar::deserialize(deserializer)?.into_text())
}

/// A blank value counts as unset: Docker Compose passes `""` for an
/// empty line in a `.env` file.
pub(super) fn optional_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(Option::<Scalar>::deserialize(deserializer)?
        .map(Scalar::into_text)
        .filter(|text| !text.trim().is_empty()))
}

/// A list, or one plain value for a list of one: an environment
/// variable such as `TORRENTQL_QBITTORRENT__ALLOWED_SAVE_ROOTS=/downloads`
/// reads as a single string. A blank value is an empty list.
pub(super) fn strings<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<Scalar>),
        One(Scalar),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::Many(items) => items.into_iter().map(Scalar::into_text).collect(),
        OneOrMany::One(item) => {
            let text = item.into_text();
            if text.trim().is_empty() {
                Vec::new()
            } else {
                vec![text]
            }
        }
    })
}

pub(super) fn optional_secret<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SecretString>, D::Error> {
    Ok(optional_string(deserializer)?.map(SecretString::from))
}
