//! qBittorrent as a whole: transfer and server state (from the mirror's
//! `server_state`), the global and alternative speed limits, and the
//! preferences a torrent UI shows most, read and set with the same
//! checks as elsewhere (save paths held to the allowed roots).

use std::sync::Arc;

use serde_json::{Map, json};

use super::actions::{MAX_RATIO_LIMIT, MAX_SEEDING_MINUTES};
use super::{POLL_INTERVAL, STATE_CHANGE_TIMEOUT, TorrentService, poll_every};
use crate::clients::qbittorrent::{Preferences, ServerState};
use crate::services::ServiceError;

/// Changes to the preferences; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreferenceChanges {
    /// Where torrents are saved unless told otherwise; under an allowed
    /// root.
    pub default_save_path: Option<String>,
    /// Torrent queueing on or off.
    pub queueing: Option<bool>,
    /// Most torrents downloading at once; -1 for no limit.
    pub max_active_downloads: Option<i64>,
    /// Most torrents uploading at once; -1 for no limit.
    pub max_active_uploads: Option<i64>,
    /// Most torrents active at once; -1 for no limit.
    pub max_active_torrents: Option<i64>,
    /// The global ratio limit; `Some(None)` for none.
    pub ratio_limit: Option<Option<f64>>,
    /// The global seeding time limit, minutes; `Some(None)` for none.
    pub seeding_time_limit: Option<Option<i64>>,
    /// The global inactive seeding time limit, minutes (qBittorrent 4.6
    /// and later); `Some(None)` for none.
    pub inactive_seeding_time_limit: Option<Option<i64>>,
    /// Global speed limits, bytes per second, 0 for none.
    pub download_limit: Option<i64>,
    /// See `download_limit`.
    pub upload_limit: Option<i64>,
    /// Alternative speed limits, bytes per second, 0 for none.
    pub alternative_download_limit: Option<i64>,
    /// See `alternative_download_limit`.
    pub alternative_upload_limit: Option<i64>,
}

impl TorrentService {
    /// The transfer and server state: the mirror's while fresh, else
    /// `transfer/info` (without all-time totals or free space).
    pub async fn server_state(&self) -> Result<Arc<ServerState>, ServiceError> {
        if let Some(state) = self.mirror.server_state() {
            return Ok(state);
        }
        let mut state = self.qbittorrent.transfer_info().await?;
        state.use_alt_speed_limits = Some(self.qbittorrent.alternative_speed_limits().await?);
        Ok(Arc::new(state))
    }

    /// Turns the alternative speed limits on or off (qBittorrent only
    /// toggles, so only when they are not as asked), and answers once
    /// qBittorrent shows it.
    pub async fn set_alternative_speed_limits(
        &self,
        enabled: bool,
    ) -> Result<Arc<ServerState>, ServiceError> {
        if self.qbittorrent.alternative_speed_limits().await? != enabled {
            self.qbittorrent.toggle_alternative_speed_limits().await?;
            let shown = poll_every(POLL_INTERVAL, STATE_CHANGE_TIMEOUT, || async {
                let now = self.qbittorrent.alternative_speed_limits().await?;
                Ok::<_, ServiceError>((now == enabled).then_some(()))
            })
            .await?;
            if shown.is_none() {
                tracing::warn!(
                    enabled,
                    "qBittorrent did not show the alternative speed mode in time"
                );
            }
            tracing::info!(enabled, "alternative speed limits switched");
        }
        let mut state = self.qbittorrent.transfer_info().await?;
        state.use_alt_speed_limits = Some(enabled);
        if let Some(synced) = self.mirror.server_state() {
            state.alltime_dl = synced.alltime_dl;
            state.alltime_ul = synced.alltime_ul;
            state.free_space_on_disk = synced.free_space_on_disk;
        }
        Ok(Arc::new(state))
    }

