//! qBittorrent as a whole in the schema: the `transfer` state (speeds,
//! totals, free space, connection, limits) and the `preferences` a torrent
//! UI shows most, and the mutations that change them. The live
//! `transferUpdates` subscription is with the other subscriptions; its
//! events, and which fields of them changed, are here.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use serde::{Deserialize, Serialize};

use super::guards::AdminGuard;
use super::scalars::Bytes;
use super::torrents::service;
use crate::clients::qbittorrent::{Preferences as QbittorrentPreferences, ServerState};
use crate::error::AppError;
use crate::graphql::cost;
use crate::services::torrents::PreferenceChanges;

/// qBittorrent's transfer and server state.
#[derive(SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transfer {
    /// Of all torrents, bytes per second.
    download_speed: Bytes,
    /// Of all torrents, bytes per second.
    upload_speed: Bytes,
    /// Since qBittorrent started.
    session_downloaded: Bytes,
    /// Since qBittorrent started.
    session_uploaded: Bytes,
    /// Ever, across restarts; null while torrentql's mirror of
    /// qBittorrent is not fresh.
    all_time_downloaded: Option<Bytes>,
    /// Ever, across restarts; null while the mirror is not fresh.
    all_time_uploaded: Option<Bytes>,
    /// Free where qBittorrent saves by default; null while the mirror is
    /// not fresh.
    free_disk_space: Option<Bytes>,
    /// Whether qBittorrent is connected to the BitTorrent network.
    connection_status: ConnectionStatus,
    /// DHT nodes connected to (0 with DHT off).
    dht_nodes: i64,
    /// The global download limit in force now (the alternative one while
    /// `alternativeSpeedLimits` is on), bytes per second; null for none.
    download_limit: Option<Bytes>,
    /// The global upload limit in force now; null for none.
    upload_limit: Option<Bytes>,
    /// Whether the alternative speed limits are on.
    alternative_speed_limits: Option<bool>,
}

/// qBittorrent's connection to the BitTorrent network.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConnectionStatus {
    /// Connected, and reachable from outside.
    Connected,
    /// Connected, but incoming connections do not reach it.
    Firewalled,
    /// Not connected.
    Disconnected,
}

impl From<&ServerState> for Transfer {
    fn from(state: &ServerState) -> Self {
        Self {
            download_speed: Bytes(state.dl_info_speed),
            upload_speed: Bytes(state.up_info_speed),
            session_downloaded: Bytes(state.dl_info_data),
            session_uploaded: Bytes(state.up_info_data),
            all_time_downloaded: state.alltime_dl.map(Bytes),
            all_time_uploaded: state.alltime_ul.map(Bytes),
            free_disk_space: state.free_space_on_disk.map(Bytes),
            connection_status: match state.connection_status.as_str() {
                "connected" => ConnectionStatus::Connected,
                "firewalled" => ConnectionStatus::Firewalled,
                _ => ConnectionStatus::Disconnected,
            },
            dht_nodes: state.dht_nodes,
            download_limit: limit(state.dl_rate_limit),
            upload_limit: limit(state.up_rate_limit),
            alternative_speed_limits: state.use_alt_speed_limits,
        }
    }
}

impl From<Arc<ServerState>> for Transfer {
    fn from(state: Arc<ServerState>) -> Self {
        Self::from(state.as_ref())
    }
}

/// A field of `Transfer`, as `TransferEvent.changed` names it.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TransferField {
    /// `downloadSpeed`.
    DownloadSpeed,
    /// `uploadSpeed`.
    UploadSpeed,
    /// `sessionDownloaded`.
    SessionDownloaded,
    /// `sessionUploaded`.
    SessionUploaded,
    /// `allTimeDownloaded`.
    AllTimeDownloaded,
    /// `allTimeUploaded`.
    AllTimeUploaded,
    /// `freeDiskSpace`.
    FreeDiskSpace,
    /// `connectionStatus`.
    ConnectionStatus,
    /// `dhtNodes`.
    DhtNodes,
    /// `downloadLimit`.
    DownloadLimit,
    /// `uploadLimit`.
    UploadLimit,
    /// `alternativeSpeedLimits`.
    AlternativeSpeedLimits,
}

impl TransferField {
    /// The field of `Transfer` named `name` in the schema.
    pub fn named(name: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
    }
}

/// The values of a `Transfer` by field, to tell what changed between two.
pub struct TransferValues(serde_json::Map<String, serde_json::Value>);

impl TransferValues {
    pub fn of(transfer: &Transfer) -> Self {
        match serde_json::to_value(transfer) {
            Ok(serde_json::Value::Object(values)) => Self(values),
            _ => unreachable!("a Transfer serializes as an object of numbers and strings"),
        }
    }

