//! The one mirror of qBittorrent: every torrent and category in memory,
//! kept by a single poller, read by every query and streamed live to every
//! subscriber.
//!
//! - `state`: the mirrored torrents and categories, and how a
//!   `sync/maindata` answer, a mutation's result or a focused poll merges
//!   into them;
//! - `poller`: the task that keeps the mirror, paced by what its syncs
//!   cost qBittorrent;
//! - `streams`: live progress and completions, filtered per subscriber.
//!
//! Each change is published once, as a versioned update, on a bounded
//! broadcast channel; subscribers filter it for themselves. So the cost to
//! qBittorrent is the same with no subscriber or ten thousand, and no
//! subscriber ever calls qBittorrent.
//!
//! The mirror is *fresh* while its last sync succeeded within three sync
//! periods (plus a second); reads fall back to qBittorrent otherwise.
//! When qBittorrent goes away the mirror turns stale, subscriptions stay
//! open, and when it comes back the sync restarts from `rid=0` and every
//! subscriber gets a fresh snapshot.

mod poller;
mod state;
mod streams;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use crate::clients::qbittorrent::{Category, MainData, ServerState, Torrent, TorrentFilter};
use crate::torrent::InfoHash;

use state::{Changes, MirrorState};
use streams::{MirrorUpdate, SyncedServerState, Watchers};

pub use poller::{SyncSettings, SyncSource};
pub use streams::{Matching, ProgressEvent, ServerStateUpdate};

/// Updates a subscriber may fall behind by before it is sent a fresh
/// snapshot instead.
const UPDATE_BUFFER: usize = 32;

/// Completions kept for a slow completion subscriber.
const COMPLETION_BUFFER: usize = 1024;

/// Why the mirror does not answer reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unready {
    /// The last sync failed, for this reason.
    #[error("qBittorrent does not answer: {0}")]
    Unanswered(String),
    /// No sync has succeeded yet.
    #[error("waiting for the first sync with qBittorrent")]
    NotSyncedYet,
    /// Syncs succeeded once, but not lately.
    #[error("the last sync with qBittorrent is too old")]
    SyncTooOld,
}

impl Unready {
    /// A short name for the kind of reason, safe to show to anyone.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Unanswered(_) => "qbittorrent_unavailable",
            Self::NotSyncedYet => "not_synced_yet",
            Self::SyncTooOld => "sync_too_old",
        }
    }
}

/// The state of the poller, watched by whoever waits for the first sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SyncStatus {
    /// The first full sync has completed.
    filled: bool,
    /// The last sync succeeded.
    connected: bool,
}

/// How the syncs are going, as reads and `/readyz` see it.
struct SyncHealth {
    last_success: Option<Instant>,
    /// Why the last full sync failed, until one succeeds.
    last_error: Option<String>,
    /// The current time between full sync starts (stretched by slow syncs).
    period: Duration,
}

/// The in-memory mirror of one qBittorrent. It holds no client: the
/// `poller` feeds it from a [`SyncSource`].
pub struct TorrentMirror {
    settings: SyncSettings,
    state: RwLock<MirrorState>,
    health: Mutex<SyncHealth>,
    updates: broadcast::Sender<Arc<MirrorUpdate>>,
    /// Completions have a channel of their own, with room for bursts: a
    /// subscriber lagging on progress must not miss one.
    completions: broadcast::Sender<Arc<Torrent>>,
    status: watch::Sender<SyncStatus>,
    /// The transfer and server state as last synced; `None` before the
    /// first sync.
    server_state: watch::Sender<Option<SyncedServerState>>,
    watchers: Mutex<Watchers>,
}

impl TorrentMirror {
    /// An empty mirror; call [`TorrentMirror::run`] to fill and keep it.
    pub fn new(settings: SyncSettings) -> Self {
        let (updates, _) = broadcast::channel(UPDATE_BUFFER);
        let (completions, _) = broadcast::channel(COMPLETION_BUFFER);
        let (status, _) = watch::channel(SyncStatus {
            filled: false,
            connected: false,
        });
        let (server_state, _) = watch::channel(None);
        Self {
            settings,
            server_state,
            state: RwLock::default(),
            health: Mutex::new(SyncHealth {
                last_success: None,
                last_error: None,
                period: settings.interval,
            }),
            updates,
            completions,
            status,
            watchers: Mutex::default(),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, MirrorState> {
        self.state.read().expect("mirror lock")
    }

    fn write(&self) -> RwLockWriteGuard<'_, MirrorState> {
        self.state.write().expect("mirror lock")
    }

    fn health(&self) -> std::sync::MutexGuard<'_, SyncHealth> {
        self.health.lock().expect("sync health lock")
    }

