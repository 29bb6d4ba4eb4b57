//! Changes to many torrents at once: pause, resume, categorise, tag,
//! force start, recheck, move, limits, the queue, and delete.
//!
//! Each change reads the named torrents once, makes one qBittorrent call
//! per action for all of them (setting tags on qBittorrent before 5.1
//! takes two), then polls the changed torrents every [`POLL_INTERVAL`]
//! until qBittorrent shows the change, and answers each named torrent as
//! qBittorrent shows it then. A hash qBittorrent does not list, or a
//! torrent the change does not apply to, fails alone; the others go on.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::{
    POLL_INTERVAL, STATE_CHANGE_TIMEOUT, TorrentService, clean_category, clean_name, once_shown,
    poll_every,
};
use crate::clients::qbittorrent::{
    ApiVersion, QbittorrentError, QueueMove, ShareLimit, Torrent, TorrentAction, TorrentFilter,
};
use crate::services::ServiceError;
use crate::text::quote;
use crate::torrent::InfoHash;

/// Most torrents one change may name.
pub const MAX_TORRENTS_PER_CHANGE: usize = 10_000;

/// Highest ratio limit qBittorrent accepts.
pub(super) const MAX_RATIO_LIMIT: f64 = 9998.0;

/// Longest seeding time limit qBittorrent accepts: a year, in minutes.
pub(super) const MAX_SEEDING_MINUTES: i64 = 525_600;

/// What one named torrent came to: as qBittorrent shows it after the
/// change, or why the change did not apply to it.
pub type Outcome<T = Arc<Torrent>> = Result<T, ServiceError>;

/// A change to torrents, as the user asked for it.
#[derive(Debug, Clone, PartialEq)]
pub enum TorrentChange {
    /// Pause (on qBittorrent 5: stop).
    Pause,
    /// Resume (on qBittorrent 5: start).
    Resume,
    /// Into this category, created when missing; empty for none.
    SetCategory(String),
    /// Add these tags, created when missing.
    AddTags(Vec<String>),
    /// Take these tags off.
    RemoveTags(Vec<String>),
    /// Exactly these tags.
    SetTags(Vec<String>),
    /// Ignore the queue limits, or stop ignoring them.
    ForceStart(bool),
    /// Check the downloaded data again.
    Recheck,
    /// Announce to the trackers now.
    Reannounce,
    /// Download pieces in order.
    SequentialDownload(bool),
    /// Download the first and last piece of each file first.
    FirstLastPiecePriority(bool),
    /// Super seeding; only complete torrents take it.
    SuperSeeding(bool),
    /// Let the category decide the save path.
    AutomaticManagement(bool),
    /// Move in the download queue.
    Queue(QueueMove),
    /// Move the data to this save path (checked against the allowed
    /// roots, as adds are).
    Move(String),
    /// Bytes per second, 0 for none; `None` leaves a limit as it is.
    SpeedLimits {
        /// The download limit.
        download: Option<i64>,
        /// The upload limit.
        upload: Option<i64>,
    },
    /// The share limits.
    ShareLimits {
        /// Uploaded over downloaded.
        ratio: ShareLimit<f64>,
        /// Minutes of seeding.
        seeding_minutes: ShareLimit<i64>,
        /// Minutes of seeding without traffic (qBittorrent 4.6 and later).
        inactive_seeding_minutes: ShareLimit<i64>,
    },
    /// Connect to these peers (`ip:port`).
    AddPeers(Vec<String>),
}

/// The torrents a change names, as qBittorrent lists them before it.
struct Named {
    /// For each hash asked, the id of the torrent it names, if listed.
    ids: Vec<Option<InfoHash>>,
    /// Each torrent named, by id.
    before: HashMap<InfoHash, Torrent>,
}

impl Named {
    /// Every torrent named, each once, in the order first asked.
    fn ids(&self) -> Vec<InfoHash> {
        let mut seen = HashSet::new();
        self.ids
            .iter()
            .flatten()
            .copied()
            .filter(|id| seen.insert(*id))
            .collect()
    }

    fn torrents(&self) -> impl Iterator<Item = &Torrent> {
        self.before.values()
    }
}