    /// The fields whose values differ from `earlier` (every field when
    /// there is none), in the schema's order.
    pub fn changed_since(&self, earlier: Option<&Self>) -> Vec<TransferField> {
        let mut changed: Vec<TransferField> = self
            .0
            .iter()
            .filter(|(name, value)| {
                earlier.is_none_or(|earlier| earlier.0.get(name.as_str()) != Some(value))
            })
            .filter_map(|(name, _)| TransferField::named(name))
            .collect();
        changed.sort_unstable();
        changed
    }
}

/// One event of `transferUpdates`.
#[derive(SimpleObject)]
pub struct TransferEvent {
    /// True for the first event, and after a resync (qBittorrent restarted,
    /// so its session totals started again). False: the state continues
    /// the previous event's.
    pub snapshot: bool,
    /// True when this snapshot comes from a mirror that is not fresh
    /// (qBittorrent does not answer): the state is as last synced, and
    /// `qbittorrent { error }` says why. Changes come from syncs, so they
    /// are never stale.
    pub stale: bool,
    /// The whole state as it is now (a dozen numbers), not only what
    /// changed.
    pub transfer: Transfer,
    /// The fields of `transfer` whose values differ from the previous event
    /// (every field in the first); an event is sent only when one of the
    /// fields the subscription selects is among them.
    pub changed: Vec<TransferField>,
}

/// qBittorrent's preferences a torrent UI shows most.
#[derive(SimpleObject)]
pub struct Preferences {
    /// Where torrents are saved unless told otherwise, as qBittorrent sees
    /// it.
    default_save_path: String,
    /// Whether torrents wait in queues for the active limits below.
    queueing: bool,
    /// Most torrents downloading at once with queueing on; null for no
    /// limit.
    max_active_downloads: Option<i64>,
    /// Most torrents uploading at once; null for no limit.
    max_active_uploads: Option<i64>,
    /// Most torrents active at once; null for no limit.
    max_active_torrents: Option<i64>,
    /// The global ratio limit (a torrent's `shareLimits` may be `GLOBAL`);
    /// null for none.
    ratio_limit: Option<f64>,
    /// The global seeding time limit, minutes; null for none.
    seeding_time_limit: Option<i64>,
    /// The global inactive seeding time limit, minutes; null for none, and
    /// on qBittorrent before 4.6 (see `hasInactiveSeedingTimeLimit`).
    inactive_seeding_time_limit: Option<i64>,
    /// Whether this qBittorrent has an inactive seeding time limit (4.6
    /// and later).
    has_inactive_seeding_time_limit: bool,
    /// Bytes per second; null for none.
    download_limit: Option<Bytes>,
    /// Bytes per second; null for none.
    upload_limit: Option<Bytes>,
    /// While the alternative speed limits are on; null for none.
    alternative_download_limit: Option<Bytes>,
    /// While the alternative speed limits are on; null for none.
    alternative_upload_limit: Option<Bytes>,
}

impl From<QbittorrentPreferences> for Preferences {
    fn from(preferences: QbittorrentPreferences) -> Self {
        let active = |count: i64| Some(count).filter(|count| *count >= 0);
        Self {
            default_save_path: preferences.save_path,
            queueing: preferences.queueing_enabled,
            max_active_downloads: active(preferences.max_active_downloads),
            max_active_uploads: active(preferences.max_active_uploads),
            max_active_torrents: active(preferences.max_active_torrents),
            ratio_limit: preferences
                .max_ratio_enabled
                .then_some(preferences.max_ratio),
            seeding_time_limit: preferences
                .max_seeding_time_enabled
                .then_some(preferences.max_seeding_time),
            inactive_seeding_time_limit: preferences
                .max_inactive_seeding_time_enabled
                .filter(|enabled| *enabled)
                .and(preferences.max_inactive_seeding_time),
            has_inactive_seeding_time_limit: preferences
                .max_inactive_seeding_time_enabled
                .is_some(),
            download_limit: limit(preferences.dl_limit),
            upload_limit: limit(preferences.up_limit),
            alternative_download_limit: limit(preferences.alt_dl_limit),
            alternative_upload_limit: limit(preferences.alt_up_limit),
        }
    }
}

/// Preferences to change; a field left out stays as it is, and `null`
/// where allowed means none.
#[derive(InputObject)]
pub struct PreferencesInput {
    /// Under an allowed root or a library's folder, as an add's save path.
    default_save_path: Option<String>,
    /// Torrent queueing on or off.
    queueing: Option<bool>,
    /// 0 or more; null for no limit.
    max_active_downloads: MaybeUndefined<i64>,
    /// 0 or more; null for no limit.
    max_active_uploads: MaybeUndefined<i64>,
    /// 0 or more; null for no limit.
    max_active_torrents: MaybeUndefined<i64>,
    /// 0 to 9998; null for none.
    ratio_limit: MaybeUndefined<f64>,
    /// Minutes, 0 to 525600; null for none.
    seeding_time_limit: MaybeUndefined<i64>,
    /// Minutes, 0 to 525600; null for none. qBittorrent 4.6 and later.
    inactive_seeding_time_limit: MaybeUndefined<i64>,
    /// Bytes per second; 0 for none.
    download_limit: Option<Bytes>,
    /// Bytes per second; 0 for none.
    upload_limit: Option<Bytes>,
    /// Bytes per second; 0 for none.
    alternative_download_limit: Option<Bytes>,
    /// Bytes per second; 0 for none.
    alternative_upload_limit: Option<Bytes>,
}