    /// Merges the answer of sync `number` and publishes what changed.
    fn apply(&self, mut data: MainData, number: u64) {
        let was_filled = self.status.borrow().filled;
        let reset = data.full_update;
        let mut state = self.write();
        let server_state = state.merge_server_state(reset, std::mem::take(&mut data.server_state));
        let (changes, mut completed) = state.merge_sync(data, number);
        if !was_filled {
            // Nothing finished that torrentql saw unfinished.
            completed.clear();
        }
        let version = (reset || !changes.is_empty()).then(|| state.next_version());
        drop(state);
        {
            let mut health = self.health();
            health.last_success = Some(Instant::now());
            health.last_error = None;
        }
        self.status.send_modify(|status| {
            status.filled = true;
            status.connected = true;
        });
        if let Some(version) = version {
            self.publish(version, reset, changes, completed);
        }
        if let Some(server_state) = server_state {
            self.server_state.send_if_modified(|shown| {
                let changed = reset
                    || shown.as_ref().map(|shown| shown.state.as_ref()) != Some(&server_state);
                if changed {
                    let resyncs =
                        shown.as_ref().map_or(0, |shown| shown.resyncs) + u64::from(reset);
                    *shown = Some(SyncedServerState {
                        state: Arc::new(server_state),
                        resyncs,
                    });
                }
                changed
            });
        }
    }

    /// Marks the mirror stale after a failed sync.
    fn disconnected(&self, error: String) {
        self.health().last_error = Some(error);
        self.status.send_modify(|status| status.connected = false);
    }

    fn publish(&self, version: u64, reset: bool, changes: Changes, completed: Vec<Arc<Torrent>>) {
        for torrent in completed {
            tracing::info!(hash = %torrent.hash, name = %torrent.name, "torrent completed");
            // No receiver is not an error: nobody is listening.
            let _ = self.completions.send(torrent);
        }
        let _ = self.updates.send(Arc::new(MirrorUpdate {
            version,
            reset,
            changes,
        }));
    }

    /// Records a torrent as qBittorrent just reported it (after a
    /// mutation, or a focused poll), so a read right after a write sees the
    /// write; subscribers get it like any other change.
    pub fn record(&self, torrent: &Torrent) {
        self.overlay(torrent.hash, Some(Arc::new(torrent.clone())));
    }

    /// Records that a torrent is gone (after a delete).
    pub fn forget(&self, hash: InfoHash) {
        self.overlay(hash, None);
    }

    fn overlay(&self, hash: InfoHash, torrent: Option<Arc<Torrent>>) {
        if !self.status.borrow().filled {
            return;
        }
        let mut state = self.write();
        let (changes, completed) = state.overlay(hash, torrent);
        if changes.is_empty() {
            return;
        }
        let version = state.next_version();
        drop(state);
        self.publish(version, false, changes, completed);
    }

    /// Records that a category exists (after a mutation created it).
    pub fn record_category(&self, name: &str) {
        self.write().record_category(name);
    }

    /// Records a category as a mutation left it.
    pub fn record_category_path(&self, category: &Category) {
        self.write().record_category_path(category);
    }

    /// Records that categories are gone (after a mutation removed them).
    pub fn forget_categories(&self, names: &[String]) {
        self.write().forget_categories(names);
    }

    /// Records that tags exist (after a mutation created them).
    pub fn record_tags(&self, names: &[String]) {
        self.write().record_tags(names);
    }

    /// Records that tags are gone (after a mutation deleted them).
    pub fn forget_tags(&self, names: &[String]) {
        self.write().forget_tags(names);
    }

    /// Whether reads may be answered from the mirror now.
    pub fn is_fresh(&self) -> bool {
        let status = *self.status.borrow();
        let health = self.health();
        let stale_after = health.period * 3 + Duration::from_secs(1);
        status.filled
            && status.connected
            && health
                .last_success
                .is_some_and(|last| last.elapsed() <= stale_after)
    }

    /// `Ok` while reads are answered from the mirror; otherwise why not.
    pub fn readiness(&self) -> Result<(), Unready> {
        if self.is_fresh() {
            return Ok(());
        }
        let filled = self.status.borrow().filled;
        Err(match (&self.health().last_error, filled) {
            (Some(error), _) => Unready::Unanswered(error.clone()),
            (None, false) => Unready::NotSyncedYet,
            (None, true) => Unready::SyncTooOld,
        })
    }

