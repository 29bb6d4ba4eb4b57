//! `[sync]`: how often the one mirror of qBittorrent is brought up to date.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Problems;
use super::lenient;
use super::values::parse_duration;

/// How the one mirror of qBittorrent is kept up to date.
#[derive(Debug, Clone, Serialize)]
pub struct SyncConfig {
    /// Shortest time between two syncs.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Largest share of qBittorrent's time torrentql's syncs may take; a
    /// slow sync stretches the interval to keep under it.
    pub max_busy_share: f64,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawSync {
    #[serde(deserialize_with = "lenient::string")]
    interval: String,
    max_busy_share: f64,
}

impl Default for RawSync {
    fn default() -> Self {
        Self {
            interval: "1s".to_owned(),
            max_busy_share: 0.1,
        }
    }
}

impl RawSync {
    pub(super) fn validate(self, problems: &mut Problems) -> Option<SyncConfig> {
        if !(self.max_busy_share > 0.0 && self.max_busy_share <= 1.0) {
            problems.add("sync.max_busy_share", "must be above 0 and at most 1");
        }
        let interval = problems.check(
            "sync.interval",
            parse_duration(&self.interval, Duration::from_secs(600)),
        )?;
        Some(SyncConfig {
            interval,
            max_busy_share: self.max_busy_share,
        })
    }
}
