//! qBittorrent's JSON objects, typed, with its sentinel values decoded.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::torrent::{InfoHash, InfoHashV2};

/// qBittorrent reports an unknown ETA as 8,640,000 seconds (100 days).
const ETA_UNKNOWN: i64 = 8_640_000;

/// Declares [`Torrent`] as written, and [`Torrent::take_field`]: the one
/// match from a qBittorrent field name to a field, so a field added to the
/// struct is merged from `sync/maindata` changes too.
macro_rules! torrent_with_named_fields {
    (
        $(#[$meta:meta])*
        pub struct Torrent {
            $( $(#[$field_meta:meta])* pub $field:ident: $type:ty, )*
        }
    ) => {
        $(#[$meta])*
        pub struct Torrent {
            $( $(#[$field_meta])* pub $field: $type, )*
        }

        impl Torrent {
            /// Moves the field qBittorrent calls `name` from `changed` into
            /// `self`; a name torrentql keeps no field for is ignored.
            fn take_field(&mut self, name: &str, changed: &mut Self) {
                match name {
                    $( stringify!($field) => std::mem::swap(&mut self.$field, &mut changed.$field), )*
                    _ => {}
                }
            }
        }
    };
}

torrent_with_named_fields! {
/// A torrent as `torrents/info` (or a full `sync/maindata` entry) reports it.
///
/// Fields added or renamed across versions default to empty rather than
/// failing the whole list. Each field is named as qBittorrent names it:
/// that is how a `sync/maindata` change finds the field it changes.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Torrent {
    /// The torrent's id: its v1 hash, or its truncated v2 hash for v2-only and hybrid torrents.
    #[serde(deserialize_with = "deserialize_info_hash")]
    pub hash: InfoHash,
    /// The v1 hash, for v1 and hybrid torrents (qBittorrent 4.4+; empty
    /// before, and for v2-only torrents). A hybrid is listed under its
    /// truncated v2 hash, so this is how its v1 hash finds it.
    #[serde(default, deserialize_with = "deserialize_optional_hash")]
    pub infohash_v1: Option<InfoHash>,
    /// The v2 hash, for v2 and hybrid torrents (qBittorrent 4.4+).
    #[serde(default, deserialize_with = "deserialize_optional_hash")]
    pub infohash_v2: Option<InfoHashV2>,
    /// The name qBittorrent shows.
    #[serde(default)]
    pub name: String,
    /// Bytes selected for download.
    #[serde(default)]
    pub size: i64,
    /// Bytes of all files, selected or not.
    #[serde(default)]
    pub total_size: i64,
    /// 0.0 to 1.0.
    #[serde(default)]
    pub progress: f64,
    /// Bytes per second.
    #[serde(default)]
    pub dlspeed: i64,
    /// Bytes per second.
    #[serde(default)]
    pub upspeed: i64,
    /// Bytes downloaded, all sessions.
    #[serde(default)]
    pub downloaded: i64,
    /// Bytes uploaded, all sessions.
    #[serde(default)]
    pub uploaded: i64,
    /// Bytes of selected files still to download.
    #[serde(default)]
    pub amount_left: i64,
    /// Seconds; see [`Torrent::eta`].
    #[serde(default = "eta_unknown")]
    pub eta: i64,
    /// qBittorrent's state name; see [`Torrent::state`].
    #[serde(default)]
    pub state: String,
    /// Its category; empty for none.
    #[serde(default)]
    pub category: String,
    /// Comma-separated; see [`Torrent::tags`].
    #[serde(default)]
    pub tags: String,
    /// Where it is saved, as qBittorrent sees it.
    #[serde(default)]
    pub save_path: String,
    /// Its file, or its root folder, as qBittorrent sees it.
    #[serde(default)]
    pub content_path: String,
    /// Unix seconds; 0 (4.x) or -1 (5.x) when unknown.
    #[serde(default)]
    pub added_on: i64,
    /// Unix seconds; 0 (4.x) or -1 (5.x) until complete.
    #[serde(default)]
    pub completion_on: i64,
    /// Uploaded over downloaded.
    #[serde(default)]
    pub ratio: f64,
    /// Seeds connected to.
    #[serde(default)]
    pub num_seeds: i64,
    /// Leechers connected to.
    #[serde(default)]
    pub num_leechs: i64,
    /// Seeds in the swarm, as trackers report them.
    #[serde(default)]
    pub num_complete: i64,
    /// Leechers in the swarm, as trackers report them.
    #[serde(default)]
    pub num_incomplete: i64,
    /// A magnet link for it.
    #[serde(default)]
    pub magnet_uri: String,
    /// Its place in the download queue from 1; 0 or -1 when it is not
    /// queued (complete, or queueing is off).
    #[serde(default)]
    pub priority: i64,
    /// Started ignoring the queue limits.
    #[serde(default)]
    pub force_start: bool,
    /// Downloading pieces in order.
    #[serde(default)]
    pub seq_dl: bool,
    /// Downloading the first and last piece of each file first.
    #[serde(default)]
    pub f_l_piece_prio: bool,
    /// Super seeding (complete torrents only).
    #[serde(default)]
    pub super_seeding: bool,
    /// Automatic torrent management: the category decides the save path.
    #[serde(default)]
    pub auto_tmm: bool,
    /// Bytes per second; 0 (or -1) for no limit.
    #[serde(default)]
    pub dl_limit: i64,
    /// Bytes per second; 0 (or -1) for no limit.
    #[serde(default)]
    pub up_limit: i64,
    /// -2 for the global limit, -1 for none.
    #[serde(default = "global_limit")]
    pub ratio_limit: f64,
    /// Minutes; -2 for the global limit, -1 for none.
    #[serde(default = "global_minutes")]
    pub seeding_time_limit: i64,
    /// Minutes; -2 for the global limit, -1 for none. `None` on a
    /// qBittorrent without this limit (before 4.6).
    #[serde(default)]
    pub inactive_seeding_time_limit: Option<i64>,
}
}

fn global_limit() -> f64 {
    -2.0
}

fn global_minutes() -> i64 {
    -2
}

fn eta_unknown() -> i64 {
    ETA_UNKNOWN
}

impl Torrent {
    /// Our state, mapped from qBittorrent's open set of state names.
    pub fn state(&self) -> TorrentState {
        TorrentState::from_qbittorrent(&self.state)
    }

    /// Seconds until complete; `None` when qBittorrent does not know.
    pub fn eta(&self) -> Option<i64> {
        (0..ETA_UNKNOWN).contains(&self.eta).then_some(self.eta)
    }

    /// The hashes that name this torrent: its id, and its v1 hash (which
    /// differs from the id for a hybrid listed under its v2 hash).
    pub fn known_by(&self) -> impl Iterator<Item = InfoHash> {
        std::iter::once(self.hash).chain(self.infohash_v1)
    }

    /// Whether `hash` names this torrent (see [`Torrent::known_by`]).
    pub fn is_known_by(&self, hash: InfoHash) -> bool {
        self.known_by().any(|known| known == hash)
    }

    /// The tags, split and trimmed.
    pub fn tags(&self) -> Vec<String> {
        self.tags
            .split(',')
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// When it was added; `None` when qBittorrent does not say.
    pub fn added_at(&self) -> Option<DateTime<Utc>> {
        timestamp(self.added_on)
    }

    /// When it completed; `None` until it has.
    pub fn completed_at(&self) -> Option<DateTime<Utc>> {
        timestamp(self.completion_on)
    }

    /// A torrent from a whole `sync/maindata` entry (every one of a full
    /// update, and a torrent new since the last sync), `hash` being the
    /// entry's key. Read straight into its typed form: ten times less work
    /// than going through a JSON map.
    pub fn from_sync_entry(hash: InfoHash, entry: &RawValue) -> serde_json::Result<Self> {
        // The key goes in as the first field.
        let keyed = entry.get().trim_start().strip_prefix('{').map(|fields| {
            let fields = fields.trim_start();
            let separator = if fields.starts_with('}') { "" } else { "," };
            format!("{{\"hash\":\"{hash}\"{separator}{fields}")
        });
        let read_as_it_is =
            || serde_json::from_str(entry.get()).map(|torrent| Self { hash, ..torrent });
        match keyed.map(|keyed| serde_json::from_str(&keyed)) {
            Some(Ok(torrent)) => Ok(torrent),
            // One that names a hash of its own (qBittorrent's never do) is
            // read as it is, and known by its key; when that fails too, the
            // first error says why.
            Some(Err(error)) => read_as_it_is().map_err(|_| error),
            None => read_as_it_is(),
        }
    }

    /// Applies a partial `sync/maindata` entry: the fields it names (only
    /// those that changed) take its values, the others keep theirs.
    pub fn apply_sync_changes(&mut self, changes: &RawValue) -> serde_json::Result<()> {
        let names: HashMap<String, IgnoredAny> = serde_json::from_str(changes.get())?;
        let mut changed = Self::from_sync_entry(self.hash, changes)?;
        for name in names.keys().filter(|name| *name != "hash") {
            self.take_field(name, &mut changed);
        }
        Ok(())
    }
}

/// qBittorrent writes "never" as 0 (4.x) or -1 (5.x).
fn timestamp(seconds: i64) -> Option<DateTime<Utc>> {
    (seconds > 0)
        .then(|| DateTime::from_timestamp(seconds, 0))
        .flatten()
}

/// An `infohash_v1`/`infohash_v2`: empty (or unreadable) is none.
fn deserialize_optional_hash<'de, D, H>(deserializer: D) -> Result<Option<H>, D::Error>
where
    D: Deserializer<'de>,
    H: std::str::FromStr,
{
    let text = String::deserialize(deserializer)?;
    Ok(text.parse().ok())
}

fn deserialize_info_hash<'de, D: Deserializer<'de>>(deserializer: D) -> Result<InfoHash, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// What a torrent is doing, across qBittorrent 4.x and 5.x.
///
/// qBittorrent's state names are an open set (5.0 renamed `paused*` to
/// `stopped*`); anything not listed here maps to [`TorrentState::Unknown`]
/// and the raw name stays available on [`Torrent::state`](field@Torrent::state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TorrentState {
    /// `downloading`
    Downloading,
    /// `forcedDL`: downloading, ignoring queue limits.
    ForcedDownloading,
    /// `metaDL`: fetching the metadata of a magnet link.
    FetchingMetadata,
    /// `forcedMetaDL`
    ForcedFetchingMetadata,
    /// `stalledDL`: downloading, but no peer is sending.
    StalledDownloading,
    /// `queuedDL`
    QueuedDownloading,
    /// `checkingDL`
    CheckingDownloading,
    /// `pausedDL` (4.x) or `stoppedDL` (5.x): incomplete and paused.
    PausedDownloading,
    /// `uploading`
    Seeding,
    /// `forcedUP`
    ForcedSeeding,
    /// `stalledUP`: complete, no peer is downloading.
    StalledSeeding,
    /// `queuedUP`
    QueuedSeeding,
    /// `checkingUP`
    CheckingSeeding,
    /// `pausedUP` (4.x) or `stoppedUP` (5.x): complete and paused.
    PausedSeeding,
    /// `checkingResumeData`: qBittorrent is starting up.
    CheckingResumeData,
    /// `allocating`: reserving disk space.
    Allocating,
    /// `moving`: files are moving to a new save path.
    Moving,
    /// `missingFiles`
    MissingFiles,
    /// `error`
    Error,
    /// `unknown`, or a state name this version of torrentql has not seen.
    Unknown,
}

impl TorrentState {
    /// Maps a qBittorrent state name; never fails.
    pub fn from_qbittorrent(raw: &str) -> Self {
        match raw {
            "downloading" => Self::Downloading,
            "forcedDL" => Self::ForcedDownloading,
            "metaDL" => Self::FetchingMetadata,
            "forcedMetaDL" => Self::ForcedFetchingMetadata,
            "stalledDL" => Self::StalledDownloading,
            "queuedDL" => Self::QueuedDownloading,
            "checkingDL" => Self::CheckingDownloading,
            "pausedDL" | "stoppedDL" => Self::PausedDownloading,
            "uploading" => Self::Seeding,
            "forcedUP" => Self::ForcedSeeding,
            "stalledUP" => Self::StalledSeeding,
            "queuedUP" => Self::QueuedSeeding,
            "checkingUP" => Self::CheckingSeeding,
            "pausedUP" | "stoppedUP" => Self::PausedSeeding,
            "checkingResumeData" => Self::CheckingResumeData,
            "allocating" => Self::Allocating,
            "moving" => Self::Moving,
            "missingFiles" => Self::MissingFiles,
            "error" => Self::Error,
            _ => Self::Unknown,
        }
    }

    /// Paused (4.x) or stopped (5.x), complete or not.
    pub fn is_paused(self) -> bool {
        matches!(self, Self::PausedDownloading | Self::PausedSeeding)
    }

    /// Complete, paused or not.
    pub fn is_complete(self) -> bool {
        self.is_seeding() || self == Self::PausedSeeding
    }

    /// Complete and serving the data (or queued or checking to do so).
    pub fn is_seeding(self) -> bool {
        matches!(
            self,
            Self::Seeding
                | Self::ForcedSeeding
                | Self::StalledSeeding
                | Self::QueuedSeeding
                | Self::CheckingSeeding
        )
    }
}

/// One file of a torrent, from `torrents/files`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TorrentContent {
    /// The file's index, as `torrents/filePrio` takes it.
    #[serde(default)]
    pub index: i64,
    /// Path relative to the torrent's save path.
    pub name: String,
    /// Bytes.
    pub size: i64,
    /// 0.0 to 1.0.
    #[serde(default)]
    pub progress: f64,
    /// 0 = do not download, 1 = normal, 6 = high, 7 = maximal.
    #[serde(default)]
    pub priority: i64,
    /// Copies of the file's pieces among connected peers, from 0; -1 when
    /// qBittorrent does not know (a paused torrent).
    #[serde(default = "unknown_availability")]
    pub availability: f64,
}

fn unknown_availability() -> f64 {
    -1.0
}

/// A file's priority, as qBittorrent's WebUI offers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilePriority {
    /// Not downloaded.
    Skip,
    /// Downloaded.
    Normal,
    /// Downloaded before normal files.
    High,
    /// Downloaded first.
    Maximum,
}

impl FilePriority {
    /// qBittorrent's number for it, as `torrents/filePrio` takes it.
    pub fn value(self) -> i64 {
        match self {
            Self::Skip => 0,
            Self::Normal => 1,
            Self::High => 6,
            Self::Maximum => 7,
        }
    }

    /// From qBittorrent's number; libtorrent's levels between normal and
    /// high (2 to 5, set by other clients) count as normal.
    pub fn from_value(value: i64) -> Self {
        match value {
            ..=0 => Self::Skip,
            1..=5 => Self::Normal,
            6 => Self::High,
            7.. => Self::Maximum,
        }
    }
}

/// One tracker of a torrent, from `torrents/trackers`; the DHT, PeX and
/// LSD entries come first, with a URL in `** **`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Tracker {
    /// The announce URL.
    pub url: String,
    /// 0 disabled, 1 not contacted yet, 2 working, 3 updating, 4 not
    /// working (5.x adds 5: tracker error, 6: unreachable).
    pub status: i64,
    /// Announce tier, from 0; the `** **` entries have none (-1, or "" on
    /// qBittorrent before 4.6).
    #[serde(default, deserialize_with = "deserialize_tier")]
    pub tier: i64,
    /// Peers the tracker gave in its last answer; -1 when not known.
    #[serde(default)]
    pub num_peers: i64,
    /// Seeds the tracker reported; -1 when not known.
    #[serde(default)]
    pub num_seeds: i64,
    /// Leechers the tracker reported; -1 when not known.
    #[serde(default)]
    pub num_leeches: i64,
    /// Completed downloads the tracker reported; -1 when not known.
    #[serde(default)]
    pub num_downloaded: i64,
    /// The tracker's last message (or error).
    #[serde(default)]
    pub msg: String,
}

impl Tracker {
    /// The DHT, PeX and LSD pseudo-trackers qBittorrent lists first.
    pub fn is_pseudo(&self) -> bool {
        self.url.starts_with("** [")
    }
}

/// qBittorrent writes the tier as a number, or as "" for the pseudo
/// trackers before 4.6.
fn deserialize_tier<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Tier {
        Number(i64),
        Text(String),
    }
    Ok(match Tier::deserialize(deserializer)? {
        Tier::Number(tier) => tier,
        Tier::Text(text) => text.parse().unwrap_or(-1),
    })
}

/// A category from `torrents/categories`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Category {
    /// The category's name.
    pub name: String,
    /// Where its torrents are saved; empty for the default save path.
    #[serde(rename = "savePath", default)]
    pub save_path: String,
}

