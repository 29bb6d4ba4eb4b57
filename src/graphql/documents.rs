//! Parsed queries, kept for the next request that sends the same text.
//!
//! Clients send the same few queries again and again, and parsing one
//! costs more than answering it from the mirror: a quarter of the CPU time
//! of a `torrent(hash)` request went to async-graphql's parser. A parsed
//! document is kept per query text, up to [`CAPACITY_BYTES`] of text.

use std::sync::Arc;

use async_graphql::parser::parse_query;
use async_graphql::parser::types::ExecutableDocument;
use moka::sync::Cache;

/// Query text kept, in bytes (what a document takes grows with its text).
const CAPACITY_BYTES: u64 = 4 * 1024 * 1024;

/// Parsed documents by query text.
pub struct ParsedQueries(Cache<String, Arc<ExecutableDocument>>);

impl Default for ParsedQueries {
    fn default() -> Self {
        Self(
            Cache::builder()
                .weigher(|query: &String, _: &Arc<ExecutableDocument>| {
                    u32::try_from(query.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(CAPACITY_BYTES)
                .build(),
        )
    }
}

impl ParsedQueries {
    /// The document for `query`, parsed now or before; `None` when it does
    /// not parse (the schema then reports why).
    pub fn parse(&self, query: &str) -> Option<ExecutableDocument> {
        if let Some(document) = self.0.get(query) {
            return Some(ExecutableDocument::clone(&document));
        }
        let document = parse_query(query).ok()?;
        self.0.insert(query.to_owned(), Arc::new(document.clone()));
        Some(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_parsed_once_and_a_bad_one_never_kept() {
        let queries = ParsedQueries::default();
        let first = queries.parse("{ torrents { hash } }").unwrap();
        let again = queries.parse("{ torrents { hash } }").unwrap();
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        queries.0.run_pending_tasks();
        assert_eq!(queries.0.entry_count(), 1);

        assert!(queries.parse("{ torrents { hash }").is_none());
        queries.0.run_pending_tasks();
        assert_eq!(queries.0.entry_count(), 1);
    }
}