/// The calls a change makes, and how to tell that qBittorrent shows it.
struct Plan {
    calls: Vec<(Vec<InfoHash>, TorrentAction)>,
    /// Torrents the change does not apply to, and why.
    refused: HashMap<InfoHash, String>,
}

impl TorrentService {
    /// Applies `change` to the torrents `hashes` names, and answers each
    /// hash, in order, with the torrent as qBittorrent shows it after the
    /// change (once it shows it, or after [`STATE_CHANGE_TIMEOUT`]).
    pub async fn change(
        &self,
        hashes: &[InfoHash],
        change: TorrentChange,
    ) -> Result<Vec<Outcome>, ServiceError> {
        check_count(hashes)?;
        let change = self.validate(change).await?;
        let named = self.name_each(hashes).await?;
        let api = self.qbittorrent.api_version().await?;
        let plan = self.plan(&change, &named, api).await?;
        for (ids, action) in &plan.calls {
            if ids.is_empty() {
                continue;
            }
            self.qbittorrent
                .act(ids, action)
                .await
                .map_err(|error| refusal_in_words(error, action))?;
        }
        if let TorrentChange::AddTags(tags) | TorrentChange::SetTags(tags) = &change {
            // qBittorrent created the missing ones.
            self.mirror.record_tags(tags);
        }
        let changing: Vec<InfoHash> = named
            .ids()
            .into_iter()
            .filter(|id| !plan.refused.contains_key(id))
            .collect();
        let after = self
            .settle(&changing, |torrent| {
                named
                    .before
                    .get(&torrent.hash)
                    .is_none_or(|before| change.shows_in(before, torrent))
            })
            .await?;
        Ok(hashes
            .iter()
            .zip(&named.ids)
            .map(|(hash, id)| {
                let id = id.ok_or(ServiceError::TorrentNotFound(*hash))?;
                if let Some(why) = plan.refused.get(&id) {
                    return Err(ServiceError::InvalidInput(why.clone()));
                }
                after
                    .get(&id)
                    .cloned()
                    .ok_or(ServiceError::TorrentNotFound(*hash))
            })
            .collect())
    }

    /// Removes torrents (and their data with `delete_files`) in one call,
    /// and answers each hash with the id of the torrent removed once
    /// qBittorrent no longer lists it.
    pub async fn delete(
        &self,
        hashes: &[InfoHash],
        delete_files: bool,
    ) -> Result<Vec<Outcome<InfoHash>>, ServiceError> {
        check_count(hashes)?;
        let named = self.name_each(hashes).await?;
        let ids = named.ids();
        if !ids.is_empty() {
            self.qbittorrent
                .act(&ids, &TorrentAction::Delete { delete_files })
                .await?;
            let gone = poll_every(POLL_INTERVAL, STATE_CHANGE_TIMEOUT, || async {
                let listed = self
                    .qbittorrent
                    .torrents(TorrentFilter::All, None, Some(&ids))
                    .await?;
                Ok::<_, ServiceError>(listed.is_empty().then_some(()))
            })
            .await?;
            if gone.is_none() {
                tracing::warn!(
                    count = ids.len(),
                    "qBittorrent still lists deleted torrents"
                );
            }
            for id in &ids {
                self.mirror.forget(*id);
            }
            tracing::info!(count = ids.len(), delete_files, "torrents deleted");
        }
        Ok(hashes
            .iter()
            .zip(named.ids)
            .map(|(hash, id)| id.ok_or(ServiceError::TorrentNotFound(*hash)))
            .collect())
    }

    /// Gives a torrent the name qBittorrent shows.
    pub async fn rename(&self, hash: InfoHash, name: &str) -> Result<Arc<Torrent>, ServiceError> {
        let name = clean_name(Some(name), "name")?
            .ok_or_else(|| ServiceError::InvalidInput("name must not be empty".to_owned()))?;
        let id = self.require(hash).await?.hash;
        self.qbittorrent
            .rename(id, &name)
            .await
            .map_err(|error| super::not_found_as(error, hash))?;
        let mut after = self.settle(&[id], |torrent| torrent.name == name).await?;
        after.remove(&id).ok_or(ServiceError::TorrentNotFound(hash))
    }

