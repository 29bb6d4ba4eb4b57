//! Live streams built on the mirror: progress (a snapshot, then only
//! changes) and completions, each filtered for its subscriber from the one
//! published update; the transfer state as it changes; and the set of
//! torrents the subscribers watch (what the poller's focused polls ask
//! for).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::Stream;
use tokio::sync::broadcast;

use super::TorrentMirror;
use super::state::Changes;
use crate::clients::qbittorrent::{ServerState, Torrent};
use crate::torrent::InfoHash;

/// One change to the mirror, as published to every subscriber.
#[derive(Debug)]
pub struct MirrorUpdate {
    /// Increases by one with every update.
    pub version: u64,
    /// The mirror was rebuilt from scratch (first fill, or qBittorrent came
    /// back): subscribers should send a snapshot rather than a delta.
    pub reset: bool,
    pub changes: Changes,
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
    /// Torrents added or changed.
    pub torrents: Vec<Arc<Torrent>>,
    /// Hashes of the torrents removed.
    pub removed: Vec<InfoHash>,
}

/// The transfer and server state as last synced.
#[derive(Debug, Clone)]
pub(super) struct SyncedServerState {
    pub state: Arc<ServerState>,
    /// How many syncs rebuilt the state from scratch (the first fill, and
    /// each time qBittorrent came back), so a stream knows to resend it
    /// whole.
    pub resyncs: u64,
}

/// One event of a transfer stream.
#[derive(Debug, Clone)]
pub struct ServerStateUpdate {
    /// True for the first event and after a resync (qBittorrent restarted,
    /// so its session totals started again): the state is not a
    /// continuation of the previous one.
    pub snapshot: bool,
    /// The mirror was not fresh when this snapshot was taken; as for
    /// [`ProgressEvent::stale`].
    pub stale: bool,
    /// The whole state as synced.
    pub state: Arc<ServerState>,
}

/// Whether a torrent is one a subscriber asked for.
type Predicate = dyn Fn(&Torrent) -> bool + Send + Sync;

/// Which torrents a progress stream shows, beyond their hashes.
#[derive(Clone)]
pub struct Matching(Option<Arc<Predicate>>);

impl Matching {
    /// Every torrent.
    pub fn everything() -> Self {
        Self(None)
    }

    /// The torrents `matches` holds for.
    pub fn only(matches: impl Fn(&Torrent) -> bool + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(matches)))
    }

    fn is_everything(&self) -> bool {
        self.0.is_none()
    }
}

impl std::ops::Deref for Matching {
    type Target = dyn Fn(&Torrent) -> bool;

    fn deref(&self) -> &Self::Target {
        match &self.0 {
            Some(matches) => matches.as_ref(),
            None => &|_| true,
        }
    }
}

