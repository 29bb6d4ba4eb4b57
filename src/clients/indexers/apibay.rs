//! apibay: `GET {base}/q.php?q=<query>&cat=<code>`, a JSON array of rows.
//!
//! Quirks handled: every value is a string (some mirrors send numbers),
//! "no results" is one row with `id` "0" and an all-zero hash, hashes are
//! uppercase, and names carry HTML entities (`&amp;`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::{IndexerError, http_client, status_error, transport_error};
use crate::torrent::InfoHash;

/// The public apibay instance.
pub const DEFAULT_URL: &str = "https://apibay.org";

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct ApibayRow {
    /// The v1 info hash.
    pub info_hash: InfoHash,
    /// HTML entities decoded.
    pub name: String,
    /// Peers with the whole torrent.
    pub seeders: u64,
    /// Peers still downloading.
    pub leechers: u64,
    /// Bytes.
    pub size: i64,
    /// How many files; `None` when apibay does not say.
    pub files: Option<u64>,
    /// Who uploaded it.
    pub uploader: Option<String>,
    /// `vip`, `trusted`, `member`, ...
    pub uploader_status: Option<String>,
    /// When it was uploaded.
    pub added_at: Option<DateTime<Utc>>,
    /// apibay's category code, e.g. `201`.
    pub category: String,
    /// The IMDb id (`tt0111161`), when apibay has one.
    pub imdb_id: Option<String>,
}

/// A client for one apibay instance.
pub struct ApibayClient {
    http: reqwest::Client,
    base_url: Url,
}

impl ApibayClient {
    /// A client for the apibay at `base_url`, each request bounded by `timeout`.
    pub fn new(base_url: Url, timeout: Duration) -> reqwest::Result<Self> {
        Ok(Self {
            http: http_client(timeout)?,
            base_url,
        })
    }

    /// Searches one category code (0 for all).
    pub async fn search(&self, query: &str, category: u32) -> Result<Vec<ApibayRow>, IndexerError> {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| IndexerError::Malformed("the apibay URL cannot have a path".to_owned()))?
            .pop_if_empty()
            .push("q.php");
        url.query_pairs_mut()
            .append_pair("q", query)
            .append_pair("cat", &category.to_string());
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|error| transport_error(&error))?;
        if !response.status().is_success() {
            return Err(status_error(response.status()));
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| transport_error(&error))?;
        parse(&body)
    }
}

/// Parses an apibay answer.
pub fn parse(body: &[u8]) -> Result<Vec<ApibayRow>, IndexerError> {
    let rows: Vec<RawRow> = serde_json::from_slice(body)
        .map_err(|error| IndexerError::Malformed(format!("not an apibay answer: {error}")))?;
    Ok(rows.into_iter().filter_map(RawRow::into_row).collect())
}

/// A string, or a number from the mirrors that send numbers.
#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    String(String),
    Integer(i64),
    Float(f64),
}

impl Text {
    fn into_string(self) -> String {
        match self {
            Self::String(text) => text,
            Self::Integer(number) => number.to_string(),
            Self::Float(number) => number.to_string(),
        }
    }

    fn number(&self) -> Option<i64> {
        match self {
            Self::String(text) => text.trim().parse().ok(),
            Self::Integer(number) => Some(*number),
            #[allow(
                clippy::cast_possible_truncation,
                reason = "apibay counts are whole numbers"
            )]
            Self::Float(number) => Some(*number as i64),
        }
    }
}

#[derive(Deserialize)]
struct RawRow {
    id: Option<Text>,
    name: Option<Text>,
    info_hash: Option<Text>,
    leechers: Option<Text>,
    seeders: Option<Text>,
    size: Option<Text>,
    num_files: Option<Text>,
    username: Option<Text>,
    added: Option<Text>,
    status: Option<Text>,
    category: Option<Text>,
    imdb: Option<Text>,
}

impl RawRow {
    /// `None` for the "no results" row and rows without a usable hash.
    fn into_row(self) -> Option<ApibayRow> {
        let info_hash: InfoHash = self.info_hash?.into_string().parse().ok()?;
        let id = self.id.as_ref().and_then(Text::number);
        if info_hash.is_zero() || id == Some(0) {
            return None;
        }
        let count = |field: &Option<Text>| {
            field
                .as_ref()
                .and_then(Text::number)
                .map(|n| n.max(0).unsigned_abs())
        };
        let text = |field: Option<Text>| {
            field
                .map(Text::into_string)
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty())
        };
        Some(ApibayRow {
            info_hash,
            name: html_escape::decode_html_entities(&text(self.name).unwrap_or_default())
                .into_owned(),
            seeders: count(&self.seeders).unwrap_or(0),
            leechers: count(&self.leechers).unwrap_or(0),
            size: self
                .size
                .as_ref()
                .and_then(Text::number)
                .unwrap_or(0)
                .max(0),
            files: count(&self.num_files).filter(|files| *files > 0),
            added_at: self
                .added
                .as_ref()
                .and_then(Text::number)
                .filter(|seconds| *seconds > 0)
                .and_then(|seconds| DateTime::from_timestamp(seconds, 0)),
            uploader: text(self.username),
            uploader_status: text(self.status),
            category: text(self.category).unwrap_or_default(),
            imdb_id: text(self.imdb),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_string_rows_with_entities_and_uppercase_hashes() {
        let rows = parse(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/upstream/apibay-search-ubuntu.json"
        )))
        .unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(
            rows[0].info_hash.to_string(),
            "232cd67eb3ffbd7c37bf9ec3ee887417e5ae1ee6"
        );
        assert_eq!(rows[0].seeders, 40);
        assert_eq!(rows[0].size, 8_554_738);
        assert_eq!(rows[0].uploader_status.as_deref(), Some("vip"));
        assert!(rows.iter().all(|row| !row.name.contains("&amp;")));
        assert!(
            rows.iter().any(|row| row.name.contains('&')),
            "the fixture's entity decodes to &"
        );
    }

    #[test]
    fn the_no_results_row_is_an_empty_list() {
        let rows = parse(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/upstream/apibay-no-results.json"
        )))
        .unwrap();
        assert!(rows.is_empty());
    }

    #[test]
    fn numbers_are_accepted_where_strings_are_expected() {
        let rows = parse(br#"[{"id":5,"name":"x","info_hash":"2C6B6858D61DA9543D4231A71DB4B1C9264B0685","leechers":3,"seeders":31,"size":3654957056,"num_files":1,"username":"u","added":1652877231,"status":"vip","category":303,"imdb":""}]"#).unwrap();
        assert_eq!(rows[0].seeders, 31);
        assert_eq!(rows[0].size, 3_654_957_056);
        assert_eq!(rows[0].category, "303");
        assert_eq!(rows[0].imdb_id, None);
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        assert!(matches!(parse(b"<html>"), Err(IndexerError::Malformed(_))));
        assert!(matches!(parse(b"{}"), Err(IndexerError::Malformed(_))));
        assert_eq!(parse(br#"[{"info_hash":"nothex"}]"#).unwrap(), vec![]);
    }
}