/// One answer of `sync/maindata`: what changed since the given `rid`.
///
/// Torrent and category entries are partial objects (only the changed
/// fields) unless `full_update` is set, so they are left for the caller to
/// merge: torrents as raw JSON, read one at a time with
/// [`Torrent::from_sync_entry`] and [`Torrent::apply_sync_changes`] (a
/// full answer at 10,000 torrents is 10 MB; as one tree of JSON maps it
/// was 40), and categories as [`CategoryChanges`].
#[derive(Debug, Deserialize, Default)]
pub struct MainData {
    /// The response id to send with the next request.
    pub rid: i64,
    /// Whether this answer holds every torrent and category, not changes.
    #[serde(default)]
    pub full_update: bool,
    /// Torrent entries by hash, as raw JSON.
    #[serde(default)]
    pub torrents: HashMap<String, Box<RawValue>>,
    /// Hashes of the torrents removed.
    #[serde(default)]
    pub torrents_removed: Vec<String>,
    /// Category entries by name.
    #[serde(default)]
    pub categories: HashMap<String, CategoryChanges>,
    /// Names of the categories removed.
    #[serde(default)]
    pub categories_removed: Vec<String>,
    /// Tags new since the last answer (every tag in a full update).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Tags deleted since the last answer.
    #[serde(default)]
    pub tags_removed: Vec<String>,
    /// Tracker URLs, each with every torrent that has it (whole lists, for
    /// the trackers whose list changed).
    #[serde(default)]
    pub trackers: HashMap<String, Vec<String>>,
    /// Tracker URLs no torrent has any more.
    #[serde(default)]
    pub trackers_removed: Vec<String>,
    /// The fields of the transfer and server state that changed (all of
    /// them in a full update), to merge into [`ServerState`].
    #[serde(default)]
    pub server_state: serde_json::Map<String, serde_json::Value>,
}

