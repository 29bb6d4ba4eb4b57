//! What the mirror holds, and how changes merge into it: `sync/maindata`
//! answers (partial entries merged into typed torrents, removals applied,
//! a full update replacing everything), and overlays from mutations and
//! focused polls that stand until a later sync replaces them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::clients::qbittorrent::{Category, MainData, ServerState, Torrent};
use crate::torrent::InfoHash;

/// What one change did to the mirror, as subscribers see it.
#[derive(Debug, Default)]
pub struct Changes {
    /// Torrents that are new or differ from before, as they are now.
    pub changed: Vec<Arc<Torrent>>,
    /// Torrents that disappeared.
    pub removed: Vec<InfoHash>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty()
    }
}

#[derive(Default)]
pub struct MirrorState {
    /// Every torrent as the sync reports it: qBittorrent's baseline for its
    /// next diff. Kept typed; keeping qBittorrent's raw objects would cost
    /// several times the memory.
    synced: HashMap<InfoHash, Arc<Torrent>>,
    /// Newer facts than the sync's, from a mutation or a focused poll,
    /// shown instead of `synced` until a sync that started after them
    /// replaces them (a diff against qBittorrent's baseline would never
    /// correct them otherwise).
    overlays: HashMap<InfoHash, Overlay>,
    categories: BTreeMap<String, Category>,
    tags: BTreeSet<String>,
    /// Tracker URLs and the torrents that have each, as synced.
    trackers: HashMap<String, HashSet<InfoHash>>,
    /// `server_state` as the syncs reported it, field by field.
    server_state: serde_json::Map<String, serde_json::Value>,
    /// Torrents whose completion was published, so none is twice.
    reported_complete: HashSet<InfoHash>,
    /// Increases by one with every published change.
    version: u64,
    /// Numbers the syncs, so an overlay knows which sync may replace it.
    syncs_started: u64,
}

struct Overlay {
    /// `None` hides a torrent just deleted.
    torrent: Option<Arc<Torrent>>,
    /// The sync running when it was recorded, whose answer may predate it.
    recorded_during: u64,
}

impl MirrorState {
    /// Numbers a sync about to start.
    pub fn begin_sync(&mut self) -> u64 {
        self.syncs_started += 1;
        self.syncs_started
    }

    /// The version of a change about to be published.
    pub fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    /// The version of the last published change.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// A torrent as torrentql shows it: its overlay, else the synced one.
    fn view(&self, hash: &InfoHash) -> Option<&Arc<Torrent>> {
        match self.overlays.get(hash) {
            Some(overlay) => overlay.torrent.as_ref(),
            None => self.synced.get(hash),
        }
    }

    /// Whether a torrent with the id `hash` is shown now.
    pub fn shows(&self, hash: &InfoHash) -> bool {
        self.view(hash).is_some()
    }

    /// A torrent by its id or, for a hybrid listed under its v2 hash, its
    /// v1 hash (looked for only when no torrent has `hash` as its id).
    pub fn find(&self, hash: &InfoHash) -> Option<&Arc<Torrent>> {
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

    /// The torrents `hashes` name (every torrent when `None`), each once,
    /// that `matches`, oldest first.
    pub fn select<'a>(
        &self,
        hashes: Option<impl IntoIterator<Item = &'a InfoHash>>,
        matches: impl Fn(&Torrent) -> bool,
    ) -> Vec<Arc<Torrent>> {
        let mut torrents: Vec<Arc<Torrent>> = match hashes {
            Some(hashes) => hashes
                .into_iter()
                .filter_map(|hash| self.find(hash))
                .filter(|torrent| matches(torrent))
                .map(|torrent| (torrent.hash, torrent))
                .collect::<HashMap<_, _>>()
                .into_values()
                .cloned()
                .collect(),
            None => self
                .all()
                .filter(|torrent| matches(torrent))
                .cloned()
                .collect(),
        };
        torrents.sort_by(|a, b| a.added_on.cmp(&b.added_on).then(a.hash.cmp(&b.hash)));
        torrents
    }

    /// The torrents with a tracker on `host` (case-insensitive).
    pub fn with_tracker_host(&self, host: &str) -> HashSet<InfoHash> {
        self.trackers
            .iter()
            .filter(|(url, _)| {
                url::Url::parse(url)
                    .ok()
                    .and_then(|url| url.host_str().map(|found| found.eq_ignore_ascii_case(host)))
                    .unwrap_or(false)
            })
            .flat_map(|(_, hashes)| hashes.iter().copied())
            .collect()
    }

    /// Every category, by name.
    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    /// Records that a category exists, unless the sync knows it already.
    pub fn record_category(&mut self, name: &str) {
        self.category(name.to_owned());
    }

    /// Records a category as qBittorrent now has it.
    pub fn record_category_path(&mut self, category: &Category) {
        self.category(category.name.clone()).save_path = category.save_path.clone();
    }

    /// Records that categories are gone.
    pub fn forget_categories(&mut self, names: &[String]) {
        for name in names {
            self.categories.remove(name);
        }
    }

