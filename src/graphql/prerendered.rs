//! JSON a resolver writes itself, spliced into the serialized response.
//!
//! async-graphql answers with a tree of [`Value`]s that is serialized
//! afterwards. For a list of 10,000 torrents that is 10,000 maps of ten or
//! more values each, built, walked and freed: most of the time such a list
//! took. A resolver that can write its answer as JSON directly (the plain
//! selections of [`super::torrents::Torrents`]) hands the JSON to
//! [`Prerendered`] and answers a placeholder string instead;
//! [`HttpAnswers::body`] serializes the response, then puts each JSON where
//! its placeholder is.
//!
//! Placeholders carry a random nonce drawn for each HTTP request, so no
//! string in the data can pass for one. Only [`HttpAnswers`] provides a
//! [`Prerendered`], and only its `body` turns a response into bytes, so no
//! placeholder leaves this module's caller unspliced: without one
//! (websocket events, tests of the schema) resolvers answer `Value`s as
//! usual.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_graphql::{BatchResponse, Request, Response, ServerError, Value};
use serde::Serialize;

/// Answers whose values serialize to this size or more are freed off the
/// request path: a list of 10,000 torrents through async-graphql's own
/// resolvers (with a fragment, say) is 2.3 MB of JSON from 100,000 values,
/// and freeing them took a tenth of the time to answer.
const FREE_ELSEWHERE_FROM: usize = 256 * 1024;

/// How one HTTP request is answered: its resolvers may write lists as
/// JSON, and [`HttpAnswers::body`] is the one way to its answer's bytes.
#[derive(Default)]
pub struct HttpAnswers(Arc<Prerendered>);

impl HttpAnswers {
    /// `request`, its resolvers allowed to write lists as JSON.
    pub fn prepare(&self, request: Request) -> Request {
        request.data(Arc::clone(&self.0))
    }

    /// The JSON body of `response`, with what its resolvers wrote in place
    /// and no `data` entry for a request that was not run (see
    /// [`is_request_error`]); its errors are logged here, once each.
    /// A large answer's values are freed off the calling thread.
    pub fn body(&self, response: BatchResponse) -> serde_json::Result<Vec<u8>> {
        super::error_log::log(&response);
        let serialized = match &response {
            BatchResponse::Single(one) => serde_json::to_vec(&Sent::of(one)),
            BatchResponse::Batch(all) => {
                serde_json::to_vec(&all.iter().map(Sent::of).collect::<Vec<_>>())
            }
        }?;
        let is_ok = response.is_ok();
        if serialized.len() >= FREE_ELSEWHERE_FROM {
            tokio::task::spawn_blocking(move || drop(response));
        }
        let (body, missing) = self.0.splice(serialized);
        if missing > 0 {
            if is_ok {
                // Only an error nulls a field: without one, this is a bug.
                tracing::error!(missing, "prerendered JSON had no placeholder in the answer");
            } else {
                tracing::debug!(missing, "prerendered JSON whose field an error nulled");
            }
        }
        Ok(body)
    }
}

/// Whether `response` answers a request that was not run: no data, and
/// no error of a field (those have a path). The GraphQL over HTTP spec
/// leaves `data` out of such an answer.
pub fn is_request_error(response: &Response) -> bool {
    response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

/// A response as it is sent.
#[derive(Serialize)]
#[serde(untagged)]
enum Sent<'a> {
    Ran(&'a Response),
    NotRun {
        errors: &'a [ServerError],
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        extensions: &'a BTreeMap<String, Value>,
    },
}

impl<'a> Sent<'a> {
    fn of(response: &'a Response) -> Self {
        if is_request_error(response) {
            Self::NotRun {
                errors: &response.errors,
                extensions: &response.extensions,
            }
        } else {
            Self::Ran(response)
        }
    }
}

/// The JSON answers of one HTTP request's resolvers, by placeholder.
pub(super) struct Prerendered {
    /// In every placeholder of this request.
    nonce: u128,
    rendered: Mutex<Vec<Vec<u8>>>,
}

impl Default for Prerendered {
    fn default() -> Self {
        Self {
            nonce: rand::random(),
            rendered: Mutex::default(),
        }
    }
}

impl Prerendered {
    /// Keeps `json` (one complete JSON value) and returns the placeholder
    /// to answer in its place.
    pub fn insert(&self, json: Vec<u8>) -> Value {
        let mut rendered = self.rendered.lock().expect("prerendered lock");
        rendered.push(json);
        Value::String(self.placeholder(rendered.len() - 1))
    }

    /// `body` with every placeholder (as a JSON string) replaced by its
    /// JSON, and how many were not in `body` (their fields nulled by an
    /// error elsewhere), whose JSON is left out.
    fn splice(&self, body: Vec<u8>) -> (Vec<u8>, usize) {
        let rendered = std::mem::take(&mut *self.rendered.lock().expect("prerendered lock"));
        if rendered.is_empty() {
            return (body, 0);
        }
        let mut found: Vec<(usize, usize, &[u8])> = Vec::with_capacity(rendered.len());
        for (index, json) in rendered.iter().enumerate() {
            let quoted = format!("\"{}\"", self.placeholder(index));
            if let Some(at) = memchr::memmem::find(&body, quoted.as_bytes()) {
                found.push((at, quoted.len(), json));
            }
        }
        let missing = rendered.len() - found.len();
        found.sort_unstable_by_key(|(at, ..)| *at);
        let extra: usize = found.iter().map(|(_, _, json)| json.len()).sum();
        let mut spliced = Vec::with_capacity(body.len() + extra);
        let mut copied = 0;
        for (at, quoted_len, json) in found {
            spliced.extend_from_slice(&body[copied..at]);
            spliced.extend_from_slice(json);
            copied = at + quoted_len;
        }
        spliced.extend_from_slice(&body[copied..]);
        (spliced, missing)
    }

    fn placeholder(&self, index: usize) -> String {
        format!("torrentql-prerendered-{:032x}:{index}", self.nonce)
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Name;
    use async_graphql::indexmap::IndexMap;

    use super::*;

    fn serialized(value: &Value) -> Vec<u8> {
        serde_json::to_vec(value).unwrap()
    }

    #[test]
    fn placeholders_are_replaced_wherever_they_ended_up() {
        let prerendered = Prerendered::default();
        let first = prerendered.insert(br#"[{"a":1}]"#.to_vec());
        let second = prerendered.insert(b"[]".to_vec());
        // Resolved in one order, serialized in the other.
        let object = |entries: Vec<(&str, Value)>| {
            Value::Object(IndexMap::from_iter(
                entries
                    .into_iter()
                    .map(|(key, value)| (Name::new(key), value)),
            ))
        };
        let response = object(vec![("data", object(vec![("b", second), ("a", first)]))]);
        let (body, missing) = prerendered.splice(serialized(&response));
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"data":{"b":[],"a":[{"a":1}]}}"#
        );
        assert_eq!(missing, 0);
    }

    #[test]
    fn a_missing_placeholder_is_skipped_and_nothing_else_changes() {
        let prerendered = Prerendered::default();
        prerendered.insert(b"[1]".to_vec());
        let body = br#"{"data":null,"errors":[{"message":"torrentql-prerendered-"}]}"#;
        assert_eq!(prerendered.splice(body.to_vec()), (body.to_vec(), 1));
    }

    #[test]
    fn each_request_has_its_own_placeholders() {
        let one = Prerendered::default().insert(Vec::new());
        let other = Prerendered::default().insert(Vec::new());
        assert_ne!(one, other);
    }
}