/// One answer of `sync/torrentPeers`: a torrent's peers changed since
/// the `rid` asked (all of them in a full update), by `ip:port`. Entries
/// are partial (the changed fields) unless `full_update` is set.
#[derive(Debug, Deserialize)]
pub struct PeerData {
    /// The response id to send with the next request.
    pub rid: i64,
    /// Whether `peers` holds every peer, not changes.
    #[serde(default)]
    pub full_update: bool,
    /// Peers by `ip:port`: the fields that changed.
    #[serde(default)]
    pub peers: HashMap<String, serde_json::Map<String, serde_json::Value>>,
    /// The `ip:port` of peers gone.
    #[serde(default)]
    pub peers_removed: Vec<String>,
}

/// A peer of a torrent, merged from `sync/torrentPeers` entries.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Peer {
    /// The peer's IP address.
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// Its client, as it names itself (`qBittorrent/4.5.2`).
    pub client: String,
    /// `BT`, `uTP`, `Web` and the like.
    pub connection: String,
    /// Its country's name, when qBittorrent resolves countries.
    pub country: String,
    /// Its country's ISO 3166 code, lowercase, likewise.
    pub country_code: String,
    /// qBittorrent's flag letters (`D` downloading from it, `U` uploading
    /// to it, `E` encrypted...).
    pub flags: String,
    /// What the flags mean, one per line.
    pub flags_desc: String,
    /// How much of the torrent it has, 0 to 1.
    pub progress: f64,
    /// Bytes per second from it.
    pub dl_speed: i64,
    /// Bytes per second to it.
    pub up_speed: i64,
    /// Bytes from it so far.
    pub downloaded: i64,
    /// Bytes to it so far.
    pub uploaded: i64,
    /// How much of what it has we lack, 0 to 1.
    pub relevance: f64,
    /// The files it is exchanging, one per line.
    pub files: String,
}