    /// Every tag, sorted.
    pub fn tags(&self) -> impl Iterator<Item = &String> {
        self.tags.iter()
    }

    /// Records that tags exist.
    pub fn record_tags(&mut self, names: &[String]) {
        self.tags.extend(names.iter().cloned());
    }

    /// Records that tags are gone.
    pub fn forget_tags(&mut self, names: &[String]) {
        for name in names {
            self.tags.remove(name);
        }
    }

    /// The category `name`, added with the default save path if new.
    fn category(&mut self, name: String) -> &mut Category {
        self.categories
            .entry(name.clone())
            .or_insert_with(|| Category {
                name,
                save_path: String::new(),
            })
    }

    /// Merges a sync's `server_state` fields (every one after a reset),
    /// and answers the state now when it changed.
    pub fn merge_server_state(
        &mut self,
        reset: bool,
        changed: serde_json::Map<String, serde_json::Value>,
    ) -> Option<ServerState> {
        if !reset && changed.is_empty() {
            return None;
        }
        if reset {
            self.server_state.clear();
        }
        self.server_state.extend(changed);
        match serde_json::from_value(serde_json::Value::Object(self.server_state.clone())) {
            Ok(state) => Some(state),
            Err(error) => {
                tracing::warn!(%error, "cannot read the server state from sync/maindata");
                None
            }
        }
    }

