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
//! The mirror is *fresh* while its last sync succeeded within three sync
//! periods (plus a second); reads fall back to qBittorrent otherwise.
//! When qBittorrent goes away the mirror turns stale, subscriptions stay
//! open, and when it comes back the sync restarts from `rid=0` and every
//! subscriber gets a fresh snapshot.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::Stream;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::clients::qbittorrent::{
    Category, MainData, QbittorrentClient, QbittorrentError, Torrent, TorrentFilter,
};
use crate::torrent::InfoHash;

/// Updates a subscriber may fall behind by before it is sent a fresh
/// snapshot instead.
const UPDATE_BUFFER: usize = 32;

/// Completions kept for a slow completion subscriber.
const COMPLETION_BUFFER: usize = 1024;

/// First retry delay after qBittorrent fails to answer; doubles up to
/// [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(10);
/// How many recent full syncs' costs set the pace (the slowest of them,
/// unless it is an outlier; see [`pacing_cost`]).
const PACING_SYNCS: usize = 4;

/// A sync that took this many times the median of the others hung (its
/// time was not spent serving it) and does not set the pace alone.
const OUTLIER_FACTOR: u32 = 3;

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
}

/// One event of a progress stream.
#[derive(Debug, Clone)]
pub struct ProgressEvent {
    /// True when `torrents` is every matching torrent, not only changes.
    pub snapshot: bool,
    /// The mirror was not fresh when this snapshot was taken (qBittorrent
    /// does not answer, or its last sync is too old): the torrents are as
    /// last synced. Deltas come from syncs, so they are never stale.
    pub stale: bool,
    pub torrents: Vec<Arc<Torrent>>,
    pub removed: Vec<InfoHash>,
}

/// Why the mirror does not answer reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unready {
    /// The last sync failed, for this reason.
    #[error("qBittorrent does not answer: {0}")]
    Unanswered(String),
    #[error("waiting for the first sync with qBittorrent")]
    NotSyncedYet,
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

/// The state of the poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SyncStatus {
    /// The first full sync has completed.
    pub filled: bool,
    /// The last sync succeeded.
    pub connected: bool,
}

#[derive(Default)]
struct MirrorState {
    /// Every torrent as the sync reports it: qBittorrent's baseline for its
    /// next diff. Kept typed; keeping qBittorrent's raw objects would cost
    /// several times the memory.
    synced: HashMap<InfoHash, Arc<Torrent>>,
    /// Newer facts than the sync's, from a mutation or a focused poll,
    /// shown instead of `synced` until a sync that started after them
    /// replaces them (a diff against qBittorrent's baseline would never
    /// correct them otherwise).
    overlays: HashMap<InfoHash, Overlay>,
    categories: BTreeMap<String, Map<String, Value>>,
    /// Torrents whose completion was published, so none is twice.
    reported_complete: HashSet<InfoHash>,
    version: u64,
    /// Numbers the syncs, so an overlay knows which sync may replace it.
    syncs_started: u64,
    last_success: Option<Instant>,
    /// The current time between full sync starts (stretched by slow syncs).
    current_interval: Duration,
    /// What the last few full syncs took. The slowest sets the pace, as a
    /// sync can take twice as long as the one before it (qBittorrent 4.5
    /// at 10,000 torrents: 4 to 10 s); but not one call that hung
    /// (qBittorrent stopped, then continued), which is not what
    /// qBittorrent spends serving syncs.
    recent_full_costs: VecDeque<Duration>,
    /// How long the last focused poll took: its share of qBittorrent's time
    /// comes out of the full sync's budget.
    last_focus_cost: Duration,
    /// Why the last full sync failed, until one succeeds.
    last_error: Option<String>,
}

struct Overlay {
    /// `None` hides a torrent just deleted.
    torrent: Option<Arc<Torrent>>,
    /// The sync running when it was recorded, whose answer may predate it.
    recorded_during: u64,
}

impl MirrorState {
    /// A torrent as torrentql shows it: its overlay, else the synced one.
    fn view(&self, hash: &InfoHash) -> Option<&Arc<Torrent>> {
        match self.overlays.get(hash) {
            Some(overlay) => overlay.torrent.as_ref(),
            None => self.synced.get(hash),
        }
    }