/// The preferences a torrent UI shows most, from `app/preferences`
/// (which has some hundred more). Speeds are bytes per second, 0 for
/// none; times are minutes, -1 for none.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Preferences {
    /// Where torrents are saved unless told otherwise.
    pub save_path: String,
    /// Whether torrents wait in queues for the active limits below.
    pub queueing_enabled: bool,
    /// Most torrents downloading at once (-1: no limit).
    pub max_active_downloads: i64,
    /// Most torrents uploading at once (-1: no limit).
    pub max_active_uploads: i64,
    /// Most torrents active at once (-1: no limit).
    pub max_active_torrents: i64,
    /// Whether the global ratio limit applies.
    pub max_ratio_enabled: bool,
    /// The global ratio limit.
    pub max_ratio: f64,
    /// Whether the global seeding time limit applies.
    pub max_seeding_time_enabled: bool,
    /// The global seeding time limit, minutes.
    pub max_seeding_time: i64,
    /// Whether the global inactive seeding time limit applies
    /// (qBittorrent 4.6 and later).
    pub max_inactive_seeding_time_enabled: Option<bool>,
    /// The global inactive seeding time limit, minutes (4.6 and later).
    pub max_inactive_seeding_time: Option<i64>,
    /// The global download limit.
    pub dl_limit: i64,
    /// The global upload limit.
    pub up_limit: i64,
    /// The alternative download limit.
    pub alt_dl_limit: i64,
    /// The alternative upload limit.
    pub alt_up_limit: i64,
}

