//! What qBittorrent does to many torrents in one call: each action, and
//! the endpoint and form it is sent as on a given WebAPI version.

use std::net::SocketAddr;

use super::models::ApiVersion;

/// A change qBittorrent applies to every torrent of one call.
#[derive(Debug, Clone, PartialEq)]
pub enum TorrentAction {
    /// Pause (4.x) or stop (5.x).
    Pause,
    /// Resume (4.x) or start (5.x).
    Resume,
    /// Remove the torrents, and their data with `delete_files`.
    Delete {
        /// Also delete the downloaded data.
        delete_files: bool,
    },
    /// Put them in a category that exists (qBittorrent refuses others);
    /// empty for none.
    SetCategory(String),
    /// Add these tags (qBittorrent creates the missing ones).
    AddTags(Vec<String>),
    /// Take these tags off.
    RemoveTags(Vec<String>),
    /// Replace the tags with these (WebAPI 2.11.4, qBittorrent 5.1, and
    /// later; see [`ApiVersion::has_set_tags`]).
    SetTags(Vec<String>),
    /// Start ignoring the queue limits, or stop.
    SetForceStart(bool),
    /// Check the downloaded data again.
    Recheck,
    /// Announce to the trackers now.
    Reannounce,
    /// Flip sequential download (qBittorrent only toggles).
    ToggleSequentialDownload,
    /// Flip the first-and-last-piece priority (qBittorrent only toggles).
    ToggleFirstLastPiecePriority,
    /// Turn super seeding on or off (complete torrents only).
    SetSuperSeeding(bool),
    /// Turn automatic torrent management on or off.
    SetAutomaticManagement(bool),
    /// Move them in the download queue.
    Queue(QueueMove),
    /// Move their data to this absolute path.
    SetLocation(String),
    /// Bytes per second; 0 for no limit.
    SetDownloadLimit(i64),
    /// Bytes per second; 0 for no limit.
    SetUploadLimit(i64),
    /// The share limits, each in qBittorrent's encoding (see [`ShareLimit`]).
    SetShareLimits {
        /// Uploaded over downloaded.
        ratio: ShareLimit<f64>,
        /// Minutes of seeding.
        seeding_minutes: ShareLimit<i64>,
        /// Minutes of seeding without traffic; `None` on a qBittorrent
        /// without that limit (before 4.6), which refuses the field.
        inactive_seeding_minutes: Option<ShareLimit<i64>>,
    },
    /// Connect to these peers (a hash qBittorrent does not list yet is
    /// ignored).
    AddPeers(Vec<SocketAddr>),
}

/// Where in the queue [`TorrentAction::Queue`] moves torrents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueMove {
    /// To the front.
    Top,
    /// To the back.
    Bottom,
    /// One place forward.
    Up,
    /// One place back.
    Down,
}

/// One share limit of a torrent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShareLimit<T> {
    /// qBittorrent's global limit applies (`-2`).
    Global,
    /// No limit (`-1`).
    Unlimited,
    /// This limit.
    Limited(T),
}

impl ShareLimit<f64> {
    /// From qBittorrent's `ratio_limit`.
    pub fn from_ratio(value: f64) -> Self {
        if value <= -1.5 {
            Self::Global
        } else if value < 0.0 {
            Self::Unlimited
        } else {
            Self::Limited(value)
        }
    }

    fn encode(self) -> String {
        match self {
            Self::Global => "-2".to_owned(),
            Self::Unlimited => "-1".to_owned(),
            Self::Limited(ratio) => ratio.to_string(),
        }
    }
}

impl ShareLimit<i64> {
    /// From qBittorrent's `seeding_time_limit` and the like.
    pub fn from_minutes(value: i64) -> Self {
        match value {
            ..=-2 => Self::Global,
            -1 => Self::Unlimited,
            minutes => Self::Limited(minutes),
        }
    }

    fn encode(self) -> String {
        match self {
            Self::Global => "-2".to_owned(),
            Self::Unlimited => "-1".to_owned(),
            Self::Limited(minutes) => minutes.to_string(),
        }
    }
}