    /// Checks what the user sent, and makes what the change needs (its
    /// category); a save path comes back normalized.
    async fn validate(&self, change: TorrentChange) -> Result<TorrentChange, ServiceError> {
        Ok(match change {
            TorrentChange::SetCategory(category) => {
                let category = clean_category(Some(&category))?.unwrap_or_default();
                if !category.is_empty() {
                    self.ensure_category(&category).await?;
                }
                TorrentChange::SetCategory(category)
            }
            TorrentChange::AddTags(tags) => TorrentChange::AddTags(clean_tags(tags)?),
            TorrentChange::RemoveTags(tags) => TorrentChange::RemoveTags(clean_tags(tags)?),
            TorrentChange::SetTags(tags) => TorrentChange::SetTags(clean_tags(tags)?),
            TorrentChange::Move(path) => {
                let path = self.check_save_path(&path).await?;
                TorrentChange::Move(path.to_string_lossy().into_owned())
            }
            TorrentChange::SpeedLimits { download, upload } => {
                for (name, limit) in [("downloadLimit", download), ("uploadLimit", upload)] {
                    if limit.is_some_and(|limit| limit < 0) {
                        return Err(ServiceError::InvalidInput(format!(
                            "{name} must be 0 (no limit) or more bytes per second"
                        )));
                    }
                }
                if download.is_none() && upload.is_none() {
                    return Err(ServiceError::InvalidInput(
                        "give downloadLimit, uploadLimit or both".to_owned(),
                    ));
                }
                TorrentChange::SpeedLimits { download, upload }
            }
            TorrentChange::ShareLimits {
                ratio,
                seeding_minutes,
                inactive_seeding_minutes,
            } => {
                if let ShareLimit::Limited(ratio) = ratio
                    && !(0.0..=MAX_RATIO_LIMIT).contains(&ratio)
                {
                    return Err(ServiceError::InvalidInput(format!(
                        "the ratio limit must be from 0 to {MAX_RATIO_LIMIT}"
                    )));
                }
                for (name, limit) in [
                    ("seedingTime", seeding_minutes),
                    ("inactiveSeedingTime", inactive_seeding_minutes),
                ] {
                    if let ShareLimit::Limited(minutes) = limit
                        && !(0..=MAX_SEEDING_MINUTES).contains(&minutes)
                    {
                        return Err(ServiceError::InvalidInput(format!(
                            "the {name} limit must be from 0 to {MAX_SEEDING_MINUTES} minutes"
                        )));
                    }
                }
                TorrentChange::ShareLimits {
                    ratio,
                    seeding_minutes,
                    inactive_seeding_minutes,
                }
            }
            TorrentChange::AddPeers(peers) => {
                super::peers::parse_peers(&peers)?;
                TorrentChange::AddPeers(peers)
            }
            other => other,
        })
    }

