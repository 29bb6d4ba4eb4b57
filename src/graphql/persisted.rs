//! Automatic persisted queries, as Apollo's clients send them: a request
//! may carry `extensions.persistedQuery.sha256Hash` instead of its query
//! text, once the text was sent with that hash before.
//!
//! async-graphql's own extension resolves hashes inside the schema's
//! execution, after torrentql's checks of the query text (introspection,
//! shape limits) would have run on an empty text; here the hash turns into
//! the text first, and every check runs on it as for any request.

use std::sync::Arc;

use async_graphql::Request;
use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// The extension's name in the request's `extensions`.
const EXTENSION: &str = "persistedQuery";

/// Query text kept by hash, in bytes.
const CAPACITY_BYTES: u64 = 4 * 1024 * 1024;

/// What a request's `persistedQuery` extension asks for.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PersistedQuery {
    version: u32,
    sha256_hash: String,
}

/// A hash the request sent with its text: kept once the text turned out
/// to be a query worth keeping.
#[must_use = "register the hash once the query is prepared"]
pub struct Registration(String);

/// Query texts by their SHA-256 hash, least recently used out first.
pub struct PersistedQueries {
    texts: Cache<String, Arc<str>>,
}

impl Default for PersistedQueries {
    fn default() -> Self {
        Self::with_capacity(CAPACITY_BYTES)
    }
}

impl PersistedQueries {
    fn with_capacity(bytes: u64) -> Self {
        Self {
            texts: Cache::builder()
                .weigher(|hash: &String, text: &Arc<str>| {
                    u32::try_from(hash.len() + text.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(bytes)
                .eviction_policy(EvictionPolicy::lru())
                .build(),
        }
    }

    /// Gives `request` its query text from the hash it names, or checks
    /// the hash of the text it sent (then returns the hash to
    /// [`register`](Self::register)). Requests without the extension pass
    /// unchanged.
    pub fn resolve(&self, request: &mut Request) -> Result<Option<Registration>, AppError> {
        let Some(extension) = request.extensions.remove(EXTENSION) else {
            return Ok(None);
        };
        let persisted: PersistedQuery = extension
            .into_json()
            .ok()
            .and_then(|json| serde_json::from_value(json).ok())
            .ok_or_else(|| {
                AppError::BadUserInput(
                    "extensions.persistedQuery must be { version: 1, sha256Hash: \"<hex>\" }"
                        .to_owned(),
                )
            })?;
        if persisted.version != 1 {
            return Err(AppError::BadUserInput(format!(
                "persisted queries of version {} are not supported; send version 1",
                persisted.version
            )));
        }
        let hash = persisted.sha256_hash.to_ascii_lowercase();
        if request.query.is_empty() {
            let text = self
                .texts
                .get(&hash)
                .ok_or(AppError::PersistedQueryNotFound)?;
            request.query = text.to_string();
            return Ok(None);
        }
        let actual = data_encoding::HEXLOWER.encode(&Sha256::digest(request.query.as_bytes()));
        if actual != hash {
            return Err(AppError::BadUserInput(
                "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query".to_owned(),
            ));
        }
        Ok(Some(Registration(hash)))
    }

    /// Keeps `query` under the hash it was sent with.
    pub fn register(&self, registration: Registration, query: &str) {
        self.texts.insert(registration.0, Arc::from(query));
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Value;

    use super::*;

    fn hashed(query: &str) -> String {
        data_encoding::HEXLOWER.encode(&Sha256::digest(query.as_bytes()))
    }

    fn request(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        request.extensions.insert(
            EXTENSION.to_owned(),
            Value::from_json(serde_json::json!({ "version": 1, "sha256Hash": hash })).unwrap(),
        );
        request
    }

    #[test]
    fn a_hash_works_once_its_text_was_registered() {
        let persisted = PersistedQueries::default();
        let query = "{ viewer { subject } }";
        let mut hash_only = request("", &hashed(query));
        assert_eq!(
            persisted.resolve(&mut hash_only).err(),
            Some(AppError::PersistedQueryNotFound)
        );

        let mut registering = request(query, &hashed(query));
        let registration = persisted.resolve(&mut registering).unwrap().unwrap();
        assert!(
            registering.extensions.is_empty(),
            "the extension is consumed"
        );
        persisted.register(registration, &registering.query);

        let mut hash_only = request("", &hashed(query));
        assert!(persisted.resolve(&mut hash_only).unwrap().is_none());
        assert_eq!(hash_only.query, query);
    }

    #[test]
    fn a_wrong_hash_or_version_is_refused() {
        let persisted = PersistedQueries::default();
        let mut wrong = request("{ viewer { subject } }", &hashed("{ other }"));
        assert!(matches!(
            persisted.resolve(&mut wrong),
            Err(AppError::BadUserInput(message)) if message.contains("not the SHA-256")
        ));
        let mut plain = Request::new("{ viewer { subject } }");
        assert!(persisted.resolve(&mut plain).unwrap().is_none());
        assert_eq!(plain.query, "{ viewer { subject } }");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let capacity = 4 * 1024;
        let persisted = PersistedQueries::with_capacity(capacity);
        for index in 0..1_000 {
            let query = format!("{{ torrent(hash: \"{index:040}\") {{ name }} }}");
            let mut registering = request(&query, &hashed(&query));
            let registration = persisted.resolve(&mut registering).unwrap().unwrap();
            persisted.register(registration, &query);
        }
        persisted.texts.run_pending_tasks();
        assert!(persisted.texts.weighted_size() <= capacity);
        assert!(persisted.texts.entry_count() < 1_000);
        // Least recently used out first: the newest is still there.
        let newest = format!("{{ torrent(hash: \"{:040}\") {{ name }} }}", 999);
        let mut hash_only = request("", &hashed(&newest));
        assert!(persisted.resolve(&mut hash_only).is_ok());
    }
}