    /// Merges one `sync/maindata` answer, of sync `number`: what changed,
    /// and the torrents that just finished.
    pub fn merge_sync(&mut self, data: MainData, number: u64) -> (Changes, Vec<Arc<Torrent>>) {
        let reset = data.full_update;
        let entries: Vec<(InfoHash, Box<serde_json::value::RawValue>)> = data
            .torrents
            .into_iter()
            .filter_map(|(hash, entry)| match hash.parse::<InfoHash>() {
                Ok(hash) => Some((hash, entry)),
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
        let replaced_overlays: Vec<InfoHash> = self
            .overlays
            .iter()
            .filter(|(_, overlay)| overlay.recorded_during < number)
            .map(|(hash, _)| *hash)
            .collect();
        let mut affected: HashSet<InfoHash> = entries.iter().map(|(hash, _)| *hash).collect();
        affected.extend(&removed);
        affected.extend(&replaced_overlays);
        if reset {
            affected.extend(self.synced.keys().copied());
        }
        let before = self.views(affected);

        if reset {
            let listed: HashSet<InfoHash> = entries.iter().map(|(hash, _)| *hash).collect();
            self.synced.retain(|hash, _| listed.contains(hash));
            self.categories.clear();
            self.tags.clear();
        }
        for (hash, entry) in entries {
            // A full update's entries are whole, as is a new torrent's;
            // anything else is merged into what the sync said before.
            let merged = match self.synced.get(&hash).filter(|_| !reset) {
                Some(base) => {
                    let mut torrent = Torrent::clone(base);
                    torrent.apply_sync_changes(&entry).map(|()| torrent)
                }
                None => Torrent::from_sync_entry(hash, &entry),
            };
            match merged {
                Ok(torrent) => {
                    self.synced.insert(hash, Arc::new(torrent));
                }
                Err(error) => {
                    tracing::warn!(%hash, %error, "cannot read a torrent from sync/maindata");
                }
            }
        }
        for hash in &removed {
            self.synced.remove(hash);
        }
        for hash in &replaced_overlays {
            self.overlays.remove(hash);
        }
        for (name, changes) in data.categories {
            self.category(name).apply_sync_changes(changes);
        }
        for name in data.categories_removed {
            self.categories.remove(&name);
        }
        self.tags.extend(data.tags);
        for name in &data.tags_removed {
            self.tags.remove(name);
        }
        if reset {
            self.trackers.clear();
        }
        for (url, hashes) in data.trackers {
            let hashes = hashes.iter().filter_map(|hash| hash.parse().ok()).collect();
            self.trackers.insert(url, hashes);
        }
        for url in &data.trackers_removed {
            self.trackers.remove(url);
        }
        self.diff(before)
    }

    /// Shows `torrent` (`None`: nothing) for `hash` until a sync that
    /// starts after now: what changed, and whether it just finished.
    pub fn overlay(
        &mut self,
        hash: InfoHash,
        torrent: Option<Arc<Torrent>>,
    ) -> (Changes, Vec<Arc<Torrent>>) {
        let before = self.views([hash]);
        let recorded_during = self.syncs_started;
        self.overlays.insert(
            hash,
            Overlay {
                torrent,
                recorded_during,
            },
        );
        self.diff(before)
    }

    fn views(
        &self,
        hashes: impl IntoIterator<Item = InfoHash>,
    ) -> HashMap<InfoHash, Option<Arc<Torrent>>> {
        hashes
            .into_iter()
            .map(|hash| (hash, self.view(&hash).cloned()))
            .collect()
    }

    /// What changed for `before`'s hashes (their views before a change):
    /// changed torrents, removed hashes, and torrents that just finished.
    ///
    /// Finishing is the completion time going from unset to set on a
    /// torrent seen before, reported at most once per hash: a restart of
    /// qBittorrent (every torrent re-checks its resume data) or of
    /// torrentql (nothing was seen before) reports nothing again.
    fn diff(
        &mut self,
        before: HashMap<InfoHash, Option<Arc<Torrent>>>,
    ) -> (Changes, Vec<Arc<Torrent>>) {
        let mut changes = Changes::default();
        let mut completed = Vec::new();
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
                        completed.push(Arc::clone(&new));
                    }
                    changes.changed.push(new);
                }
                _ => {}
            }
        }
        (changes, completed)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::*;
    use super::*;

    fn merge(state: &mut MirrorState, data: MainData) -> (Changes, Vec<Arc<Torrent>>) {
        let number = state.begin_sync();
        state.merge_sync(data, number)
    }

    #[test]
    fn partial_entries_change_only_the_fields_they_name() {
        let mut state = MirrorState::default();
        merge(
            &mut state,
            full(json!({
                A: { "name": "a", "progress": 0.1, "state": "downloading", "eta": 60 },
                B: { "name": "b", "progress": 0.5, "state": "downloading" },
            })),
        );
        let (changes, _) = merge(
            &mut state,
            maindata(json!({ "rid": 2, "torrents": { A: { "progress": 0.2, "eta": 8_640_000 } } })),
        );
        assert_eq!(changes.changed.len(), 1);
        let a = &changes.changed[0];
        assert_eq!(a.name, "a", "unchanged fields are kept");
        assert_eq!(a.state, "downloading");
        assert!((a.progress - 0.2).abs() < f64::EPSILON);
        assert_eq!(a.eta(), None);

        let (changes, _) = merge(
            &mut state,
            maindata(json!({ "rid": 3, "torrents": { A: { "progress": 0.2 } } })),
        );
        assert!(changes.is_empty(), "the same values again change nothing");

        let (changes, _) = merge(
            &mut state,
            maindata(json!({ "rid": 4, "torrents_removed": [B] })),
        );
        assert_eq!(changes.removed, vec![hash(B)]);
        assert!(changes.changed.is_empty());
    }

    #[test]
    fn an_unreadable_entry_leaves_the_torrent_as_it_was() {
        let mut state = MirrorState::default();
        merge(
            &mut state,
            full(json!({ A: { "name": "a", "progress": 0.1 } })),
        );
        let (changes, _) = merge(
            &mut state,
            maindata(json!({ "rid": 2, "torrents": { A: { "progress": "much" } } })),
        );
        assert!(changes.is_empty());
        let kept = state.select(None::<&[InfoHash]>, |_| true);
        assert!((kept[0].progress - 0.1).abs() < f64::EPSILON);
    }

    #[test]
    fn a_full_update_replaces_everything() {
        let mut state = MirrorState::default();
        merge(
            &mut state,
            full(json!({ A: { "name": "a", "dlspeed": 9 }, B: { "name": "b" } })),
        );
        let (changes, _) = merge(&mut state, full(json!({ A: { "name": "a" } })));
        assert_eq!(changes.removed, vec![hash(B)]);
        let listed = state.select(None::<&[InfoHash]>, |_| true);
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].dlspeed, 0,
            "a full entry is read whole, not merged"
        );
    }

    #[test]
    fn completion_is_reported_once_and_not_again_after_a_restart() {
        let mut state = MirrorState::default();
        merge(
            &mut state,
            full(json!({ A: { "progress": 0.9, "completion_on": -1 } })),
        );
        let (_, completed) = merge(
            &mut state,
            maindata(
                json!({ "rid": 2, "torrents": { A: { "progress": 1.0, "completion_on": 1_700_000_100 } } }),
            ),
        );
        assert_eq!(completed.len(), 1);
        // qBittorrent restarting: the full list again, then a recheck.
        let (_, again) = merge(
            &mut state,
            full(json!({ A: { "progress": 1.0, "completion_on": 1_700_000_100 } })),
        );
        let (_, rechecked) = merge(
            &mut state,
            maindata(json!({ "rid": 3, "torrents": { A: { "completion_on": -1 } } })),
        );
        let (_, finished) = merge(
            &mut state,
            maindata(json!({ "rid": 4, "torrents": { A: { "completion_on": 1_700_000_200 } } })),
        );
        assert!(again.is_empty() && rechecked.is_empty() && finished.is_empty());
    }

    #[test]
    fn a_hybrid_is_found_by_its_v1_hash_too() {
        let mut state = MirrorState::default();
        merge(
            &mut state,
            full(json!({ A: { "name": "hybrid", "infohash_v1": B } })),
        );
        assert_eq!(
            state.find(&hash(B)).map(|torrent| torrent.hash),
            Some(hash(A))
        );
        let selected = state.select(Some(&[hash(A), hash(B)]), |_| true);
        assert_eq!(selected.len(), 1, "one torrent, named twice");
    }
}