    /// The qBittorrent calls `change` makes for the torrents `named`.
    async fn plan(
        &self,
        change: &TorrentChange,
        named: &Named,
        api: ApiVersion,
    ) -> Result<Plan, ServiceError> {
        let all = named.ids();
        let one_call = |action| Plan {
            calls: vec![(all.clone(), action)],
            refused: HashMap::new(),
        };
        let differing = |value: fn(&Torrent) -> bool, wanted: bool| {
            named
                .torrents()
                .filter(|torrent| value(torrent) != wanted)
                .map(|torrent| torrent.hash)
                .collect::<Vec<_>>()
        };
        Ok(match change {
            TorrentChange::Pause => one_call(TorrentAction::Pause),
            TorrentChange::Resume => one_call(TorrentAction::Resume),
            TorrentChange::SetCategory(category) => {
                one_call(TorrentAction::SetCategory(category.clone()))
            }
            TorrentChange::AddTags(tags) => one_call(TorrentAction::AddTags(tags.clone())),
            TorrentChange::RemoveTags(tags) => one_call(TorrentAction::RemoveTags(tags.clone())),
            TorrentChange::SetTags(tags) if api.has_set_tags() => {
                one_call(TorrentAction::SetTags(tags.clone()))
            }
            TorrentChange::SetTags(tags) => {
                // Before 5.1: take off every other tag these torrents have,
                // then add the wanted ones.
                let others: BTreeSet<String> = named
                    .torrents()
                    .flat_map(Torrent::tags)
                    .filter(|tag| !tags.contains(tag))
                    .collect();
                let mut calls = Vec::new();
                if !others.is_empty() {
                    calls.push((
                        all.clone(),
                        TorrentAction::RemoveTags(others.into_iter().collect()),
                    ));
                }
                if !tags.is_empty() {
                    calls.push((all.clone(), TorrentAction::AddTags(tags.clone())));
                }
                Plan {
                    calls,
                    refused: HashMap::new(),
                }
            }
            TorrentChange::ForceStart(value) => one_call(TorrentAction::SetForceStart(*value)),
            TorrentChange::Recheck => one_call(TorrentAction::Recheck),
            TorrentChange::Reannounce => one_call(TorrentAction::Reannounce),
            TorrentChange::SequentialDownload(value) => Plan {
                calls: vec![(
                    differing(|torrent| torrent.seq_dl, *value),
                    TorrentAction::ToggleSequentialDownload,
                )],
                refused: HashMap::new(),
            },
            TorrentChange::FirstLastPiecePriority(value) => Plan {
                calls: vec![(
                    differing(|torrent| torrent.f_l_piece_prio, *value),
                    TorrentAction::ToggleFirstLastPiecePriority,
                )],
                refused: HashMap::new(),
            },
            TorrentChange::SuperSeeding(value) => {
                let refused: HashMap<InfoHash, String> = named
                    .torrents()
                    .filter(|torrent| *value && !torrent.state().is_complete())
                    .map(|torrent| {
                        let why = format!(
                            "super seeding is for complete torrents; {} is {:.0}% done",
                            quote(&torrent.name),
                            torrent.progress * 100.0
                        );
                        (torrent.hash, why)
                    })
                    .collect();
                let taking = all
                    .iter()
                    .copied()
                    .filter(|id| !refused.contains_key(id))
                    .collect();
                Plan {
                    calls: vec![(taking, TorrentAction::SetSuperSeeding(*value))],
                    refused,
                }
            }
            TorrentChange::AutomaticManagement(value) => {
                one_call(TorrentAction::SetAutomaticManagement(*value))
            }
            TorrentChange::Queue(to) => one_call(TorrentAction::Queue(*to)),
            TorrentChange::Move(path) => one_call(TorrentAction::SetLocation(path.clone())),
            TorrentChange::SpeedLimits { download, upload } => {
                let mut calls = Vec::new();
                if let Some(limit) = download {
                    calls.push((all.clone(), TorrentAction::SetDownloadLimit(*limit)));
                }
                if let Some(limit) = upload {
                    calls.push((all.clone(), TorrentAction::SetUploadLimit(*limit)));
                }
                Plan {
                    calls,
                    refused: HashMap::new(),
                }
            }
            TorrentChange::AddPeers(peers) => {
                one_call(TorrentAction::AddPeers(super::peers::parse_peers(peers)?))
            }
            TorrentChange::ShareLimits {
                ratio,
                seeding_minutes,
                inactive_seeding_minutes,
            } => {
                // qBittorrent before 4.6 has no inactive limit and its list
                // has no such field; 5.x requires the field.
                let has_inactive_limit = named
                    .torrents()
                    .all(|torrent| torrent.inactive_seeding_time_limit.is_some());
                if !has_inactive_limit && *inactive_seeding_minutes != ShareLimit::Global {
                    return Err(ServiceError::InvalidInput(
                        "this qBittorrent has no inactive seeding time limit (it came with qBittorrent 4.6): leave inactiveSeedingTime out".to_owned(),
                    ));
                }
                one_call(TorrentAction::SetShareLimits {
                    ratio: *ratio,
                    seeding_minutes: *seeding_minutes,
                    inactive_seeding_minutes: has_inactive_limit
                        .then_some(*inactive_seeding_minutes),
                })
            }
        })
    }