/// qBittorrent's transfer and server state, from `sync/maindata`'s
/// `server_state` (merged) or `transfer/info` (which lacks the all-time
/// totals, the free space and the alternative mode: they default).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServerState {
    /// Download speed of all torrents, bytes per second.
    pub dl_info_speed: i64,
    /// Upload speed of all torrents, bytes per second.
    pub up_info_speed: i64,
    /// Bytes downloaded this session.
    pub dl_info_data: i64,
    /// Bytes uploaded this session.
    pub up_info_data: i64,
    /// Bytes ever downloaded, across restarts; `None` from `transfer/info`.
    pub alltime_dl: Option<i64>,
    /// Bytes ever uploaded, across restarts; `None` from `transfer/info`.
    pub alltime_ul: Option<i64>,
    /// Bytes free where torrents are saved; `None` from `transfer/info`.
    pub free_space_on_disk: Option<i64>,
    /// `connected`, `firewalled` or `disconnected`.
    pub connection_status: String,
    /// DHT nodes connected to (0 with DHT off).
    pub dht_nodes: i64,
    /// The global download limit in force now (the alternative one while
    /// that mode is on), bytes per second; 0 for none.
    pub dl_rate_limit: i64,
    /// The global upload limit in force now, likewise.
    pub up_rate_limit: i64,
    /// Whether the alternative speed limits are on; `None` from
    /// `transfer/info`.
    pub use_alt_speed_limits: Option<bool>,
}