    /// Torrents matching the arguments (a hybrid's v1 hash in `hashes`
    /// names it too), oldest first, or `None` when the mirror is not fresh
    /// (ask qBittorrent instead).
    pub fn list(
        &self,
        filter: TorrentFilter,
        category: Option<&str>,
        hashes: Option<&[InfoHash]>,
    ) -> Option<Vec<Arc<Torrent>>> {
        self.select(hashes, |torrent| {
            filter.matches(torrent) && category.is_none_or(|category| torrent.category == category)
        })
    }

    /// The torrents `hashes` names (every torrent when `None`) that
    /// `matches`, oldest first, or `None` when the mirror is not fresh.
    pub fn select(
        &self,
        hashes: Option<&[InfoHash]>,
        matches: impl Fn(&Torrent) -> bool,
    ) -> Option<Vec<Arc<Torrent>>> {
        if !self.is_fresh() {
            return None;
        }
        Some(self.read().select(hashes, matches))
    }

    /// The torrents with a tracker on `host`, as last synced (fresh or
    /// not: `torrents/info` has no tracker lists to fall back on).
    pub fn with_tracker_host(&self, host: &str) -> HashSet<InfoHash> {
        self.read().with_tracker_host(host)
    }

    /// The id of the torrent `hash` names (its id, or a hybrid's v1
    /// hash), as last synced, fresh or not: a torrent's hashes never change.
    pub fn id_of(&self, hash: InfoHash) -> Option<InfoHash> {
        self.read().find(&hash).map(|torrent| torrent.hash)
    }

    /// The time between two full syncs now: the configured interval, or
    /// longer while qBittorrent is slow to answer them.
    pub fn sync_period(&self) -> Duration {
        self.health().period
    }

    /// Whether the first full sync has completed.
    pub fn is_filled(&self) -> bool {
        self.status.borrow().filled
    }

    /// Every category, by name, or `None` when the mirror is not fresh.
    pub fn categories(&self) -> Option<Vec<Category>> {
        if !self.is_fresh() {
            return None;
        }
        Some(self.read().categories().cloned().collect())
    }

    /// The transfer and server state, or `None` when the mirror is not
    /// fresh.
    pub fn server_state(&self) -> Option<Arc<ServerState>> {
        if !self.is_fresh() {
            return None;
        }
        Some(Arc::clone(&self.server_state.borrow().as_ref()?.state))
    }

    /// Every tag, sorted, or `None` when the mirror is not fresh.
    pub fn tags(&self) -> Option<Vec<String>> {
        if !self.is_fresh() {
            return None;
        }
        Some(self.read().tags().cloned().collect())
    }

    /// Waits for the first full sync (the one the poller makes anyway: a
    /// waiting subscriber never starts another).
    pub async fn filled(&self) {
        let mut status = self.status.subscribe();
        // `wait_for` only fails when the poller is gone; then there is
        // nothing to wait for.
        let _ = status.wait_for(|status| status.filled).await;
    }
}

/// Builds mirrors and sync answers for the tests of every part.
#[cfg(test)]
mod testing {
    use std::collections::HashMap;

    use super::*;

    pub const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    pub const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    pub const SETTINGS: SyncSettings = SyncSettings {
        interval: Duration::from_secs(1),
        max_busy_share: 0.1,
    };

    /// A mirror whose poller never runs: answers are fed to [`sync`].
    pub fn mirror() -> Arc<TorrentMirror> {
        Arc::new(TorrentMirror::new(SETTINGS))
    }

    /// Feeds one answer to the mirror as the poller would.
    pub fn sync(mirror: &TorrentMirror, data: MainData) {
        let number = mirror.write().begin_sync();
        mirror.apply(data, number);
    }

    pub fn maindata(value: serde_json::Value) -> MainData {
        serde_json::from_str(&value.to_string()).unwrap()
    }

    pub fn full(torrents: serde_json::Value) -> MainData {
        maindata(serde_json::json!({ "rid": 1, "full_update": true, "torrents": torrents }))
    }

    pub fn torrent(value: serde_json::Value) -> Torrent {
        serde_json::from_value(value).unwrap()
    }

    pub fn hash(text: &str) -> InfoHash {
        text.parse().unwrap()
    }