    /// For each of `hashes`, the torrent it names (its id, or a hybrid's
    /// v1 hash) as qBittorrent lists it now, in one call.
    async fn name_each(&self, hashes: &[InfoHash]) -> Result<Named, ServiceError> {
        let mut listed = if hashes.is_empty() {
            Vec::new()
        } else {
            self.qbittorrent
                .torrents(
                    TorrentFilter::All,
                    None,
                    Some(&self.with_listed_ids(hashes)),
                )
                .await?
        };
        let missing = |listed: &[Torrent]| {
            hashes
                .iter()
                .any(|hash| !listed.iter().any(|torrent| torrent.is_known_by(*hash)))
        };
        if missing(&listed) && !self.mirror.is_filled() {
            // Before the first sync only a whole list tells whether a hash
            // is the v1 hash of a hybrid listed under its v2 hash.
            listed = self
                .qbittorrent
                .torrents(TorrentFilter::All, None, None)
                .await?;
        }
        let ids = hashes
            .iter()
            .map(|hash| {
                listed
                    .iter()
                    .find(|torrent| torrent.is_known_by(*hash))
                    .map(|torrent| torrent.hash)
            })
            .collect::<Vec<_>>();
        let named: HashSet<InfoHash> = ids.iter().flatten().copied().collect();
        let before = listed
            .into_iter()
            .filter(|torrent| named.contains(&torrent.hash))
            .map(|torrent| (torrent.hash, torrent))
            .collect();
        Ok(Named { ids, before })
    }

    /// Polls the torrents `ids` every [`POLL_INTERVAL`] until `shows` holds
    /// for each one listed (or [`STATE_CHANGE_TIMEOUT`] has passed), and
    /// returns them as listed then, recorded in the mirror.
    async fn settle(
        &self,
        ids: &[InfoHash],
        shows: impl Fn(&Torrent) -> bool,
    ) -> Result<HashMap<InfoHash, Arc<Torrent>>, ServiceError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = || async {
            Ok(self
                .qbittorrent
                .torrents(TorrentFilter::All, None, Some(ids))
                .await?)
        };
        let last = once_shown(list, |listed: &Vec<Torrent>| listed.iter().all(&shows)).await?;
        Ok(last
            .into_iter()
            .map(|torrent| {
                self.mirror.record(&torrent);
                (torrent.hash, Arc::new(torrent))
            })
            .collect())
    }
}

impl TorrentChange {
    /// Whether qBittorrent shows this change on `after`, which was
    /// `before` when it was asked for.
    fn shows_in(&self, before: &Torrent, after: &Torrent) -> bool {
        match self {
            Self::Pause => after.state().is_paused(),
            Self::Resume => !after.state().is_paused(),
            Self::SetCategory(category) => after.category == *category,
            Self::AddTags(tags) => tags.iter().all(|tag| after.tags().contains(tag)),
            Self::RemoveTags(tags) => !after.tags().iter().any(|tag| tags.contains(tag)),
            Self::SetTags(tags) => {
                after.tags().into_iter().collect::<BTreeSet<_>>()
                    == tags.iter().cloned().collect::<BTreeSet<_>>()
            }
            Self::ForceStart(value) => after.force_start == *value,
            // Nothing to wait for: qBittorrent starts a check, an
            // announce or a connection in its own time.
            Self::Recheck | Self::Reannounce | Self::AddPeers(_) => true,
            Self::SequentialDownload(value) => after.seq_dl == *value,
            Self::FirstLastPiecePriority(value) => after.f_l_piece_prio == *value,
            Self::SuperSeeding(value) => after.super_seeding == *value,
            Self::AutomaticManagement(value) => after.auto_tmm == *value,
            // qBittorrent shows new queue places with its next status
            // refresh; a torrent out of the queue, or at the end it moves
            // to, keeps its place.
            Self::Queue(to) => {
                let at_end = match to {
                    QueueMove::Top | QueueMove::Up => before.priority == 1,
                    QueueMove::Bottom | QueueMove::Down => false,
                };
                before.priority <= 0 || at_end || after.priority != before.priority
            }
            Self::Move(path) => {
                same_path(&after.save_path, path)
                    && after.state() != crate::clients::qbittorrent::TorrentState::Moving
            }
            Self::SpeedLimits { download, upload } => {
                download.is_none_or(|limit| after.dl_limit.max(0) == limit)
                    && upload.is_none_or(|limit| after.up_limit.max(0) == limit)
            }
            Self::ShareLimits {
                ratio,
                seeding_minutes,
                inactive_seeding_minutes,
            } => {
                let ratio_shown = match (ratio, ShareLimit::from_ratio(after.ratio_limit)) {
                    (ShareLimit::Limited(wanted), ShareLimit::Limited(shown)) => {
                        (wanted - shown).abs() < 0.005
                    }
                    (wanted, shown) => *wanted == shown,
                };
                ratio_shown
                    && ShareLimit::from_minutes(after.seeding_time_limit) == *seeding_minutes
                    && after.inactive_seeding_time_limit.is_none_or(|minutes| {
                        ShareLimit::from_minutes(minutes) == *inactive_seeding_minutes
                    })
            }
        }
    }
}

