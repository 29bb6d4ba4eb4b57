//! `[limits]`: bounds on what one request may cost.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Problems;
use super::lenient;
use super::values::parse_duration;

/// Bounds on what one request may cost.
#[derive(Debug, Clone, Serialize)]
pub struct LimitsConfig {
    /// Deepest selection nesting accepted.
    pub max_depth: usize,
    /// Highest query complexity (one point per field) accepted.
    pub max_complexity: usize,
    /// Most selections (fields, fragment spreads, inline fragments) in a
    /// query document once its fragments are expanded.
    pub max_fields: usize,
    /// Longest query text (variables not included).
    pub max_query_bytes: usize,
    /// Largest request body, uploads included.
    pub max_request_bytes: usize,
    /// Largest `.torrent` upload (or download from a URL).
    pub max_upload_bytes: usize,
    /// Most files a `.torrent` may list.
    pub max_torrent_files: usize,
    /// Most operations in one batch request.
    pub max_batch: usize,
    /// Longest a request may run.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawLimits {
    max_depth: usize,
    max_complexity: usize,
    max_fields: usize,
    max_query_bytes: usize,
    max_request_bytes: usize,
    max_upload_bytes: usize,
    max_torrent_files: usize,
    max_batch: usize,
    #[serde(deserialize_with = "lenient::string")]
    request_timeout: String,
}

impl Default for RawLimits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 1000,
            max_fields: 2000,
            max_query_bytes: 64 * 1024,
            max_request_bytes: 10 * 1024 * 1024,
            max_upload_bytes: crate::torrent::MAX_TORRENT_FILE_BYTES,
            max_torrent_files: crate::torrent::MAX_TORRENT_FILES,
            max_batch: 10,
            request_timeout: "60s".to_owned(),
        }
    }
}

impl RawLimits {
    pub(super) fn validate(self, problems: &mut Problems) -> Option<LimitsConfig> {
        for (key, value) in [
            ("limits.max_depth", self.max_depth),
            ("limits.max_complexity", self.max_complexity),
            ("limits.max_fields", self.max_fields),
            ("limits.max_query_bytes", self.max_query_bytes),
            ("limits.max_request_bytes", self.max_request_bytes),
            ("limits.max_upload_bytes", self.max_upload_bytes),
            ("limits.max_torrent_files", self.max_torrent_files),
            ("limits.max_batch", self.max_batch),
        ] {
            if value == 0 {
                problems.add(key, "must be at least 1");
            }
        }
        if self.max_upload_bytes > self.max_request_bytes {
            problems.add(
                "limits.max_upload_bytes",
                "must not exceed limits.max_request_bytes",
            );
        }
        let request_timeout = problems.check(
            "limits.request_timeout",
            parse_duration(&self.request_timeout, Duration::from_secs(3600)),
        )?;
        Some(LimitsConfig {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            max_fields: self.max_fields,
            max_query_bytes: self.max_query_bytes,
            max_request_bytes: self.max_request_bytes,
            max_upload_bytes: self.max_upload_bytes,
            max_torrent_files: self.max_torrent_files,
            max_batch: self.max_batch,
            request_timeout,
        })
    }
}

impl LimitsConfig {
    /// What a `.torrent` file may hold.
    pub fn torrent(&self) -> crate::torrent::TorrentLimits {
        crate::torrent::TorrentLimits {
            max_bytes: self.max_upload_bytes,
            max_files: self.max_torrent_files,
        }
    }
}
