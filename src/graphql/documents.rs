//! Parsed queries: parsed and held to their shape limits off the threads
//! that answer requests, then kept for the next request with the same text.
//!
//! Clients send the same few queries again and again, and parsing one
//! costs more than answering it from the mirror: a quarter of the CPU time
//! of a `torrent(hash)` request went to async-graphql's parser. A parsed
//! document is kept per query text, up to [`CAPACITY_BYTES`] of text.
//!
//! A new text is parsed and measured on the blocking pool, at most
//! [`PARALLEL_PREPARATIONS`] at a time, so that however many large queries
//! arrive at once, `/healthz` and queries already prepared keep answering.

use std::sync::Arc;

use async_graphql::parser::parse_query;
use async_graphql::parser::types::ExecutableDocument;
use moka::sync::Cache;
use tokio::sync::Semaphore;

use super::shape::{self, ShapeLimits};
use crate::config::LimitsConfig;
use crate::error::AppError;

/// Query text kept, in bytes (what a document takes grows with its text).
const CAPACITY_BYTES: u64 = 4 * 1024 * 1024;

/// New query texts parsed at once; the others wait (and are dropped,
/// unparsed, when their client goes away).
const PARALLEL_PREPARATIONS: usize = 2;

/// What became of a query text.
pub enum Prepared {
    /// Parsed, and within the shape limits; shared with the cache.
    Document(Arc<ExecutableDocument>),
    /// Parsed, but refused for its shape.
    Refused(AppError),
    /// Not GraphQL: why, as async-graphql reports it.
    Unparsable(async_graphql::ServerError),
}

/// Parsed documents by query text.
pub struct ParsedQueries {
    documents: Cache<String, Arc<ExecutableDocument>>,
    limits: ShapeLimits,
    preparing: Arc<Semaphore>,
}

impl ParsedQueries {
    /// An empty cache whose documents are held to `limits`.
    pub fn new(limits: &LimitsConfig) -> Self {
        Self::with_shape_limits(ShapeLimits {
            max_fields: limits.max_fields,
            max_depth: limits.max_depth,
        })
    }

    fn with_shape_limits(limits: ShapeLimits) -> Self {
        Self {
            documents: Cache::builder()
                .weigher(|query: &String, _: &Arc<ExecutableDocument>| {
                    u32::try_from(query.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(CAPACITY_BYTES)
                .build(),
            limits,
            preparing: Arc::new(Semaphore::new(PARALLEL_PREPARATIONS)),
        }
    }

    /// The document for `query`, prepared now or before.
    pub async fn prepare(&self, query: &str) -> Prepared {
        if let Some(document) = self.documents.get(query) {
            return Prepared::Document(document);
        }
        let Ok(permit) = Arc::clone(&self.preparing).acquire_owned().await else {
            unreachable!("the semaphore is never closed");
        };
        // Another request may have prepared the same text meanwhile.
        if let Some(document) = self.documents.get(query) {
            return Prepared::Document(document);
        }
        let text = query.to_owned();
        let limits = self.limits;
        let prepared = tokio::task::spawn_blocking(move || {
            // Held by the work itself: a request dropped meanwhile (its
            // client gone) does not free the place while the parse runs.
            let _permit = permit;
            let document = match parse_query(&text) {
                Ok(document) => document,
                Err(error) => return Prepared::Unparsable(error.into()),
            };
            match shape::refusal(&document, limits) {
                Some(refusal) => Prepared::Refused(refusal),
                None => Prepared::Document(Arc::new(document)),
            }
        })
        .await;
        match prepared {
            Ok(Prepared::Document(document)) => {
                self.documents
                    .insert(query.to_owned(), Arc::clone(&document));
                Prepared::Document(document)
            }
            Ok(not_prepared) => not_prepared,
            Err(error) => Prepared::Refused(AppError::Internal(format!(
                "preparing a query failed: {error}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ShapeLimits = ShapeLimits {
        max_fields: 100,
        max_depth: 10,
    };

    #[tokio::test]
    async fn a_query_is_parsed_once_and_a_bad_one_never_kept() {
        let queries = ParsedQueries::with_shape_limits(LIMITS);
        let Prepared::Document(first) = queries.prepare("{ torrents { hash } }").await else {
            panic!("the query parses");
        };
        let Prepared::Document(again) = queries.prepare("{ torrents { hash } }").await else {
            panic!("the query parses");
        };
        assert!(Arc::ptr_eq(&first, &again), "parsed once, then shared");
        queries.documents.run_pending_tasks();
        assert_eq!(queries.documents.entry_count(), 1);

        assert!(matches!(
            queries.prepare("{ torrents { hash }").await,
            Prepared::Unparsable(_)
        ));
        let too_many = format!("{{ {} }}", "viewer { subject } ".repeat(60));
        assert!(matches!(
            queries.prepare(&too_many).await,
            Prepared::Refused(AppError::BadUserInput(_))
        ));
        queries.documents.run_pending_tasks();
        assert_eq!(queries.documents.entry_count(), 1);
    }
}