    /// A torrent by its id or, for a hybrid listed under its v2 hash, its
    /// v1 hash (looked for only when no torrent has `hash` as its id).
    fn find(&self, hash: &InfoHash) -> Option<&Arc<Torrent>> {
        self.view(hash)
            .or_else(|| self.all().find(|torrent| torrent.is_known_by(*hash)))
    }

    fn all(&self) -> impl Iterator<Item = &Arc<Torrent>> {
        self.synced
            .iter()
            .filter(|(hash, _)| !self.overlays.contains_key(hash))
            .map(|(_, torrent)| torrent)
            .chain(
                self.overlays
                    .values()
                    .filter_map(|overlay| overlay.torrent.as_ref()),
            )
    }

    /// What changed for `before`'s hashes (their views before a change):
    /// changed torrents, removed hashes, and torrents that just finished.
    ///
    /// Finishing is the completion time going from unset to set on a
    /// torrent seen before, reported at most once per hash: a restart of
    /// qBittorrent (every torrent re-checks its resume data) or of
    /// torrentql (nothing was seen before) reports nothing again.
    fn diff(&mut self, before: HashMap<InfoHash, Option<Arc<Torrent>>>) -> Changes {
        let mut changes = Changes::default();
        for (hash, old) in before {
            match (old, self.view(&hash).cloned()) {
                (Some(_), None) => {
                    self.reported_complete.remove(&hash);
                    changes.removed.push(hash);
                }
                (old, Some(new)) if old.as_deref() != Some(&*new) => {
                    let finished = old.as_ref().is_some_and(|old| old.completed_at().is_none())
                        && new.completed_at().is_some()
                        && new.progress >= 1.0
                        && self.reported_complete.insert(hash);
                    if finished {
                        changes.completed.push(Arc::clone(&new));
                    }
                    changes.changed.push(new);
                }
                _ => {}
            }
        }
        changes
    }
}

#[derive(Default)]
struct Changes {
    changed: Vec<Arc<Torrent>>,
    removed: Vec<InfoHash>,
    completed: Vec<Arc<Torrent>>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Which torrents the live subscribers watch.
#[derive(Default)]
struct Watchers {
    next_id: u64,
    /// `None`: every torrent.
    by_id: HashMap<u64, Option<HashSet<InfoHash>>>,
}

/// Unregisters a subscriber's interest when its stream is dropped.
struct Watching {
    mirror: Arc<TorrentMirror>,
    id: u64,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.mirror
            .watchers
            .lock()
            .expect("watchers lock")
            .by_id
            .remove(&self.id);
    }
}

/// The in-memory mirror of one qBittorrent.
pub struct TorrentMirror {
    client: Arc<QbittorrentClient>,
    settings: SyncSettings,
    state: RwLock<MirrorState>,
    updates: broadcast::Sender<Arc<MirrorUpdate>>,
    /// Completions have a channel of their own, with room for bursts: a
    /// subscriber lagging on progress must not miss one.
    completions: broadcast::Sender<Arc<Torrent>>,
    status: watch::Sender<SyncStatus>,
    watchers: std::sync::Mutex<Watchers>,
}

impl TorrentMirror {
    /// An empty mirror; call [`TorrentMirror::run`] to fill and keep it.
    pub fn new(client: Arc<QbittorrentClient>, settings: SyncSettings) -> Self {
        let (updates, _) = broadcast::channel(UPDATE_BUFFER);
        let (completions, _) = broadcast::channel(COMPLETION_BUFFER);
        let (status, _) = watch::channel(SyncStatus {
            filled: false,
            connected: false,
        });
        Self {
            client,
            settings,
            state: RwLock::new(MirrorState {
                current_interval: settings.interval,
                ..MirrorState::default()
            }),
            updates,
            completions,
            status,
            watchers: std::sync::Mutex::default(),
        }
    }