/// A category's entry in `sync/maindata`: the fields that changed.
#[derive(Debug, Deserialize, Default, PartialEq, Eq)]
pub struct CategoryChanges {
    /// The new save path, when it changed.
    #[serde(rename = "savePath")]
    pub save_path: Option<String>,
}

impl Category {
    /// Applies a category's `sync/maindata` entry.
    pub fn apply_sync_changes(&mut self, changes: CategoryChanges) {
        if let Some(save_path) = changes.save_path {
            self.save_path = save_path;
        }
    }
}

/// The WebUI API version (`app/webapiVersion`), e.g. 2.8.19 or 2.11.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    /// The first number.
    pub major: u32,
    /// The second number.
    pub minor: u32,
    /// The third number.
    pub patch: u32,
}

impl ApiVersion {
    /// WebAPI 2.11.0 (qBittorrent 5.0) renamed pause/resume to stop/start.
    const START_STOP: Self = Self {
        major: 2,
        minor: 11,
        patch: 0,
    };

    /// Parses "2.8.19" (a missing patch counts as 0).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.').map(str::parse::<u32>);
        let major = parts.next()?.ok()?;
        let minor = parts.next()?.ok()?;
        let patch = parts.next().transpose().ok()?.unwrap_or(0);
        Some(Self {
            major,
            minor,
            patch,
        })
    }

    /// WebAPI 2.11.4 (qBittorrent 5.1) added `torrents/setTags`.
    const SET_TAGS: Self = Self {
        major: 2,
        minor: 11,
        patch: 4,
    };

    /// True when the API speaks of stop/start rather than pause/resume.
    pub fn uses_start_stop(self) -> bool {
        self >= Self::START_STOP
    }

    /// True when the API replaces a torrent's tags in one call.
    pub fn has_set_tags(self) -> bool {
        self >= Self::SET_TAGS
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The `filter` of `torrents/info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TorrentFilter {
    /// Every torrent.
    #[default]
    All,
    /// Downloading, including stalled and queued downloads.
    Downloading,
    /// Seeding, including stalled and queued uploads.
    Seeding,
    /// Complete.
    Completed,
    /// Paused (4.x) or stopped (5.x).
    Paused,
    /// Moving data now.
    Active,
    /// Not moving data now.
    Inactive,
    /// Not paused: resumed (4.x) or running (5.x).
    Resumed,
    /// Stalled, downloading or seeding.
    Stalled,
    /// In an error state.
    Errored,
}

impl TorrentFilter {
    /// Whether qBittorrent's filter of this name would list `torrent`,
    /// following qBittorrent's own definitions (a paused incomplete torrent
    /// counts as downloading, "active" means transferring or working).
    pub fn matches(self, torrent: &Torrent) -> bool {
        use TorrentState as S;
        let state = torrent.state();
        let downloading = matches!(
            state,
            S::Downloading
                | S::ForcedDownloading
                | S::FetchingMetadata
                | S::ForcedFetchingMetadata
                | S::StalledDownloading
                | S::QueuedDownloading
                | S::CheckingDownloading
                | S::PausedDownloading
        );
        let active = torrent.dlspeed > 0
            || torrent.upspeed > 0
            || matches!(
                state,
                S::Downloading
                    | S::ForcedDownloading
                    | S::FetchingMetadata
                    | S::ForcedFetchingMetadata
                    | S::Moving
            );
        match self {
            Self::All => true,
            Self::Downloading => downloading,
            Self::Seeding => state.is_seeding(),
            Self::Completed => state.is_complete(),
            Self::Paused => state.is_paused(),
            Self::Active => active,
            Self::Inactive => !active,
            Self::Resumed => !state.is_paused(),
            Self::Stalled => matches!(state, S::StalledDownloading | S::StalledSeeding),
            Self::Errored => matches!(state, S::Error | S::MissingFiles),
        }
    }

    /// The filter's name for the given API version (5.x calls paused
    /// torrents stopped and resumed ones running).
    pub fn as_query(self, api: ApiVersion) -> &'static str {
        match self {
            Self::All => "all",
            Self::Downloading => "downloading",
            Self::Seeding => "seeding",
            Self::Completed => "completed",
            Self::Paused if api.uses_start_stop() => "stopped",
            Self::Paused => "paused",
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Resumed if api.uses_start_stop() => "running",
            Self::Resumed => "resumed",
            Self::Stalled => "stalled",
            Self::Errored => "errored",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn torrent(json: serde_json::Value) -> Torrent {
        serde_json::from_value(json).unwrap()
    }

    fn raw(value: &serde_json::Value) -> Box<RawValue> {
        RawValue::from_string(value.to_string()).unwrap()
    }

    #[test]
    fn a_sync_entry_reads_as_the_same_torrent_as_torrents_info() {
        const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let hash: InfoHash = A.parse().unwrap();
        let entry = serde_json::json!({
            "name": "a", "size": 7, "progress": 0.5, "state": "stoppedDL",
            "eta": 8_640_000, "category": "tv", "save_path": "/d", "added_on": 9,
            "infohash_v1": A, "unknown_to_torrentql": [1, { "x": null }],
        });
        let mut with_hash = entry.as_object().unwrap().clone();
        with_hash.insert("hash".to_owned(), serde_json::json!(A));
        let listed = torrent(with_hash.into());

        assert_eq!(
            Torrent::from_sync_entry(hash, &raw(&entry)).unwrap(),
            listed
        );
        // One naming its own hash is read as it is, known by its key.
        let own_hash = serde_json::json!({ "hash": A, "name": "a" });
        assert_eq!(
            Torrent::from_sync_entry(hash, &raw(&own_hash))
                .unwrap()
                .name,
            "a"
        );
        assert_eq!(
            Torrent::from_sync_entry(hash, &raw(&serde_json::json!({})))
                .unwrap()
                .hash,
            hash
        );
        assert!(Torrent::from_sync_entry(hash, &raw(&serde_json::json!([1]))).is_err());
    }

    #[test]
    fn sync_changes_replace_only_the_fields_they_name() {
        let mut merged = torrent(serde_json::json!({
            "hash": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "name": "a", "progress": 0.5, "eta": 60, "tags": "x, y",
        }));
        let before = merged.clone();
        merged
            .apply_sync_changes(&raw(&serde_json::json!({
                "progress": 0.75, "tags": "", "hash": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "new_in_6": 1,
            })))
            .unwrap();
        assert_eq!(
            merged,
            Torrent {
                progress: 0.75,
                tags: String::new(),
                ..before.clone()
            },
            "the name, eta and hash are kept"
        );
        let mut unchanged = before.clone();
        assert!(
            unchanged
                .apply_sync_changes(&raw(&serde_json::json!({ "eta": "soon" })))
                .is_err()
        );
        assert_eq!(unchanged, before, "an unreadable change changes nothing");
    }

    #[test]
    fn maps_every_known_state_of_4_and_5() {
        let known = [
            "downloading",
            "forcedDL",
            "metaDL",
            "forcedMetaDL",
            "stalledDL",
            "queuedDL",
            "checkingDL",
            "pausedDL",
            "stoppedDL",
            "uploading",
            "forcedUP",
            "stalledUP",
            "queuedUP",
            "checkingUP",
            "pausedUP",
            "stoppedUP",
            "checkingResumeData",
            "allocating",
            "moving",
            "missingFiles",
            "error",
        ];
        for raw in known {
            assert_ne!(
                TorrentState::from_qbittorrent(raw),
                TorrentState::Unknown,
                "{raw}"
            );
        }
        assert_eq!(
            TorrentState::from_qbittorrent("stoppedDL"),
            TorrentState::PausedDownloading
        );
        assert_eq!(
            TorrentState::from_qbittorrent("pausedUP"),
            TorrentState::PausedSeeding
        );
    }

    #[test]
    fn unseen_states_are_unknown_not_errors() {
        let parsed = torrent(serde_json::json!({
            "hash": "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c",
            "state": "someFutureState",
        }));
        assert_eq!(parsed.state(), TorrentState::Unknown);
        assert_eq!(parsed.state, "someFutureState");
    }

    #[test]
    fn decodes_sentinels_of_both_versions() {
        let v4 = torrent(serde_json::json!({
            "hash": "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c",
            "eta": 8640000, "added_on": 1700000000, "completion_on": 0,
            "tags": "tv, hd,", "state": "pausedDL",
        }));
        assert_eq!(v4.eta(), None);
        assert_eq!(v4.completed_at(), None);
        assert_eq!(v4.added_at().unwrap().timestamp(), 1_700_000_000);
        assert_eq!(v4.tags(), ["tv", "hd"]);

        let v5 = torrent(serde_json::json!({
            "hash": "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c",
            "eta": 42, "completion_on": -1, "private": null,
        }));
        assert_eq!(v5.eta(), Some(42));
        assert_eq!(v5.completed_at(), None);
    }

    #[test]
    fn api_versions_compare_and_pick_start_stop() {
        let old = ApiVersion::parse("2.8.19").unwrap();
        let new = ApiVersion::parse("2.11.4").unwrap();
        assert!(!old.uses_start_stop());
        assert!(new.uses_start_stop());
        assert!(ApiVersion::parse("2.11").unwrap().uses_start_stop());
        assert_eq!(ApiVersion::parse("garbage"), None);
        assert_eq!(TorrentFilter::Paused.as_query(old), "paused");
        assert_eq!(TorrentFilter::Paused.as_query(new), "stopped");
    }
}