/// Which torrents the live subscribers watch.
#[derive(Default)]
pub struct Watchers {
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

impl TorrentMirror {
    /// Live progress of the torrents in `hashes` (every torrent when
    /// `None`; a hybrid's v1 hash names it too): a snapshot first, then
    /// only what changed, never an empty event; a fresh snapshot after
    /// falling behind or a resync.
    pub fn progress(
        self: &Arc<Self>,
        hashes: Option<HashSet<InfoHash>>,
        matching: Matching,
    ) -> impl Stream<Item = ProgressEvent> + Send + 'static + use<> {
        let mirror = Arc::clone(self);
        async_stream::stream! {
            let _watching = mirror.watch(hashes.clone());
            // Subscribe before the snapshot so nothing falls in between;
            // updates the snapshot already contains are skipped by version.
            let mut updates = mirror.updates.subscribe();
            mirror.filled().await;
            let (mut version, snapshot) = mirror.snapshot(hashes.as_ref(), &matching);
            // What the subscriber holds now: a torrent that stops matching
            // is sent as removed, once.
            let mut sent: HashSet<InfoHash> = snapshot.torrents.iter().map(|torrent| torrent.hash).collect();
            yield snapshot;
            loop {
                match updates.recv().await {
                    Ok(update) if update.version <= version => {}
                    Ok(update) if update.reset => {
                        let (current, snapshot) = mirror.snapshot(hashes.as_ref(), &matching);
                        version = current;
                        sent = snapshot.torrents.iter().map(|torrent| torrent.hash).collect();
                        yield snapshot;
                    }
                    Ok(update) => {
                        version = update.version;
                        let mut torrents = Vec::new();
                        let mut removed = Vec::new();
                        for torrent in update.changes.changed.iter().filter(|t| is_watched(hashes.as_ref(), t)) {
                            if matching(torrent) {
                                sent.insert(torrent.hash);
                                torrents.push(Arc::clone(torrent));
                            } else if sent.remove(&torrent.hash) {
                                removed.push(torrent.hash);
                            }
                        }
                        // A removal names the id only: a hybrid watched by its
                        // v1 hash is known by the id of what was sent before.
                        removed.extend(update.changes.removed.iter()
                            .filter(|hash| sent.remove(hash)
                                || (hashes.as_ref().is_none_or(|hashes| hashes.contains(hash)) && matching.is_everything()))
                            .copied());
                        if !torrents.is_empty() || !removed.is_empty() {
                            yield ProgressEvent { snapshot: false, stale: false, torrents, removed };
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "a progress subscriber fell behind; sending a snapshot");
                        let (current, snapshot) = mirror.snapshot(hashes.as_ref(), &matching);
                        version = current;
                        sent = snapshot.torrents.iter().map(|torrent| torrent.hash).collect();
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

    /// The transfer and server state as synced now (waiting for the first
    /// sync), then each time a sync changes it; a snapshot again after a
    /// resync. A subscriber that is slow skips to the latest state.
    pub fn server_state_updates(
        self: &Arc<Self>,
    ) -> impl Stream<Item = ServerStateUpdate> + Send + 'static + use<> {
        let mirror = Arc::clone(self);
        let mut shown = self.server_state.subscribe();
        async_stream::stream! {
            let mut resyncs_seen = None;
            loop {
                let current = shown.borrow_and_update().clone();
                if let Some(SyncedServerState { state, resyncs }) = current {
                    let snapshot = resyncs_seen != Some(resyncs);
                    resyncs_seen = Some(resyncs);
                    yield ServerStateUpdate { snapshot, stale: snapshot && !mirror.is_fresh(), state };
                }
                if shown.changed().await.is_err() {
                    return;
                }
            }
        }
    }

    /// The hashes every live subscriber watches, when none watches them
    /// all (and at least one watches something).
    pub(super) fn watched(&self) -> Option<Vec<InfoHash>> {
        let watchers = self.watchers.lock().expect("watchers lock");
        let mut hashes = HashSet::new();
        for watched in watchers.by_id.values() {
            hashes.extend(watched.as_ref()?);
        }
        (!hashes.is_empty()).then(|| hashes.into_iter().collect())
    }

    fn snapshot(
        &self,
        hashes: Option<&HashSet<InfoHash>>,
        matching: &Matching,
    ) -> (u64, ProgressEvent) {
        let stale = !self.is_fresh();
        let state = self.read();
        (
            state.version(),
            ProgressEvent {
                snapshot: true,
                stale,
                torrents: state.select(hashes, |torrent| matching(torrent)),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::{FutureExt, StreamExt};
    use serde_json::json;

    use super::super::UPDATE_BUFFER;
    use super::super::testing::*;
    use super::*;

    async fn next<T>(events: &mut (impl Stream<Item = T> + Unpin)) -> T {
        tokio::time::timeout(Duration::from_secs(1), events.next())
            .await
            .expect("an event")
            .expect("stream open")
    }

    #[tokio::test]
    async fn the_server_state_merges_partial_syncs_and_is_whole_again_after_a_resync() {
        let mirror = mirror();
        let mut updates = Box::pin(mirror.server_state_updates());
        let state = |speed: i64| {
            json!({ "dl_info_speed": speed, "free_space_on_disk": 100, "connection_status": "connected",
                    "use_alt_speed_limits": false })
        };
        sync(
            &mirror,
            maindata(json!({ "rid": 1, "full_update": true, "server_state": state(5) })),
        );
        let first = next(&mut updates).await;
        assert!(first.snapshot && !first.stale);
        assert_eq!(first.state.dl_info_speed, 5);

        sync(
            &mirror,
            maindata(json!({ "rid": 2, "server_state": { "dl_info_speed": 7 } })),
        );
        let merged = next(&mut updates).await;
        assert!(!merged.snapshot);
        assert_eq!(merged.state.dl_info_speed, 7);
        assert_eq!(merged.state.free_space_on_disk, Some(100));
        assert_eq!(merged.state.use_alt_speed_limits, Some(false));

        sync(&mirror, maindata(json!({ "rid": 3 })));
        sync(
            &mirror,
            maindata(json!({ "rid": 4, "server_state": { "dl_info_speed": 7 } })),
        );
        assert!(
            updates.next().now_or_never().is_none(),
            "nothing new, then the same value again: no update"
        );
        // A resync with equal values is a snapshot all the same.
        sync(
            &mirror,
            maindata(json!({ "rid": 1, "full_update": true, "server_state": state(7) })),
        );
        let resynced = next(&mut updates).await;
        assert!(resynced.snapshot, "{resynced:?}");
        assert_eq!(resynced.state.dl_info_speed, 7);
        assert_eq!(mirror.server_state().expect("fresh").dl_info_speed, 7);
    }

    #[tokio::test]
    async fn a_snapshot_first_then_only_what_changed() {
        let mirror = mirror();
        sync(
            &mirror,
            full(json!({
                A: { "name": "a", "progress": 0.1 },
                B: { "name": "b", "progress": 0.5 },
            })),
        );
        let mut events = Box::pin(mirror.progress(None, Matching::everything()));
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
        assert_eq!(delta.torrents[0].name, "a");

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
        assert_eq!(removal.removed, vec![hash(B)]);
        assert!(removal.torrents.is_empty());
    }

    #[tokio::test]
    async fn a_subscriber_sees_only_the_torrents_it_watches() {
        let mirror = mirror();
        sync(
            &mirror,
            full(json!({ A: { "name": "a" }, B: { "name": "b" } })),
        );
        let mut events =
            Box::pin(mirror.progress(Some(HashSet::from([hash(B)])), Matching::everything()));
        let snapshot = next(&mut events).await;
        assert_eq!(snapshot.torrents.len(), 1);
        assert_eq!(mirror.watched(), Some(vec![hash(B)]));
        sync(
            &mirror,
            maindata(
                json!({ "rid": 2, "torrents": { A: { "progress": 0.2 }, B: { "progress": 0.3 } } }),
            ),
        );
        let delta = next(&mut events).await;
        assert_eq!(delta.torrents.len(), 1);
        assert_eq!(delta.torrents[0].name, "b");
        drop(events);
        assert_eq!(mirror.watched(), None, "a dropped stream watches nothing");
    }

    #[tokio::test]
    async fn a_torrent_leaving_the_filter_is_removed_and_comes_back_when_it_matches() {
        let mirror = mirror();
        sync(
            &mirror,
            full(
                json!({ A: { "name": "a", "category": "tv" }, B: { "name": "b", "category": "tv" } }),
            ),
        );
        let tv = Matching::only(|torrent| torrent.category == "tv");
        let mut events = Box::pin(mirror.progress(None, tv));
        assert_eq!(next(&mut events).await.torrents.len(), 2);
        sync(
            &mirror,
            maindata(json!({ "rid": 2, "torrents": { A: { "category": "films" } } })),
        );
        let left = next(&mut events).await;
        assert_eq!(left.removed, vec![hash(A)]);
        assert!(left.torrents.is_empty());
        sync(
            &mirror,
            maindata(json!({ "rid": 3, "torrents": { A: { "progress": 0.5 } } })),
        );
        sync(
            &mirror,
            maindata(json!({ "rid": 4, "torrents": { A: { "category": "tv" } } })),
        );
        let back = next(&mut events).await;
        assert_eq!(
            back.torrents.len(),
            1,
            "nothing for a change outside the filter"
        );
        assert_eq!(back.torrents[0].hash, hash(A));
        assert_eq!(back.torrents[0].progress, 0.5);
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_gets_a_snapshot_not_a_backlog() {
        let mirror = mirror();
        sync(
            &mirror,
            full(json!({ A: { "name": "a", "progress": 0.0 } })),
        );
        let mut events = Box::pin(mirror.progress(None, Matching::everything()));
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
        let mut events = Box::pin(mirror.progress(None, Matching::everything()));
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
        let first = tokio::time::timeout(Duration::from_secs(1), completions.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.hash, hash(A));
        assert!(
            tokio::time::timeout(Duration::from_millis(200), completions.next())
                .await
                .is_err(),
            "a completion was reported twice"
        );
    }

    #[tokio::test]
    async fn a_recorded_change_is_streamed_like_a_synced_one() {
        let mirror = mirror();
        sync(&mirror, full(json!({ A: { "name": "a", "dlspeed": 500 } })));
        let mut events = Box::pin(mirror.progress(None, Matching::everything()));
        assert!(next(&mut events).await.snapshot);
        mirror.record(&torrent(json!({ "hash": A, "name": "a", "dlspeed": 1000 })));
        assert_eq!(next(&mut events).await.torrents[0].dlspeed, 1000);
        // The next sync replaces it with qBittorrent's own value.
        sync(&mirror, maindata(json!({ "rid": 2 })));
        assert_eq!(next(&mut events).await.torrents[0].dlspeed, 500);
    }
}