/// Refuses more than [`MAX_TORRENTS_PER_CHANGE`] hashes.
fn check_count(hashes: &[InfoHash]) -> Result<(), ServiceError> {
    if hashes.len() > MAX_TORRENTS_PER_CHANGE {
        return Err(ServiceError::InvalidInput(format!(
            "at most {MAX_TORRENTS_PER_CHANGE} torrents per change; {} were given",
            hashes.len()
        )));
    }
    Ok(())
}

/// Trims tag names; refuses empty ones, commas (qBittorrent's separator)
/// and control characters.
pub(super) fn clean_tags(tags: Vec<String>) -> Result<Vec<String>, ServiceError> {
    let mut cleaned = Vec::with_capacity(tags.len());
    for tag in tags {
        let name = clean_name(Some(&tag), "a tag")?
            .ok_or_else(|| ServiceError::InvalidInput("a tag must not be empty".to_owned()))?;
        if name.contains(',') {
            return Err(ServiceError::InvalidInput(format!(
                "tag {} contains a comma, which qBittorrent uses to separate tags",
                quote(&name)
            )));
        }
        if !cleaned.contains(&name) {
            cleaned.push(name);
        }
    }
    Ok(cleaned)
}

/// Whether qBittorrent's `shown` save path is `wanted` (it may add a
/// trailing `/`).
fn same_path(shown: &str, wanted: &str) -> bool {
    Path::new(shown) == Path::new(wanted)
}

/// qBittorrent's terse refusal, in words, for the actions it refuses in
/// a known state.
fn refusal_in_words(error: QbittorrentError, action: &TorrentAction) -> ServiceError {
    match (error, action) {
        (QbittorrentError::Rejected(_), TorrentAction::Queue(_)) => ServiceError::InvalidInput(
            "torrent queueing is off in qBittorrent, so torrents have no place in a queue to move; turn queueing on first".to_owned(),
        ),
        (error, _) => error.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn torrent(json: serde_json::Value) -> Torrent {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn tags_are_trimmed_deduplicated_and_comma_free() {
        assert_eq!(
            clean_tags(vec![" hd ".into(), "hd".into(), "tv".into()]).unwrap(),
            ["hd", "tv"]
        );
        assert!(clean_tags(vec!["a,b".into()]).is_err());
        assert!(clean_tags(vec!["  ".into()]).is_err());
    }

    #[test]
    fn a_queue_move_waits_only_for_torrents_that_can_move() {
        let at = |priority: i64| {
            torrent(serde_json::json!({
                "hash": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "priority": priority,
            }))
        };
        let top = TorrentChange::Queue(QueueMove::Top);
        assert!(top.shows_in(&at(1), &at(1)), "already first");
        assert!(top.shows_in(&at(0), &at(0)), "not queued");
        assert!(!top.shows_in(&at(3), &at(3)), "not moved yet");
        assert!(top.shows_in(&at(3), &at(1)));
    }

    #[test]
    fn share_limits_show_with_rounding_and_without_the_inactive_limit_of_4_5() {
        let change = TorrentChange::ShareLimits {
            ratio: ShareLimit::Limited(1.5),
            seeding_minutes: ShareLimit::Unlimited,
            inactive_seeding_minutes: ShareLimit::Global,
        };
        let before =
            torrent(serde_json::json!({ "hash": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }));
        let v4 = torrent(serde_json::json!({
            "hash": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ratio_limit": 1.5000001, "seeding_time_limit": -1,
        }));
        assert!(change.shows_in(&before, &v4));
        let v5_unchanged = torrent(serde_json::json!({
            "hash": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ratio_limit": -2, "seeding_time_limit": -2, "inactive_seeding_time_limit": -2,
        }));
        assert!(!change.shows_in(&before, &v5_unchanged));
    }
}