    /// qBittorrent's preferences a torrent UI shows most.
    pub async fn preferences(&self) -> Result<Preferences, ServiceError> {
        Ok(self.qbittorrent.preferences().await?)
    }

    /// Checks and applies `changes` in one call, and answers the
    /// preferences after it.
    pub async fn set_preferences(
        &self,
        changes: PreferenceChanges,
    ) -> Result<Preferences, ServiceError> {
        let current = self.qbittorrent.preferences().await?;
        let mut json = Map::new();
        if let Some(path) = &changes.default_save_path {
            let path = self.check_save_path(path).await?;
            json.insert("save_path".into(), json!(path.to_string_lossy()));
        }
        if let Some(queueing) = changes.queueing {
            json.insert("queueing_enabled".into(), json!(queueing));
        }
        for (name, field, value) in [
            (
                "max_active_downloads",
                "maxActiveDownloads",
                changes.max_active_downloads,
            ),
            (
                "max_active_uploads",
                "maxActiveUploads",
                changes.max_active_uploads,
            ),
            (
                "max_active_torrents",
                "maxActiveTorrents",
                changes.max_active_torrents,
            ),
        ] {
            if let Some(value) = value {
                if value < -1 {
                    return Err(ServiceError::InvalidInput(format!(
                        "{field} must be -1 (no limit) or more"
                    )));
                }
                json.insert(name.into(), json!(value));
            }
        }
        if let Some(ratio) = changes.ratio_limit {
            if let Some(ratio) = ratio
                && !(0.0..=MAX_RATIO_LIMIT).contains(&ratio)
            {
                return Err(ServiceError::InvalidInput(format!(
                    "the ratio limit must be from 0 to {MAX_RATIO_LIMIT}"
                )));
            }
            json.insert("max_ratio_enabled".into(), json!(ratio.is_some()));
            if let Some(ratio) = ratio {
                json.insert("max_ratio".into(), json!(ratio));
            }
        }
        let has_inactive_limit = current.max_inactive_seeding_time_enabled.is_some();
        if changes.inactive_seeding_time_limit.is_some() && !has_inactive_limit {
            return Err(ServiceError::InvalidInput(
                "this qBittorrent has no inactive seeding time limit (it came with qBittorrent 4.6): leave it out".to_owned(),
            ));
        }
        for (prefix, field, limit) in [
            (
                "max_seeding_time",
                "seedingTimeLimit",
                changes.seeding_time_limit,
            ),
            (
                "max_inactive_seeding_time",
                "inactiveSeedingTimeLimit",
                changes.inactive_seeding_time_limit,
            ),
        ] {
            let Some(limit) = limit else { continue };
            if let Some(minutes) = limit
                && !(0..=MAX_SEEDING_MINUTES).contains(&minutes)
            {
                return Err(ServiceError::InvalidInput(format!(
                    "{field} must be from 0 to {MAX_SEEDING_MINUTES} minutes"
                )));
            }
            json.insert(format!("{prefix}_enabled"), json!(limit.is_some()));
            if let Some(minutes) = limit {
                json.insert(prefix.into(), json!(minutes));
            }
        }
        for (name, limit) in [
            ("dl_limit", changes.download_limit),
            ("up_limit", changes.upload_limit),
            ("alt_dl_limit", changes.alternative_download_limit),
            ("alt_up_limit", changes.alternative_upload_limit),
        ] {
            if let Some(limit) = limit {
                if limit < 0 {
                    return Err(ServiceError::InvalidInput(
                        "speed limits must be 0 (no limit) or more bytes per second".to_owned(),
                    ));
                }
                json.insert(name.into(), json!(limit));
            }
        }
        if json.is_empty() {
            return Ok(current);
        }
        self.qbittorrent.set_preferences(&json).await?;
        tracing::info!(changed = ?json.keys().collect::<Vec<_>>(), "qBittorrent preferences changed");
        Ok(self.qbittorrent.preferences().await?)
    }
}