    /// The poller: full syncs paced by their own cost and, between full
    /// syncs stretched past the interval, focused polls of the torrents the
    /// live subscribers watch, at the interval. Ends on `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut rid = 0;
        let mut retry_delay = FIRST_RETRY_DELAY;
        loop {
            let number = self.begin_sync();
            let started = Instant::now();
            let result = tokio::select! {
                result = self.sync(rid) => result,
                () = shutdown.cancelled() => return,
            };
            let next_full = match result {
                Ok((data, cost)) => {
                    rid = data.rid;
                    retry_delay = FIRST_RETRY_DELAY;
                    self.apply(data, number);
                    started + self.period(cost)
                }
                Err(error) => {
                    // Start over from scratch when it comes back.
                    rid = 0;
                    if self.status.borrow().connected {
                        tracing::warn!(%error, "qBittorrent stopped answering; the mirror is stale");
                    }
                    self.state.write().expect("mirror lock").last_error = Some(error.to_string());
                    self.status.send_modify(|status| status.connected = false);
                    let delay = retry_delay;
                    retry_delay = (retry_delay * 2).min(MAX_RETRY_DELAY);
                    Instant::now() + delay
                }
            };
            let mut next_focus = started + self.settings.interval;
            while next_focus < next_full {
                tokio::select! {
                    () = tokio::time::sleep_until(next_focus) => {}
                    () = shutdown.cancelled() => return,
                }
                self.poll_watched().await;
                next_focus += self.settings.interval;
            }
            tokio::select! {
                () = tokio::time::sleep_until(next_full) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// One `sync/maindata` call, and what it cost: not counting a login
    /// first (qBittorrent spends ~0.1 s of PBKDF2 on one), which would
    /// otherwise stretch the next few periods.
    async fn sync(&self, rid: i64) -> Result<(MainData, Duration), QbittorrentError> {
        self.client.api_version().await?;
        let started = Instant::now();
        let data = self.client.sync_maindata(rid).await?;
        Ok((data, started.elapsed()))
    }

    fn begin_sync(&self) -> u64 {
        let mut state = self.state.write().expect("mirror lock");
        state.syncs_started += 1;
        state.syncs_started
    }

    /// Time from the start of one full sync to the start of the next, after
    /// a sync that took `cost`: the configured interval, stretched to as many
    /// intervals as it takes for syncs as slow as the slowest of the last few
    /// (outliers aside, see [`pacing_cost`]) to take at most
    /// `max_busy_share` of qBittorrent's time.
    fn period(&self, cost: Duration) -> Duration {
        let mut state = self.state.write().expect("mirror lock");
        if state.recent_full_costs.len() == PACING_SYNCS {
            state.recent_full_costs.pop_front();
        }
        state.recent_full_costs.push_back(cost);
        let cost = pacing_cost(&state.recent_full_costs);
        let share = self.settings.max_busy_share.clamp(0.001, 1.0);
        let focus_share =
            state.last_focus_cost.as_secs_f64() / self.settings.interval.as_secs_f64();
        // Focused polls run once per interval between full syncs; what they
        // take, the full sync must leave (but it keeps at least half).
        let full_share = (share - focus_share).max(share / 2.0);
        // A whole number of intervals: the focused polls take the ones in
        // between, so qBittorrent sees one request per interval, never a
        // poll and a full sync a fraction of an interval apart.
        let interval = self.settings.interval;
        let intervals = cost
            .div_f64(full_share)
            .as_nanos()
            .div_ceil(interval.as_nanos());
        let period = interval * u32::try_from(intervals.max(1)).unwrap_or(u32::MAX);
        if period > interval && state.current_interval == interval {
            tracing::debug!(?cost, ?period, "sync is slow; stretching the interval");
        }
        state.current_interval = period;
        period
    }

    /// The hashes every live subscriber watches, when none watches them
    /// all (and at least one watches something).
    fn watched(&self) -> Option<Vec<InfoHash>> {
        let watchers = self.watchers.lock().expect("watchers lock");
        let mut hashes = HashSet::new();
        for watched in watchers.by_id.values() {
            hashes.extend(watched.as_ref()?);
        }
        (!hashes.is_empty()).then(|| hashes.into_iter().collect())
    }

    /// Asks qBittorrent for the watched torrents alone and records them.
    async fn poll_watched(&self) {
        let Some(hashes) = self.watched() else {
            return;
        };
        if !self.status.borrow().connected {
            return;
        }
        let started = Instant::now();
        let polled = self
            .client
            .torrents(TorrentFilter::All, None, Some(&hashes))
            .await;
        self.state.write().expect("mirror lock").last_focus_cost = started.elapsed();
        match polled {
            Ok(torrents) => {
                let listed: HashSet<InfoHash> =
                    torrents.iter().map(|torrent| torrent.hash).collect();
                for torrent in torrents {
                    self.record(&torrent);
                }
                let gone: Vec<InfoHash> = {
                    let state = self.state.read().expect("mirror lock");
                    hashes
                        .into_iter()
                        .filter(|hash| !listed.contains(hash) && state.view(hash).is_some())
                        .collect()
                };
                for hash in gone {
                    self.forget(hash);
                }
            }
            Err(error) => {
                tracing::debug!(%error, "focused poll failed; the next full sync will tell")
            }
        }
    }

    /// Merges one `sync/maindata` answer (of sync `number`) and publishes
    /// what changed.
    fn apply(&self, data: MainData, number: u64) {
        let mut state = self.state.write().expect("mirror lock");
        let was_filled = self.status.borrow().filled;
        let reset = data.full_update;

        let partials: Vec<(InfoHash, Box<RawValue>)> = data
            .torrents
            .into_iter()
            .filter_map(|(hash, partial)| match hash.parse::<InfoHash>() {
                Ok(hash) => Some((hash, partial)),
                Err(_) => {
                    tracing::debug!(%hash, "skipping a torrent with an unusable hash");
                    None
                }
            })
            .collect();
        let removed: Vec<InfoHash> = data
            .torrents_removed
            .iter()
            .filter_map(|hash| hash.parse().ok())
            .collect();
        let replaced_overlays: Vec<InfoHash> = state
            .overlays
            .iter()
            .filter(|(_, overlay)| overlay.recorded_during < number)
            .map(|(hash, _)| *hash)
            .collect();
        let mut affected: HashSet<InfoHash> = partials.iter().map(|(hash, _)| *hash).collect();
        affected.extend(&removed);
        affected.extend(&replaced_overlays);
        if reset {
            affected.extend(state.synced.keys().copied());
        }
        let before: HashMap<InfoHash, Option<Arc<Torrent>>> = affected
            .iter()
            .map(|hash| (*hash, state.view(hash).cloned()))
            .collect();

        if reset {
            let listed: HashSet<InfoHash> = partials.iter().map(|(hash, _)| *hash).collect();
            state.synced.retain(|hash, _| listed.contains(hash));
            state.categories.clear();
        }
        for (hash, partial) in partials {
            // A full update's objects are whole; anything else is merged
            // into what the sync said before.
            let base = if reset {
                None
            } else {
                state.synced.get(&hash).cloned()
            };
            if let Some(torrent) = merged(base.as_deref(), hash, &partial) {
                state.synced.insert(hash, Arc::new(torrent));
            }
        }
        for hash in &removed {
            state.synced.remove(hash);
        }
        for hash in &replaced_overlays {
            state.overlays.remove(hash);
        }
        for (name, partial) in data.categories {
            state.categories.entry(name).or_default().extend(partial);
        }
        for name in data.categories_removed {
            state.categories.remove(&name);
        }
        state.last_success = Some(Instant::now());
        state.last_error = None;

        let mut changes = state.diff(before);
        if !was_filled {
            // Nothing finished that torrentql saw unfinished.
            changes.completed.clear();
        }
        let update = (reset || !changes.is_empty()).then(|| {
            state.version += 1;
            state.version
        });
        drop(state);
        self.status.send_modify(|status| {
            status.filled = true;
            status.connected = true;
        });
        if let Some(version) = update {
            self.publish(version, reset, changes);
        }
    }

    fn publish(&self, version: u64, reset: bool, changes: Changes) {
        for torrent in changes.completed {
            tracing::info!(hash = %torrent.hash, name = %torrent.name, "torrent completed");
            // No receiver is not an error: nobody is listening.
            let _ = self.completions.send(torrent);
        }
        let _ = self.updates.send(Arc::new(MirrorUpdate {
            version,
            reset,
            changed: changes.changed,
            removed: changes.removed,
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
        let mut state = self.state.write().expect("mirror lock");
        let before = HashMap::from([(hash, state.view(&hash).cloned())]);
        let recorded_during = state.syncs_started;
        state.overlays.insert(
            hash,
            Overlay {
                torrent,
                recorded_during,
            },
        );
        let changes = state.diff(before);
        if changes.is_empty() {
            return;
        }
        state.version += 1;
        let version = state.version;
        drop(state);
        self.publish(version, false, changes);
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

    /// `Ok` while reads are answered from the mirror; otherwise why not.
    pub fn readiness(&self) -> Result<(), Unready> {
        if self.is_fresh() {
            return Ok(());
        }
        let filled = self.status.borrow().filled;
        let state = self.state.read().expect("mirror lock");
        Err(match (&state.last_error, filled) {
            (Some(error), _) => Unready::Unanswered(error.clone()),
            (None, false) => Unready::NotSyncedYet,
            (None, true) => Unready::SyncTooOld,
        })
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
                .filter_map(|hash| state.find(hash))
                .filter(matches)
                .map(|torrent| (torrent.hash, torrent))
                .collect::<HashMap<_, _>>()
                .into_values()
                .cloned()
                .collect(),
            None => state.all().filter(matches).cloned().collect(),
        };
        torrents.sort_by(|a, b| a.added_on.cmp(&b.added_on).then(a.hash.cmp(&b.hash)));
        Some(torrents)
    }

    /// The id of the torrent `hash` names (its id, or a hybrid's v1
    /// hash), as last synced, fresh or not: a torrent's hashes never change.
    pub fn id_of(&self, hash: InfoHash) -> Option<InfoHash> {
        let state = self.state.read().expect("mirror lock");
        state.find(&hash).map(|torrent| torrent.hash)
    }

    /// The time between two full syncs now: the configured interval, or
    /// longer while qBittorrent is slow to answer them.
    pub fn sync_period(&self) -> Duration {
        self.state.read().expect("mirror lock").current_interval
    }

    /// Whether the first full sync has completed.
    pub fn is_filled(&self) -> bool {
        self.status.borrow().filled
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
    /// `None`; a hybrid's v1 hash names it too): a snapshot first, then
    /// only what changed, never an empty event; a fresh snapshot after
    /// falling behind or a resync.
    pub fn progress(
        self: &Arc<Self>,
        hashes: Option<HashSet<InfoHash>>,
    ) -> impl Stream<Item = ProgressEvent> + Send + 'static + use<> {
        let mirror = Arc::clone(self);
        async_stream::stream! {
            let _watching = mirror.watch(hashes.clone());
            // Subscribe before the snapshot so nothing falls in between;
            // updates the snapshot already contains are skipped by version.
            let mut updates = mirror.updates.subscribe();
            mirror.filled().await;
            let (mut version, snapshot) = mirror.snapshot(hashes.as_ref());
            let mut sent: HashSet<InfoHash> = snapshot.torrents.iter().map(|torrent| torrent.hash).collect();
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
                        let torrents: Vec<_> = update.changed.iter().filter(|t| is_watched(hashes.as_ref(), t)).cloned().collect();
                        // A removal names the id only: a hybrid watched by its
                        // v1 hash is known by the id of what was sent before.
                        sent.extend(torrents.iter().map(|torrent| torrent.hash));
                        let removed: Vec<_> = update.removed.iter()
                            .filter(|hash| hashes.as_ref().is_none_or(|hashes| hashes.contains(hash)) || sent.contains(hash))
                            .copied().collect();
                        if !torrents.is_empty() || !removed.is_empty() {
                            yield ProgressEvent { snapshot: false, stale: false, torrents, removed };
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
        let mut completions = self.completions.subscribe();
        async_stream::stream! {
            loop {
                match completions.recv().await {
                    Ok(torrent) if is_watched(hashes.as_ref(), &torrent) => yield torrent,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a completion subscriber fell far behind; some completions were skipped");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        }
    }

    /// Registers a subscriber's interest until the returned guard drops.
    fn watch(self: &Arc<Self>, hashes: Option<HashSet<InfoHash>>) -> Watching {
        let mut watchers = self.watchers.lock().expect("watchers lock");
        watchers.next_id += 1;
        let id = watchers.next_id;
        watchers.by_id.insert(id, hashes);
        Watching {
            mirror: Arc::clone(self),
            id,
        }
    }

    fn snapshot(&self, hashes: Option<&HashSet<InfoHash>>) -> (u64, ProgressEvent) {
        let stale = !self.is_fresh();
        let state = self.state.read().expect("mirror lock");
        let mut torrents: Vec<Arc<Torrent>> = match hashes {
            Some(hashes) => hashes
                .iter()
                .filter_map(|hash| state.find(hash))
                .map(|torrent| (torrent.hash, Arc::clone(torrent)))
                .collect::<HashMap<_, _>>()
                .into_values()
                .collect(),
            None => state.all().cloned().collect(),
        };
        torrents.sort_by(|a, b| a.added_on.cmp(&b.added_on).then(a.hash.cmp(&b.hash)));
        (
            state.version,
            ProgressEvent {
                snapshot: true,
                stale,
                torrents,
                removed: Vec::new(),
            },
        )
    }
}

/// Whether a subscriber watching `hashes` (every torrent when `None`)
/// watches `torrent`: by its id, or a hybrid by its v1 hash.
fn is_watched(hashes: Option<&HashSet<InfoHash>>, torrent: &Torrent) -> bool {
    hashes.is_none_or(|hashes| torrent.known_by().any(|hash| hashes.contains(&hash)))
}

/// The cost that sets the pace: the slowest of `costs`, unless it took
/// more than [`OUTLIER_FACTOR`] times the median of the others: then the
/// next slowest. One sync that hung is ignored; two slow ones in a row (a
/// qBittorrent that really got slower) set the pace.
fn pacing_cost(costs: &VecDeque<Duration>) -> Duration {
    let mut sorted: Vec<Duration> = costs.iter().copied().collect();
    sorted.sort_unstable();
    let Some((&slowest, others)) = sorted.split_last() else {
        return Duration::ZERO;
    };
    match others.get(others.len() / 2) {
        Some(&median) if slowest > median * OUTLIER_FACTOR => others[others.len() - 1],
        _ => slowest,
    }
}

/// `partial` (qBittorrent's changed fields) applied to `base`, or read as
/// a whole torrent when there is no base. `None` when it is unreadable.
fn merged(base: Option<&Torrent>, hash: InfoHash, partial: &RawValue) -> Option<Torrent> {
    if base.is_none()
        && let Some(torrent) = read_whole(hash, partial)
    {
        return Some(torrent);
    }
    let read = || -> serde_json::Result<Torrent> {
        let mut fields = match base.map(serde_json::to_value).transpose()? {
            Some(Value::Object(fields)) => fields,
            _ => Map::new(),
        };
        fields.extend(serde_json::from_str::<Map<String, Value>>(partial.get())?);
        fields.insert("hash".to_owned(), Value::String(hash.to_string()));
        serde_json::from_value(Value::Object(fields))
    };
    match read() {
        Ok(torrent) => Some(torrent),
        Err(error) => {
            tracing::warn!(%hash, %error, "cannot read a torrent from sync/maindata");
            None
        }
    }
}

/// A whole torrent (every one of a full update) read straight into its
/// typed form, its hash (the map key) added as the first field: ten times
/// less work than going through a JSON map. `None` when that fails (not an
/// object, or a `hash` of its own): [`merged`] then reads it field by field.
fn read_whole(hash: InfoHash, whole: &RawValue) -> Option<Torrent> {
    let fields = whole.get().strip_prefix('{')?.trim_start();
    let separator = if fields.starts_with('}') { "" } else { "," };
    serde_json::from_str(&format!("{{\"hash\":\"{hash}\"{separator}{fields}")).ok()
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

    /// Feeds one answer to the mirror as the poller would.
    fn sync(mirror: &TorrentMirror, data: MainData) {
        let number = mirror.begin_sync();
        mirror.apply(data, number);
    }

    fn maindata(value: serde_json::Value) -> MainData {
        serde_json::from_str(&value.to_string()).unwrap()
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
        sync(
            &mirror,
            full(json!({
                A: { "name": "a", "progress": 0.1, "state": "downloading" },
                B: { "name": "b", "progress": 0.5, "state": "downloading" },
            })),
        );
        let mut events = Box::pin(mirror.progress(None));
        let snapshot = next(&mut events).await;
        assert!(snapshot.snapshot);
        assert_eq!(snapshot.torrents.len(), 2);

        sync(
            &mirror,
            maindata(json!({ "rid": 2, "torrents": { A: { "progress": 0.2 } } })),
        );
        let delta = next(&mut events).await;
        assert!(!delta.snapshot);
        assert_eq!(delta.torrents.len(), 1);
        assert_eq!(delta.torrents[0].name, "a", "unchanged fields are kept");
        assert!((delta.torrents[0].progress - 0.2).abs() < f64::EPSILON);

        // The same values again change nothing: no event.
        sync(
            &mirror,
            maindata(json!({ "rid": 3, "torrents": { A: { "progress": 0.2 } } })),
        );
        sync(
            &mirror,
            maindata(json!({ "rid": 4, "torrents_removed": [B] })),
        );
        let removal = next(&mut events).await;
        assert_eq!(removal.removed, vec![B.parse::<InfoHash>().unwrap()]);
        assert!(removal.torrents.is_empty());
    }

    #[test]
    fn a_whole_torrent_reads_the_same_straight_or_field_by_field() {
        let hash: InfoHash = A.parse().unwrap();
        let entry = json!({
            "name": "a", "size": 7, "progress": 0.5, "state": "stoppedDL",
            "eta": 8_640_000, "category": "tv", "save_path": "/d", "added_on": 9,
            "infohash_v1": A, "unknown_to_torrentql": [1, { "x": null }],
        });
        let raw = |value: &serde_json::Value| RawValue::from_string(value.to_string()).unwrap();
        let mut with_hash = entry.as_object().unwrap().clone();
        with_hash.insert("hash".to_owned(), json!(A));
        let field_by_field: Torrent = serde_json::from_value(with_hash.into()).unwrap();

        assert_eq!(read_whole(hash, &raw(&entry)), Some(field_by_field.clone()));
        assert_eq!(merged(None, hash, &raw(&entry)), Some(field_by_field));
        // What the straight path cannot read still reads field by field.
        let own_hash = json!({ "hash": A, "name": "a" });
        assert_eq!(read_whole(hash, &raw(&own_hash)), None);
        assert_eq!(merged(None, hash, &raw(&own_hash)).unwrap().name, "a");
        assert_eq!(merged(None, hash, &raw(&json!({}))).unwrap().hash, hash);
        assert_eq!(merged(None, hash, &raw(&json!([1]))), None);
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_gets_a_snapshot_not_a_backlog() {
        let mirror = mirror();
        sync(
            &mirror,
            full(json!({ A: { "name": "a", "progress": 0.0 } })),
        );
        let mut events = Box::pin(mirror.progress(None));
        assert!(next(&mut events).await.snapshot);
        for step in 1..=(UPDATE_BUFFER * 3) {
            let progress = step as f64 / 1000.0;
            sync(
                &mirror,
                maindata(json!({ "rid": step + 1, "torrents": { A: { "progress": progress } } })),
            );
        }
        let caught_up = next(&mut events).await;
        assert!(caught_up.snapshot, "expected a snapshot after lagging");
        let latest = (UPDATE_BUFFER * 3) as f64 / 1000.0;
        assert!((caught_up.torrents[0].progress - latest).abs() < 1e-9);
    }

    #[tokio::test]
    async fn a_full_update_after_reconnecting_is_a_snapshot_with_removals_applied() {
        let mirror = mirror();
        sync(
            &mirror,
            full(json!({ A: { "name": "a" }, B: { "name": "b" } })),
        );
        let mut events = Box::pin(mirror.progress(None));
        assert_eq!(next(&mut events).await.torrents.len(), 2);
        sync(&mirror, full(json!({ A: { "name": "a" } })));
        let resynced = next(&mut events).await;
        assert!(resynced.snapshot);
        assert_eq!(resynced.torrents.len(), 1);
    }

    #[tokio::test]
    async fn completion_fires_once_and_not_for_torrents_complete_at_start() {
        let mirror = mirror();
        let mut completions = Box::pin(mirror.completions(None));
        sync(
            &mirror,
            full(json!({
                A: { "progress": 0.9, "completion_on": -1 },
                B: { "progress": 1.0, "completion_on": 1_700_000_000 },
            })),
        );
        sync(
            &mirror,
            maindata(
                json!({ "rid": 2, "torrents": { A: { "progress": 1.0, "completion_on": 1_700_000_100 } } }),
            ),
        );
        // qBittorrent restarting: the full list again, then a recheck.
        sync(
            &mirror,
            full(json!({
                A: { "progress": 1.0, "completion_on": 1_700_000_100 },
                B: { "progress": 1.0, "completion_on": 1_700_000_000 },
            })),
        );
        sync(
            &mirror,
            maindata(json!({ "rid": 3, "torrents": { A: { "completion_on": -1 } } })),
        );
        sync(
            &mirror,
            maindata(json!({ "rid": 4, "torrents": { A: { "completion_on": 1_700_000_200 } } })),
        );

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

    /// qBittorrent diffs against what it last sent, not against what a
    /// mutation recorded: the recorded value must give way to the next sync.
    #[tokio::test]
    async fn a_recorded_value_gives_way_to_the_next_sync_that_started_after_it() {
        let mirror = mirror();
        sync(&mirror, full(json!({ A: { "name": "a", "dlspeed": 500 } })));
        let in_flight = mirror.begin_sync();
        let mut recorded: Torrent =
            serde_json::from_value(json!({ "hash": A, "name": "a", "dlspeed": 1000 })).unwrap();
        mirror.record(&recorded);
        let speed = |mirror: &TorrentMirror| {
            mirror.list(TorrentFilter::All, None, None).unwrap()[0].dlspeed
        };
        assert_eq!(speed(&mirror), 1000, "a read after the write sees it");
        // The sync that was running when the value was recorded predates it.
        mirror.apply(maindata(json!({ "rid": 2 })), in_flight);
        assert_eq!(speed(&mirror), 1000);
        // The next one reports no change for dlspeed: qBittorrent's value is
        // still the 500 it sent before.
        let mut events = Box::pin(mirror.progress(None));
        assert!(next(&mut events).await.snapshot);
        sync(&mirror, maindata(json!({ "rid": 3 })));
        assert_eq!(speed(&mirror), 500);
        let corrected = next(&mut events).await;
        assert_eq!(corrected.torrents[0].dlspeed, 500);

        recorded.dlspeed = 7;
        mirror.forget(recorded.hash);
        assert!(
            mirror
                .list(TorrentFilter::All, None, None)
                .unwrap()
                .is_empty(),
            "a deleted torrent is hidden at once"
        );
    }

    #[tokio::test]
    async fn reads_come_from_the_mirror_only_while_fresh() {
        let mirror = mirror();
        assert!(
            mirror.list(TorrentFilter::All, None, None).is_none(),
            "empty mirror is not fresh"
        );
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
        mirror.status.send_modify(|status| status.connected = false);
        assert!(
            mirror.list(TorrentFilter::All, None, None).is_none(),
            "disconnected mirror is stale"
        );
    }

    #[tokio::test]
    async fn the_slowest_recent_full_sync_sets_the_pace_unless_it_is_an_outlier() {
        let mirror = mirror();
        let second = Duration::from_secs(1);
        let fast = Duration::from_millis(20);
        assert_eq!(
            mirror.period(fast),
            second,
            "a fast sync runs at the interval"
        );
        assert_eq!(
            mirror.period(4 * second),
            second,
            "one slow sync alone is an outlier"
        );
        // 10% of qBittorrent's time: 4 s syncs are followed by 40 s periods.
        assert_eq!(mirror.period(4 * second), 40 * second);
        assert_eq!(
            mirror.period(second),
            40 * second,
            "one fast sync does not undo the pace slow ones set"
        );
        mirror.period(second);
        assert_eq!(mirror.period(second), 10 * second, "the slow ones aged out");
    }

    #[tokio::test]
    async fn a_sync_that_hung_does_not_stretch_the_period() {
        let mirror = mirror();
        for _ in 0..3 {
            mirror.period(Duration::from_millis(20));
        }
        // qBittorrent stopped for 30 s and continued: the call in flight
        // took 9.7 s, none of it spent serving the sync.
        assert_eq!(
            mirror.period(Duration::from_millis(9_700)),
            Duration::from_secs(1)
        );
        assert_eq!(mirror.sync_period(), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_stretched_period_is_a_whole_number_of_intervals() {
        let mirror = mirror();
        // 10% of 120 ms is 1.2 s: rounded up to two 1 s intervals, so a
        // focused poll at 1 s is not followed by a full sync at 1.2 s.
        assert_eq!(
            mirror.period(Duration::from_millis(120)),
            Duration::from_secs(2)
        );
    }
}
