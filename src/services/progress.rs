//! The one mirror of qBittorrent, and the live progress streams built on it.
//!
//! A single poller task keeps every torrent and category in memory through
//! qBittorrent's incremental `sync/maindata?rid=N` (partial objects merged,
//! `torrents_removed` applied, `full_update` replacing everything). Each
//! change is published once, as a versioned [`MirrorUpdate`], on a bounded
//! broadcast channel; subscribers filter it for themselves. So the cost to
//! qBittorrent is the same with no subscriber or ten thousand, and no
//! subscriber ever calls qBittorrent.
//!
//! The mirror is *fresh* while its last sync succeeded within three poll
//! intervals (plus a second); reads fall back to qBittorrent otherwise.
//! When qBittorrent goes away the mirror turns stale, subscriptions stay
//! open, and when it comes back the sync restarts from `rid=0` and every
//! subscriber gets a fresh snapshot.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::Stream;
use serde_json::{Map, Value};
use tokio::sync::{Notify, broadcast, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::clients::qbittorrent::{Category, MainData, QbittorrentClient, Torrent, TorrentFilter};
use crate::torrent::InfoHash;

/// Updates a subscriber may fall behind by before it is sent a fresh
/// snapshot instead.
const UPDATE_BUFFER: usize = 32;

/// First retry delay after qBittorrent fails to answer; doubles up to
/// [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(10);

/// How the poller paces itself.
#[derive(Debug, Clone, Copy)]
pub struct SyncSettings {
    /// The shortest time between two syncs.
    pub interval: Duration,
    /// The largest share of qBittorrent's time torrentql's syncs may take:
    /// a sync that took `d` is followed by a pause of at least `d / share`.
    pub max_busy_share: f64,
}

/// One change to the mirror, as published to subscribers.
#[derive(Debug)]
pub struct MirrorUpdate {
    /// Increases by one with every update.
    pub version: u64,
    /// The mirror was rebuilt from scratch (first fill, or qBittorrent came
    /// back): subscribers should send a snapshot rather than a delta.
    pub reset: bool,
    /// Torrents that are new or differ from before, as they are now.
    pub changed: Vec<Arc<Torrent>>,
    /// Torrents that disappeared.
    pub removed: Vec<InfoHash>,
    /// Torrents that finished downloading with this update.
    pub completed: Vec<Arc<Torrent>>,
}

/// One event of a progress stream.
#[derive(Debug, Clone)]
pub struct ProgressEvent {
    /// True when `torrents` is every matching torrent, not only changes.
    pub snapshot: bool,
    pub torrents: Vec<Arc<Torrent>>,
    pub removed: Vec<InfoHash>,
}

/// The state of the poller, for health reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncStatus {
    /// The first full sync has completed.
    pub filled: bool,
    /// The last sync succeeded.
    pub connected: bool,
    /// Completed syncs, successful or not.
    pub syncs: u64,
}

#[derive(Default)]
struct MirrorState {
    /// qBittorrent's objects with every partial update merged in, plus
    /// their `hash`.
    raw: HashMap<InfoHash, Map<String, Value>>,
    /// `raw`, parsed; rebuilt only for entries that changed.
    torrents: HashMap<InfoHash, Arc<Torrent>>,
    categories: BTreeMap<String, Map<String, Value>>,
    /// Torrents whose completion was published, so none is twice.
    reported_complete: HashSet<InfoHash>,
    version: u64,
    last_success: Option<Instant>,
    /// The current time between sync starts (stretched by slow syncs).
    current_interval: Duration,
}

/// The in-memory mirror of one qBittorrent.
pub struct TorrentMirror {
    client: Arc<QbittorrentClient>,
    settings: SyncSettings,
    state: RwLock<MirrorState>,
    updates: broadcast::Sender<Arc<MirrorUpdate>>,
    status: watch::Sender<SyncStatus>,
    /// Wakes the poller early (a subscriber is waiting for the first fill).
    wake: Notify,
}

