//! Checks that turn one value's text into its typed form or a problem to
//! report, and the masks that print secrets.

use std::time::Duration;

use secrecy::SecretString;
use serde::Serializer;
use url::Url;

/// Prints a secret that is always set as `********`.
pub(super) fn masked_required<S: Serializer>(
    _: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str("********")
}

/// Prints a secret as `********`, or `(not set)`.
pub(super) fn masked<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_str("********"),
        None => serializer.serialize_str("(not set)"),
    }
}

/// An `http(s)` base URL with no credentials, query or fragment.
pub(super) fn parse_base_url(text: &str) -> Result<Url, String> {
    // The text is not echoed: a URL can carry a key or password.
    let url = Url::parse(text).map_err(|error| format!("is not a URL ({error})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials (give them in their own settings)".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(
            "must not have a query or fragment (give keys in their own settings)".to_owned(),
        );
    }
    Ok(url)
}

/// A bound on one call to another service: at most ten minutes.
pub(super) fn parse_timeout(text: &str) -> Result<Duration, String> {
    parse_duration(text, Duration::from_secs(600))
}

/// A humantime duration (`"10s"`, `"12h"`), above zero and at most `max`.
pub(super) fn parse_duration(text: &str, max: Duration) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|_| format!("{text:?} is not a duration like \"10s\" or \"1m\""))?;
    if duration.is_zero() || duration > max {
        return Err(format!(
            "{text:?} must be above zero and at most {}",
            humantime::format_duration(max)
        ));
    }
    Ok(duration)
}