impl From<PreferencesInput> for PreferenceChanges {
    fn from(input: PreferencesInput) -> Self {
        let count = |value: MaybeUndefined<i64>| match value {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(-1),
            MaybeUndefined::Value(count) => Some(count),
        };
        let bytes = |value: Option<Bytes>| value.map(|bytes| bytes.0);
        Self {
            default_save_path: input.default_save_path,
            queueing: input.queueing,
            max_active_downloads: count(input.max_active_downloads),
            max_active_uploads: count(input.max_active_uploads),
            max_active_torrents: count(input.max_active_torrents),
            ratio_limit: input.ratio_limit.as_opt_ref().map(|ratio| ratio.copied()),
            seeding_time_limit: input
                .seeding_time_limit
                .as_opt_ref()
                .map(|minutes| minutes.copied()),
            inactive_seeding_time_limit: input
                .inactive_seeding_time_limit
                .as_opt_ref()
                .map(|minutes| minutes.copied()),
            download_limit: bytes(input.download_limit),
            upload_limit: bytes(input.upload_limit),
            alternative_download_limit: bytes(input.alternative_download_limit),
            alternative_upload_limit: bytes(input.alternative_upload_limit),
        }
    }
}

#[derive(Default)]
pub struct TransferQuery;

#[Object]
impl TransferQuery {
    /// The transfer and server state of qBittorrent, from torrentql's
    /// mirror (as fresh as its last sync).
    #[graphql(guard = "AdminGuard")]
    async fn transfer(&self, ctx: &Context<'_>) -> Result<Transfer> {
        let state = service(ctx)?.server_state().await.map_err(AppError::from)?;
        Ok(state.into())
    }

    /// The preferences of qBittorrent a torrent UI shows most.
    #[graphql(guard = "AdminGuard")]
    async fn preferences(&self, ctx: &Context<'_>) -> Result<Preferences> {
        let preferences = service(ctx)?.preferences().await.map_err(AppError::from)?;
        Ok(preferences.into())
    }
}

#[derive(Default)]
pub struct TransferMutation;

#[Object]
impl TransferMutation {
    /// Turns qBittorrent's alternative speed limits on or off, and answers
    /// once qBittorrent shows it.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn set_alternative_speed_limits(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "true: the alternative limits apply; false: the global ones.")]
        enabled: bool,
    ) -> Result<Transfer> {
        let state = service(ctx)?
            .set_alternative_speed_limits(enabled)
            .await
            .map_err(AppError::from)?;
        Ok(state.into())
    }

    /// Changes qBittorrent's preferences (only the fields given), checked
    /// first and in one call; answers them after it. A bad value is
    /// `BAD_USER_INPUT` and changes nothing.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn set_preferences(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preferences to change.")] input: PreferencesInput,
    ) -> Result<Preferences> {
        let preferences = service(ctx)?
            .set_preferences(input.into())
            .await
            .map_err(AppError::from)?;
        Ok(preferences.into())
    }
}

/// A limit in bytes per second, `None` for none (qBittorrent's 0 or -1).
fn limit(value: i64) -> Option<Bytes> {
    Some(value).filter(|limit| *limit > 0).map(Bytes)
}

#[cfg(test)]
mod tests {
    use async_graphql::resolver_utils::EnumType;

    use super::*;

    #[test]
    fn every_field_of_transfer_is_a_transfer_field_and_a_change_names_only_itself() {
        let quiet = Transfer::from(&ServerState::default());
        let values = TransferValues::of(&quiet);
        let every = values.changed_since(None);
        assert_eq!(every.len(), TransferField::items().len());
        assert_eq!(
            every.len(),
            values.0.len(),
            "a field without a TransferField"
        );

        let busy = Transfer::from(&ServerState {
            dl_info_speed: 1000,
            use_alt_speed_limits: Some(true),
            ..ServerState::default()
        });
        assert_eq!(
            TransferValues::of(&busy).changed_since(Some(&values)),
            [
                TransferField::DownloadSpeed,
                TransferField::AlternativeSpeedLimits
            ]
        );
        assert!(values.changed_since(Some(&values)).is_empty());
        assert_eq!(
            TransferField::named("freeDiskSpace"),
            Some(TransferField::FreeDiskSpace)
        );
        assert_eq!(TransferField::named("__typename"), None);
    }
}