impl TorrentMirror {
    /// An empty mirror; call [`TorrentMirror::run`] to fill and keep it.
    pub fn new(client: Arc<QbittorrentClient>, settings: SyncSettings) -> Self {
        let (updates, _) = broadcast::channel(UPDATE_BUFFER);
        let (status, _) = watch::channel(SyncStatus {
            filled: false,
            connected: false,
            syncs: 0,
        });
        Self {
            client,
            settings,
            state: RwLock::new(MirrorState {
                current_interval: settings.interval,
                ..MirrorState::default()
            }),
            updates,
            status,
            wake: Notify::new(),
        }
    }

    /// The poller: syncs until `shutdown`, pacing itself by its own cost.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut rid = 0;
        let mut retry_delay = FIRST_RETRY_DELAY;
        loop {
            let started = Instant::now();
            let result = tokio::select! {
                result = self.client.sync_maindata(rid) => result,
                () = shutdown.cancelled() => return,
            };
            let cost = started.elapsed();
            let next_start = match result {
                Ok(data) => {
                    rid = data.rid;
                    retry_delay = FIRST_RETRY_DELAY;
                    self.apply(data);
                    started + self.period(cost)
                }
                Err(error) => {
                    // Start over from scratch when it comes back.
                    rid = 0;
                    if self.status.borrow().connected {
                        tracing::warn!(%error, "qBittorrent stopped answering; the mirror is stale");
                    }
                    self.status.send_modify(|status| {
                        status.connected = false;
                        status.syncs += 1;
                    });
                    let delay = retry_delay;
                    retry_delay = (retry_delay * 2).min(MAX_RETRY_DELAY);
                    Instant::now() + delay
                }
            };
            tokio::select! {
                () = tokio::time::sleep_until(next_start) => {}
                () = self.wake.notified() => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// Time from the start of one sync to the start of the next, after a
    /// sync that took `cost`: the configured interval, stretched so that
    /// syncing takes at most `max_busy_share` of qBittorrent's time.
    fn period(&self, cost: Duration) -> Duration {
        let share = self.settings.max_busy_share.clamp(0.001, 1.0);
        let period = cost.div_f64(share).max(self.settings.interval);
        let mut state = self.state.write().expect("mirror lock");
        if period > self.settings.interval && state.current_interval == self.settings.interval {
            tracing::debug!(?cost, ?period, "sync is slow; stretching the interval");
        }
        state.current_interval = period;
        period
    }

    /// Merges one `sync/maindata` answer and publishes what changed.
    fn apply(&self, data: MainData) {
        let mut state = self.state.write().expect("mirror lock");
        let was_filled = self.status.borrow().filled;
        let reset = data.full_update;
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        let mut completed = Vec::new();

        if reset {
            let listed: HashSet<InfoHash> = data
                .torrents
                .keys()
                .filter_map(|hash| hash.parse().ok())
                .collect();
            let gone: Vec<InfoHash> = state
                .raw
                .keys()
                .filter(|hash| !listed.contains(hash))
                .copied()
                .collect();
            for hash in gone {
                state.raw.remove(&hash);
                state.torrents.remove(&hash);
                removed.push(hash);
            }
            state.categories.clear();
        }
        for (hash_text, partial) in data.torrents {
            let Ok(hash) = hash_text.parse::<InfoHash>() else {
                tracing::debug!(hash = %hash_text, "skipping a torrent with an unusable hash");
                continue;
            };
            let entry = state.raw.entry(hash).or_insert_with(|| {
                let mut fresh = Map::new();
                fresh.insert("hash".to_owned(), Value::String(hash_text.clone()));
                fresh
            });
            if reset {
                entry.retain(|key, _| key == "hash");
            }
            entry.extend(partial);
            if let Some((torrent, finished)) = reparse(&mut state, hash) {
                if finished && was_filled {
                    completed.push(Arc::clone(&torrent));
                }
                changed.push(torrent);
            }
        }
        for hash_text in data.torrents_removed {
            if let Ok(hash) = hash_text.parse::<InfoHash>()
                && state.raw.remove(&hash).is_some()
            {
                state.torrents.remove(&hash);
                removed.push(hash);
            }
        }
        for (name, partial) in data.categories {
            state.categories.entry(name).or_default().extend(partial);
        }
        for name in data.categories_removed {
            state.categories.remove(&name);
        }
        state.last_success = Some(Instant::now());

        let update = if reset || !changed.is_empty() || !removed.is_empty() {
            state.version += 1;
            Some(MirrorUpdate {
                version: state.version,
                reset,
                changed,
                removed,
                completed,
            })
        } else {
            None
        };
        drop(state);
        self.status.send_modify(|status| {
            status.filled = true;
            status.connected = true;
            status.syncs += 1;
        });
        if let Some(update) = update {
            for torrent in &update.completed {
                tracing::info!(hash = %torrent.hash, name = %torrent.name, "torrent completed");
            }
            // No receiver is not an error: nobody is subscribed.
            let _ = self.updates.send(Arc::new(update));
        }
    }

    /// Records a torrent as qBittorrent just reported it (after a
    /// mutation), so a read right after a write sees the write.
    pub fn record(&self, torrent: &Torrent) {
        let Ok(Value::Object(fields)) = serde_json::to_value(torrent) else {
            return;
        };
        let mut state = self.state.write().expect("mirror lock");
        if !self.status.borrow().filled {
            return;
        }
        state.raw.entry(torrent.hash).or_default().extend(fields);
        let Some((torrent, finished)) = reparse(&mut state, torrent.hash) else {
            return;
        };
        state.version += 1;
        let update = MirrorUpdate {
            version: state.version,
            reset: false,
            completed: if finished {
                vec![Arc::clone(&torrent)]
            } else {
                Vec::new()
            },
            changed: vec![torrent],
            removed: Vec::new(),
        };
        drop(state);
        let _ = self.updates.send(Arc::new(update));
    }

    /// Records that a category exists (after a mutation created it).
    pub fn record_category(&self, name: &str) {
        let mut state = self.state.write().expect("mirror lock");
        state.categories.entry(name.to_owned()).or_insert_with(|| {
            let mut fields = Map::new();
            fields.insert("name".to_owned(), Value::String(name.to_owned()));
            fields.insert("savePath".to_owned(), Value::String(String::new()));
            fields
        });
    }

    /// Records that a torrent is gone (after a delete).
    pub fn forget(&self, hash: InfoHash) {
        let mut state = self.state.write().expect("mirror lock");
        if state.raw.remove(&hash).is_none() {
            return;
        }
        state.torrents.remove(&hash);
        state.version += 1;
        let update = MirrorUpdate {
            version: state.version,
            reset: false,
            changed: Vec::new(),
            removed: vec![hash],
            completed: Vec::new(),
        };
        drop(state);
        let _ = self.updates.send(Arc::new(update));
    }

    /// Whether reads may be answered from the mirror now.
    pub fn is_fresh(&self) -> bool {
        let status = *self.status.borrow();
        let state = self.state.read().expect("mirror lock");
        let stale_after = state.current_interval * 3 + Duration::from_secs(1);
        status.filled
            && status.connected
            && state
                .last_success
                .is_some_and(|last| last.elapsed() <= stale_after)
    }

    /// The poller's state.
    pub fn status(&self) -> SyncStatus {
        *self.status.borrow()
    }

    /// Torrents matching the arguments, or `None` when the mirror is not
    /// fresh (ask qBittorrent instead).
    pub fn list(
        &self,
        filter: TorrentFilter,
        category: Option<&str>,
        hashes: Option<&[InfoHash]>,
    ) -> Option<Vec<Arc<Torrent>>> {
        if !self.is_fresh() {
            return None;
        }
        let state = self.state.read().expect("mirror lock");
        let matches = |torrent: &&Arc<Torrent>| {
            filter.matches(torrent) && category.is_none_or(|category| torrent.category == category)
        };
        let mut torrents: Vec<Arc<Torrent>> = match hashes {
            Some(hashes) => hashes
                .iter()
                .collect::<HashSet<_>>()
                .into_iter()
                .filter_map(|hash| state.torrents.get(hash))
                .filter(matches)
                .cloned()
                .collect(),
            None => state.torrents.values().filter(matches).cloned().collect(),
        };
        torrents.sort_by(|a, b| a.added_on.cmp(&b.added_on).then(a.hash.cmp(&b.hash)));
        Some(torrents)
    }

    /// Every category, or `None` when the mirror is not fresh.
    pub fn categories(&self) -> Option<Vec<Category>> {
        if !self.is_fresh() {
            return None;
        }
        let state = self.state.read().expect("mirror lock");
        Some(
            state
                .categories
                .iter()
                .map(|(name, fields)| Category {
                    name: name.clone(),
                    save_path: fields
                        .get("savePath")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect(),
        )
    }

    /// Waits for the first full sync (the one the poller makes anyway: a
    /// waiting subscriber never starts another).
    pub async fn filled(&self) {
        let mut status = self.status.subscribe();
        // `wait_for` only fails when the poller is gone; then there is
        // nothing to wait for.
        let _ = status.wait_for(|status| status.filled).await;
    }

    /// Live progress of the torrents in `hashes` (every torrent when
    /// `None`): a snapshot first, then only what changed, never an empty
    /// event; a fresh snapshot after falling behind or a resync.
    pub fn progress(
        self: &Arc<Self>,
        hashes: Option<HashSet<InfoHash>>,
    ) -> impl Stream<Item = ProgressEvent> + Send + 'static + use<> {
        let mirror = Arc::clone(self);
        async_stream::stream! {
            // Subscribe before the snapshot so nothing falls in between;
            // updates the snapshot already contains are skipped by version.
            let mut updates = mirror.updates.subscribe();
            mirror.filled().await;
            let (mut version, snapshot) = mirror.snapshot(hashes.as_ref());
            yield snapshot;
            loop {
                match updates.recv().await {
                    Ok(update) if update.version <= version => {}
                    Ok(update) if update.reset => {
                        let (current, snapshot) = mirror.snapshot(hashes.as_ref());
                        version = current;
                        yield snapshot;
                    }
                    Ok(update) => {
                        version = update.version;
                        let wanted = |hash: &InfoHash| hashes.as_ref().is_none_or(|hashes| hashes.contains(hash));
                        let torrents: Vec<_> = update.changed.iter().filter(|t| wanted(&t.hash)).cloned().collect();
                        let removed: Vec<_> = update.removed.iter().filter(|hash| wanted(hash)).copied().collect();
                        if !torrents.is_empty() || !removed.is_empty() {
                            yield ProgressEvent { snapshot: false, torrents, removed };
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "a progress subscriber fell behind; sending a snapshot");
                        let (current, snapshot) = mirror.snapshot(hashes.as_ref());
                        version = current;
                        yield snapshot;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        }
    }

    /// Torrents in `hashes` (any when `None`) as they finish downloading,
    /// each once.
    pub fn completions(
        self: &Arc<Self>,
        hashes: Option<HashSet<InfoHash>>,
    ) -> impl Stream<Item = Arc<Torrent>> + Send + 'static + use<> {
        let mut updates = self.updates.subscribe();
        async_stream::stream! {
            loop {
                match updates.recv().await {
                    Ok(update) => {
                        for torrent in &update.completed {
                            if hashes.as_ref().is_none_or(|hashes| hashes.contains(&torrent.hash)) {
                                yield Arc::clone(torrent);
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a completion subscriber fell behind; some completions were skipped");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        }
    }

    fn snapshot(&self, hashes: Option<&HashSet<InfoHash>>) -> (u64, ProgressEvent) {
        let state = self.state.read().expect("mirror lock");
        let mut torrents: Vec<Arc<Torrent>> = match hashes {
            Some(hashes) => hashes
                .iter()
                .filter_map(|hash| state.torrents.get(hash))
                .cloned()
                .collect(),
            None => state.torrents.values().cloned().collect(),
        };
        torrents.sort_by(|a, b| a.added_on.cmp(&b.added_on).then(a.hash.cmp(&b.hash)));
        (
            state.version,
            ProgressEvent {
                snapshot: true,
                torrents,
                removed: Vec::new(),
            },
        )
    }
}

/// Re-parses `raw[hash]`; returns the torrent when it differs from before,
/// and whether it just finished downloading.
///
/// Finishing is the completion time going from unset to set on a torrent
/// seen before, reported at most once per hash: a restart of qBittorrent
/// (every torrent re-checks its resume data) or of torrentql (nothing was
/// seen before) reports nothing again.
fn reparse(state: &mut MirrorState, hash: InfoHash) -> Option<(Arc<Torrent>, bool)> {
    let raw = state.raw.get(&hash)?;
    let parsed: Torrent = match serde_json::from_value(Value::Object(raw.clone())) {
        Ok(parsed) => parsed,
        Err(error) => {
            tracing::warn!(%hash, %error, "cannot read a torrent from sync/maindata");
            return None;
        }
    };
    let previous = state.torrents.get(&hash);
    if previous.is_some_and(|previous| **previous == parsed) {
        return None;
    }
    let finished = previous.is_some_and(|previous| previous.completed_at().is_none())
        && parsed.completed_at().is_some()
        && parsed.progress >= 1.0
        && state.reported_complete.insert(hash);
    let parsed = Arc::new(parsed);
    state.torrents.insert(hash, Arc::clone(&parsed));
    Some((parsed, finished))
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use serde_json::json;

    use super::*;
    use crate::clients::qbittorrent::Credentials;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    /// A mirror whose poller never runs: updates are fed to `apply`.
    fn mirror() -> Arc<TorrentMirror> {
        let client = QbittorrentClient::new(
            &"http://127.0.0.1:9/".parse().unwrap(),
            Credentials::ApiKey("unused".to_owned().into()),
            Duration::from_secs(1),
        )
        .unwrap();
        Arc::new(TorrentMirror::new(
            Arc::new(client),
            SyncSettings {
                interval: Duration::from_secs(1),
                max_busy_share: 0.1,
            },
        ))
    }

    fn maindata(value: serde_json::Value) -> MainData {
        serde_json::from_value(value).unwrap()
    }

    fn full(torrents: serde_json::Value) -> MainData {
        maindata(json!({ "rid": 1, "full_update": true, "torrents": torrents }))
    }

    async fn next(events: &mut (impl Stream<Item = ProgressEvent> + Unpin)) -> ProgressEvent {
        tokio::time::timeout(Duration::from_secs(1), events.next())
            .await
            .expect("an event")
            .expect("stream open")
    }

    #[tokio::test]
    async fn partial_updates_merge_and_only_changes_are_sent() {
        let mirror = mirror();
        mirror.apply(full(json!({
            A: { "name": "a", "progress": 0.1, "state": "downloading" },
            B: { "name": "b", "progress": 0.5, "state": "downloading" },
        })));
        let mut events = Box::pin(mirror.progress(None));
        let snapshot = next(&mut events).await;
        assert!(snapshot.snapshot);
        assert_eq!(snapshot.torrents.len(), 2);

        mirror.apply(maindata(
            json!({ "rid": 2, "torrents": { A: { "progress": 0.2 } } }),
        ));
        let delta = next(&mut events).await;
        assert!(!delta.snapshot);
        assert_eq!(delta.torrents.len(), 1);
        assert_eq!(delta.torrents[0].name, "a", "unchanged fields are kept");
        assert!((delta.torrents[0].progress - 0.2).abs() < f64::EPSILON);

        // The same values again change nothing: no event.
        mirror.apply(maindata(
            json!({ "rid": 3, "torrents": { A: { "progress": 0.2 } } }),
        ));
        mirror.apply(maindata(json!({ "rid": 4, "torrents_removed": [B] })));
        let removal = next(&mut events).await;
        assert_eq!(removal.removed, vec![B.parse::<InfoHash>().unwrap()]);
        assert!(removal.torrents.is_empty());
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_gets_a_snapshot_not_a_backlog() {
        let mirror = mirror();
        mirror.apply(full(json!({ A: { "name": "a", "progress": 0.0 } })));
        let mut events = Box::pin(mirror.progress(None));
        assert!(next(&mut events).await.snapshot);
        for step in 1..=(UPDATE_BUFFER * 3) {
            let progress = step as f64 / 1000.0;
            mirror.apply(maindata(
                json!({ "rid": step + 1, "torrents": { A: { "progress": progress } } }),
            ));
        }
        let caught_up = next(&mut events).await;
        assert!(caught_up.snapshot, "expected a snapshot after lagging");
        let latest = (UPDATE_BUFFER * 3) as f64 / 1000.0;
        assert!((caught_up.torrents[0].progress - latest).abs() < 1e-9);
    }

    #[tokio::test]
    async fn a_full_update_after_reconnecting_is_a_snapshot_with_removals_applied() {
        let mirror = mirror();
        mirror.apply(full(json!({ A: { "name": "a" }, B: { "name": "b" } })));
        let mut events = Box::pin(mirror.progress(None));
        assert_eq!(next(&mut events).await.torrents.len(), 2);
        mirror.apply(full(json!({ A: { "name": "a" } })));
        let resynced = next(&mut events).await;
        assert!(resynced.snapshot);
        assert_eq!(resynced.torrents.len(), 1);
    }

    #[tokio::test]
    async fn completion_fires_once_and_not_for_torrents_complete_at_start() {
        let mirror = mirror();
        let mut completions = Box::pin(mirror.completions(None));
        mirror.apply(full(json!({
            A: { "progress": 0.9, "completion_on": -1 },
            B: { "progress": 1.0, "completion_on": 1_700_000_000 },
        })));
        mirror.apply(maindata(json!({ "rid": 2, "torrents": { A: { "progress": 1.0, "completion_on": 1_700_000_100 } } })));
        // qBittorrent restarting: the full list again, then a recheck.
        mirror.apply(full(json!({
            A: { "progress": 1.0, "completion_on": 1_700_000_100 },
            B: { "progress": 1.0, "completion_on": 1_700_000_000 },
        })));
        mirror.apply(maindata(
            json!({ "rid": 3, "torrents": { A: { "completion_on": -1 } } }),
        ));
        mirror.apply(maindata(
            json!({ "rid": 4, "torrents": { A: { "completion_on": 1_700_000_200 } } }),
        ));

        let first = tokio::time::timeout(Duration::from_secs(1), completions.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.hash.to_string(), A);
        assert!(
            tokio::time::timeout(Duration::from_millis(200), completions.next())
                .await
                .is_err(),
            "a completion was reported twice"
        );
    }

    #[tokio::test]
    async fn reads_come_from_the_mirror_only_while_fresh() {
        let mirror = mirror();
        assert!(
            mirror.list(TorrentFilter::All, None, None).is_none(),
            "empty mirror is not fresh"
        );
        mirror.apply(full(
            json!({ A: { "name": "a", "state": "pausedDL", "category": "tv" } }),
        ));
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
        mirror.status.send_modify(|status| status.connected = false);
        assert!(
            mirror.list(TorrentFilter::All, None, None).is_none(),
            "disconnected mirror is stale"
        );
    }
}