impl TorrentAction {
    /// The endpoint under `api/v2/` this action posts to.
    pub(super) fn endpoint(&self, api: ApiVersion) -> &'static str {
        match self {
            Self::Pause if api.uses_start_stop() => "torrents/stop",
            Self::Pause => "torrents/pause",
            Self::Resume if api.uses_start_stop() => "torrents/start",
            Self::Resume => "torrents/resume",
            Self::Delete { .. } => "torrents/delete",
            Self::SetCategory(_) => "torrents/setCategory",
            Self::AddTags(_) => "torrents/addTags",
            Self::RemoveTags(_) => "torrents/removeTags",
            Self::SetTags(_) => "torrents/setTags",
            Self::SetForceStart(_) => "torrents/setForceStart",
            Self::Recheck => "torrents/recheck",
            Self::Reannounce => "torrents/reannounce",
            Self::ToggleSequentialDownload => "torrents/toggleSequentialDownload",
            Self::ToggleFirstLastPiecePriority => "torrents/toggleFirstLastPiecePrio",
            Self::SetSuperSeeding(_) => "torrents/setSuperSeeding",
            Self::SetAutomaticManagement(_) => "torrents/setAutoManagement",
            Self::Queue(QueueMove::Top) => "torrents/topPrio",
            Self::Queue(QueueMove::Bottom) => "torrents/bottomPrio",
            Self::Queue(QueueMove::Up) => "torrents/increasePrio",
            Self::Queue(QueueMove::Down) => "torrents/decreasePrio",
            Self::SetLocation(_) => "torrents/setLocation",
            Self::SetDownloadLimit(_) => "torrents/setDownloadLimit",
            Self::SetUploadLimit(_) => "torrents/setUploadLimit",
            Self::SetShareLimits { .. } => "torrents/setShareLimits",
            Self::AddPeers(_) => "torrents/addPeers",
        }
    }

    /// The form fields beside `hashes`.
    pub(super) fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Pause
            | Self::Resume
            | Self::Recheck
            | Self::Reannounce
            | Self::ToggleSequentialDownload
            | Self::ToggleFirstLastPiecePriority
            | Self::Queue(_) => Vec::new(),
            Self::Delete { delete_files } => vec![("deleteFiles", delete_files.to_string())],
            Self::SetCategory(category) => vec![("category", category.clone())],
            Self::AddTags(tags) | Self::RemoveTags(tags) | Self::SetTags(tags) => {
                vec![("tags", tags.join(","))]
            }
            Self::SetForceStart(value) | Self::SetSuperSeeding(value) => {
                vec![("value", value.to_string())]
            }
            Self::SetAutomaticManagement(enable) => vec![("enable", enable.to_string())],
            Self::SetLocation(location) => vec![("location", location.clone())],
            Self::SetDownloadLimit(limit) | Self::SetUploadLimit(limit) => {
                vec![("limit", limit.to_string())]
            }
            Self::SetShareLimits {
                ratio,
                seeding_minutes,
                inactive_seeding_minutes,
            } => {
                let mut fields = vec![
                    ("ratioLimit", ratio.encode()),
                    ("seedingTimeLimit", seeding_minutes.encode()),
                ];
                if let Some(inactive) = inactive_seeding_minutes {
                    fields.push(("inactiveSeedingTimeLimit", inactive.encode()));
                }
                fields
            }
            Self::AddPeers(peers) => {
                let peers: Vec<String> = peers.iter().map(SocketAddr::to_string).collect();
                vec![("peers", peers.join("|"))]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_and_resume_follow_the_api_version() {
        let v4 = ApiVersion::parse("2.8.19").unwrap();
        let v5 = ApiVersion::parse("2.11.4").unwrap();
        assert_eq!(TorrentAction::Pause.endpoint(v4), "torrents/pause");
        assert_eq!(TorrentAction::Pause.endpoint(v5), "torrents/stop");
        assert_eq!(TorrentAction::Resume.endpoint(v4), "torrents/resume");
        assert_eq!(TorrentAction::Resume.endpoint(v5), "torrents/start");
    }

    #[test]
    fn share_limits_use_qbittorrent_sentinels() {
        let action = TorrentAction::SetShareLimits {
            ratio: ShareLimit::Limited(1.5),
            seeding_minutes: ShareLimit::Unlimited,
            inactive_seeding_minutes: Some(ShareLimit::Global),
        };
        assert_eq!(
            action.fields(),
            [
                ("ratioLimit", "1.5".to_owned()),
                ("seedingTimeLimit", "-1".to_owned()),
                ("inactiveSeedingTimeLimit", "-2".to_owned()),
            ]
        );
        assert_eq!(ShareLimit::from_ratio(-2.0), ShareLimit::Global);
        assert_eq!(ShareLimit::from_ratio(-1.0), ShareLimit::Unlimited);
        assert_eq!(ShareLimit::from_ratio(0.0), ShareLimit::Limited(0.0));
        assert_eq!(ShareLimit::from_minutes(-2), ShareLimit::Global);
        assert_eq!(ShareLimit::from_minutes(90), ShareLimit::Limited(90));
    }
}
