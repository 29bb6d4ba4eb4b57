//! JSON a resolver writes itself, spliced into the serialized response.
//!
//! async-graphql answers with a tree of [`Value`]s that is serialized
//! afterwards. For a list of 10,000 torrents that is 10,000 maps of ten or
//! more values each, built, walked and freed: most of the time such a list
//! took. A resolver that can write its answer as JSON directly (the plain
//! selections of [`super::torrent::Torrents`]) hands the JSON to
//! [`Prerendered`] and answers a placeholder string instead; the HTTP
//! handler serializes the response, then puts each JSON where its
//! placeholder is.
//!
//! Placeholders carry a random nonce drawn for each HTTP request, so no
//! string in the data can pass for one. Only the HTTP handler provides a
//! [`Prerendered`]: without one (websocket events, tests of the schema)
//! resolvers answer `Value`s as usual.

use std::sync::Mutex;

use async_graphql::Value;

/// The JSON answers of one HTTP request's resolvers, by placeholder.
pub struct Prerendered {
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
    /// JSON. A placeholder that is not in `body` (its field was nulled by
    /// an error elsewhere) is left out.
    pub fn splice(&self, body: Vec<u8>) -> Vec<u8> {
        let rendered = std::mem::take(&mut *self.rendered.lock().expect("prerendered lock"));
        if rendered.is_empty() {
            return body;
        }
        let mut found: Vec<(usize, usize, &[u8])> = Vec::with_capacity(rendered.len());
        for (index, json) in rendered.iter().enumerate() {
            let quoted = format!("\"{}\"", self.placeholder(index));
            if let Some(at) = memchr::memmem::find(&body, quoted.as_bytes()) {
                found.push((at, quoted.len(), json));
            }
        }
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
        spliced
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
        let body = prerendered.splice(serialized(&response));
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"data":{"b":[],"a":[{"a":1}]}}"#
        );
    }

    #[test]
    fn a_missing_placeholder_is_skipped_and_nothing_else_changes() {
        let prerendered = Prerendered::default();
        prerendered.insert(b"[1]".to_vec());
        let body = br#"{"data":null,"errors":[{"message":"torrentql-prerendered-"}]}"#;
        assert_eq!(prerendered.splice(body.to_vec()), body);
    }

    #[test]
    fn each_request_has_its_own_placeholders() {
        let one = Prerendered::default().insert(Vec::new());
        let other = Prerendered::default().insert(Vec::new());
        assert_ne!(one, other);
    }
}