    /// What the mirror lists now, by hash.
    pub fn listed(mirror: &TorrentMirror) -> HashMap<InfoHash, Arc<Torrent>> {
        mirror
            .list(TorrentFilter::All, None, None)
            .expect("fresh")
            .into_iter()
            .map(|torrent| (torrent.hash, torrent))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::testing::*;
    use super::*;

    /// qBittorrent diffs against what it last sent, not against what a
    /// mutation recorded: the recorded value must give way to the next sync.
    #[test]
    fn a_recorded_value_gives_way_to_the_next_sync_that_started_after_it() {
        let mirror = mirror();
        sync(&mirror, full(json!({ A: { "name": "a", "dlspeed": 500 } })));
        let in_flight = mirror.write().begin_sync();
        mirror.record(&torrent(json!({ "hash": A, "name": "a", "dlspeed": 1000 })));
        let speed = |mirror: &TorrentMirror| listed(mirror)[&hash(A)].dlspeed;
        assert_eq!(speed(&mirror), 1000, "a read after the write sees it");
        // The sync that was running when the value was recorded predates it.
        mirror.apply(maindata(json!({ "rid": 2 })), in_flight);
        assert_eq!(speed(&mirror), 1000);
        // The next one reports no change for dlspeed: qBittorrent's value is
        // still the 500 it sent before.
        sync(&mirror, maindata(json!({ "rid": 3 })));
        assert_eq!(speed(&mirror), 500);

        mirror.forget(hash(A));
        assert!(
            listed(&mirror).is_empty(),
            "a deleted torrent is hidden at once"
        );
    }

    #[test]
    fn reads_come_from_the_mirror_only_while_fresh() {
        let mirror = mirror();
        assert!(
            mirror.list(TorrentFilter::All, None, None).is_none(),
            "empty mirror is not fresh"
        );
        assert_eq!(mirror.readiness(), Err(Unready::NotSyncedYet));
        sync(
            &mirror,
            full(json!({ A: { "name": "a", "state": "pausedDL", "category": "tv" } })),
        );
        let paused = mirror
            .list(TorrentFilter::Paused, Some("tv"), None)
            .unwrap();
        assert_eq!(paused.len(), 1);
        assert!(
            mirror
                .list(TorrentFilter::Resumed, None, None)
                .unwrap()
                .is_empty()
        );
        assert_eq!(mirror.readiness(), Ok(()));
        mirror.disconnected("connection refused".to_owned());
        assert!(
            mirror.list(TorrentFilter::All, None, None).is_none(),
            "disconnected mirror is stale"
        );
        assert_eq!(
            mirror.readiness().map_err(|unready| unready.class()),
            Err("qbittorrent_unavailable")
        );
    }

    #[test]
    fn categories_are_typed_and_merged_field_by_field() {
        let mirror = mirror();
        sync(
            &mirror,
            maindata(json!({
                "rid": 1, "full_update": true,
                "categories": { "tv": { "name": "tv", "savePath": "/tv" }, "film": { "name": "film", "savePath": "" } },
            })),
        );
        sync(
            &mirror,
            maindata(json!({
                "rid": 2,
                "categories": { "film": { "savePath": "/films" } },
                "categories_removed": ["tv"],
            })),
        );
        mirror.record_category("music");
        let categories = mirror.categories().unwrap();
        assert_eq!(
            categories,
            vec![
                Category {
                    name: "film".to_owned(),
                    save_path: "/films".to_owned()
                },
                Category {
                    name: "music".to_owned(),
                    save_path: String::new()
                },
            ]
        );
    }
    #[test]
    fn tags_follow_full_and_partial_syncs() {
        let mirror = mirror();
        sync(
            &mirror,
            maindata(json!({ "rid": 1, "full_update": true, "tags": ["tv", "hd"] })),
        );
        sync(
            &mirror,
            maindata(json!({ "rid": 2, "tags": ["4k"], "tags_removed": ["tv"] })),
        );
        assert_eq!(mirror.tags().unwrap(), ["4k", "hd"]);
        mirror.record_tags(&["new".to_owned()]);
        mirror.forget_tags(&["hd".to_owned()]);
        assert_eq!(mirror.tags().unwrap(), ["4k", "new"]);
        sync(
            &mirror,
            maindata(json!({ "rid": 3, "full_update": true, "tags": ["only"] })),
        );
        assert_eq!(mirror.tags().unwrap(), ["only"]);
    }
}
