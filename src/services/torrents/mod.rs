//! Torrents in qBittorrent: list and add here (choosing files as they are
//! added in [`selection`]), pages of them in
//! [`listing`], changes to many at once in
//! [`actions`], files and trackers in [`contents`], peers in [`peers`],
//! categories and tags
//! in [`labels`], and qBittorrent's transfer state and preferences in
//! [`transfer`].
//!
//! The hash of every torrent is known before qBittorrent is asked to add
//! it, so callers get it back at once and "not found", "duplicate" and
//! "never showed up" are all decided here, not guessed from qBittorrent's
//! terse answers (multi-hash endpoints silently ignore unknown hashes).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::{Instant, sleep};

mod actions;
mod contents;
mod labels;
mod listing;
mod peers;
mod selection;
mod transfer;

pub use actions::{MAX_TORRENTS_PER_CHANGE, Outcome, TorrentChange};
pub use contents::{ChangedFiles, FileTreeEntry, PathKind, file_tree};
pub use listing::{
    MAX_PAGE, OrderField, Page, PageRequest, TorrentMatcher, TorrentOrder, TorrentWhere,
};
pub use selection::{FileSelection, METADATA_TIMEOUT, Preview, PreviewFile};
pub use transfer::PreferenceChanges;

use super::ServiceError;
use super::indexer_keys::IndexerKeys;
use super::libraries::LibraryService;
use super::mirror::{SyncSettings, TorrentMirror};
use crate::clients::qbittorrent::{
    AddSource, AddTorrent, QbittorrentClient, QbittorrentError, Torrent, TorrentAction,
    TorrentFilter,
};
use crate::clients::torrent_url::{Fetched, TorrentUrlClient};
use crate::save_path;
use crate::text::quote;
use crate::torrent::{InfoHash, Magnet, TorrentFile, TorrentLimits};

/// How long an added torrent may take to show up in `torrents/info`
/// (measured: 10 to 100 ms; a busy qBittorrent can take seconds).
pub const LISTED_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a refused or failed add is given to show up anyway: a
/// concurrent add of the same torrent looks like a refusal, and an add
/// whose answer was lost may have landed all the same.
const RACED_ADD_TIMEOUT: Duration = Duration::from_millis(1500);

/// How long a change to torrents waits to see its effect.
pub const STATE_CHANGE_TIMEOUT: Duration = Duration::from_secs(3);

/// How often a wait asks qBittorrent again. qBittorrent shows most
/// changes at once, and a new state with its next status refresh (0.2 to
/// 1.5 s later); a listing of a few torrents costs it about a millisecond,
/// so asking often keeps answers within this of qBittorrent's own.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Longest name accepted for a torrent or category.
const MAX_NAME_CHARS: usize = 255;

/// Where a torrent to add comes from, as the user sent it.
#[derive(Debug, Clone)]
pub enum TorrentSource {
    /// A `magnet:` link.
    Magnet(String),
    /// A bare v1 or v2 info hash.
    InfoHash(String),
    /// An `http(s)` URL of a `.torrent` file, or one redirecting to a magnet.
    Url(String),
    /// The bytes of a `.torrent` file.
    File(Vec<u8>),
}

/// A request to add a torrent.
#[derive(Debug, Clone)]
pub struct AddRequest {
    /// What to add.
    pub source: TorrentSource,
    /// Shown instead of the torrent's own name.
    pub name: Option<String>,
    /// Where to save it, as qBittorrent sees it; under an allowed root.
    pub save_path: Option<String>,
    /// Save into this library's download path (not with `save_path`).
    pub library: Option<String>,
    /// A qBittorrent category, created when missing.
    pub category: Option<String>,
    /// Add it paused (stopped on 5.x); with `files`, it stays stopped
    /// once they are chosen.
    pub paused: bool,
    /// Download only these files (see [`selection`]).
    pub files: Option<FileSelection>,
}

/// Whether qBittorrent answers now, its versions, and how often the mirror
/// syncs with it.
#[derive(Debug, Clone)]
pub struct QbittorrentStatus {
    /// `v5.1.0` and `2.11.4`; `None` with the reason when unreachable.
    pub versions: Result<(String, String), String>,
    /// The time between two full syncs of the mirror now.
    pub sync_period: Duration,
}

/// The torrent an add produced, or found already there.
#[derive(Debug, Clone)]
pub struct AddOutcome {
    /// The torrent's id.
    pub hash: InfoHash,
    /// True when qBittorrent already had the torrent and nothing was added.
    pub duplicate: bool,
    /// The torrent as qBittorrent lists it.
    pub torrent: Torrent,
}

/// The torrent use-cases, on one qBittorrent.
pub struct TorrentService {
    qbittorrent: Arc<QbittorrentClient>,
    /// Answers reads while fresh; every mutation records its result in it.
    mirror: Arc<TorrentMirror>,
    urls: TorrentUrlClient,
    /// From the config; when empty, qBittorrent's default save path is the
    /// one root, read once.
    configured_roots: Vec<PathBuf>,
    default_root: OnceCell<PathBuf>,
    /// Appended to magnets built from a bare info hash.
    trackers: Vec<String>,
    /// Whose download folders also count as allowed save roots.
    libraries: Option<Arc<LibraryService>>,
    indexer_keys: IndexerKeys,
    /// What an uploaded or fetched `.torrent` may hold.
    torrent_limits: TorrentLimits,
    /// Peers of the torrents asked about lately, for incremental syncs.
    peer_lists: peers::PeerLists,
    /// Magnets whose files are chosen once their metadata arrives.
    pending_selections: selection::PendingSelections,
}

impl TorrentService {
    /// The service and its mirror (which stays empty, and every read goes
    /// to qBittorrent, until [`TorrentMirror::run`] is started). Fails only
    /// when its HTTP client for `.torrent` URLs cannot be built.
    pub fn new(
        qbittorrent: Arc<QbittorrentClient>,
        allowed_save_roots: Vec<PathBuf>,
        trackers: Vec<String>,
        sync: SyncSettings,
    ) -> reqwest::Result<Self> {
        Ok(Self {
            mirror: Arc::new(TorrentMirror::new(sync)),
            qbittorrent,
            urls: TorrentUrlClient::new(TorrentLimits::default().max_bytes)?,
            configured_roots: allowed_save_roots,
            default_root: OnceCell::new(),
            trackers,
            libraries: None,
            indexer_keys: IndexerKeys::new(&[]),
            torrent_limits: TorrentLimits::default(),
            peer_lists: peers::PeerLists::default(),
            pending_selections: selection::PendingSelections::default(),
        })
    }

    /// Holds uploaded and fetched `.torrent` files to `limits` (the
    /// defaults otherwise).
    pub fn with_torrent_limits(mut self, limits: TorrentLimits) -> Self {
        self.urls = self.urls.with_max_bytes(limits.max_bytes);
        self.torrent_limits = limits;
        self
    }

    /// Lets saves go into these libraries' folders too.
    pub fn with_libraries(mut self, libraries: Arc<LibraryService>) -> Self {
        self.libraries = Some(libraries);
        self
    }

    /// Puts these indexers' API keys back into their download links (which
    /// search shows without them) when adding by URL.
    pub fn with_indexer_keys(mut self, indexer_keys: IndexerKeys) -> Self {
        self.indexer_keys = indexer_keys;
        self
    }

    /// The qBittorrent client, for callers that need connection details.
    pub fn qbittorrent(&self) -> &Arc<QbittorrentClient> {
        &self.qbittorrent
    }

    /// The mirror, for live progress and to start its poller.
    pub fn mirror(&self) -> &Arc<TorrentMirror> {
        &self.mirror
    }

    /// Torrents matching `filter`, `category` and (when given) `hashes`:
    /// from the mirror while it is fresh, from qBittorrent otherwise.
    pub async fn list(
        &self,
        filter: TorrentFilter,
        category: Option<&str>,
        hashes: Option<&[InfoHash]>,
    ) -> Result<Vec<Arc<Torrent>>, ServiceError> {
        if hashes.is_some_and(<[InfoHash]>::is_empty) {
            return Ok(Vec::new());
        }
        if let Some(torrents) = self.mirror.list(filter, category, hashes) {
            return Ok(torrents);
        }
        let asked = hashes.map(|hashes| self.with_listed_ids(hashes));
        let torrents = self
            .qbittorrent
            .torrents(filter, category, asked.as_deref())
            .await?;
        Ok(torrents.into_iter().map(Arc::new).collect())
    }

    /// One torrent, by its hash or (for a hybrid) its v1 hash, or `None`.
    pub async fn get(&self, hash: InfoHash) -> Result<Option<Arc<Torrent>>, ServiceError> {
        if let Some(mut found) = self.mirror.list(TorrentFilter::All, None, Some(&[hash])) {
            return Ok(found.pop());
        }
        Ok(self.find(&[hash]).await?.map(Arc::new))
    }

    /// Adds a torrent and returns it once qBittorrent lists it. Nothing is
    /// left behind when the add fails.
    pub async fn add(&self, request: AddRequest) -> Result<AddOutcome, ServiceError> {
        let name = clean_name(request.name.as_deref(), "name")?;
        let category = clean_category(request.category.as_deref())?;
        let save_path = match (request.save_path.as_deref(), request.library.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(ServiceError::InvalidInput(
                    "give savePath or library, not both".to_owned(),
                ));
            }
            (Some(path), None) => Some(self.check_save_path(path).await?),
            (None, Some(name)) => Some(self.library_download_path(name).await?),
            (None, None) => None,
        };
        let selection = request
            .files
            .as_ref()
            .map(FileSelection::compile)
            .transpose()?;
        let source = self.resolve(request.source, name.as_deref()).await?;
        let is_magnet = matches!(source, AddSource::Magnets(_));
        // Anything qBittorrent lists as added before this moment is not ours
        // to clean up if the add fails.
        let started = chrono::Utc::now().timestamp() - 1;
        let ids = match &source {
            AddSource::Magnets(magnets) => magnets[0].hashes(),
            AddSource::File(file) => file.hashes(),
        }
        .ids();

        if let Some(existing) = self.find(&ids).await? {
            return Ok(AddOutcome {
                hash: existing.hash,
                duplicate: true,
                torrent: existing,
            });
        }

        let add = AddTorrent {
            source,
            save_path: save_path.map(|path| path.to_string_lossy().into_owned()),
            category,
            // A `.torrent` with a selection waits stopped for it; a magnet
            // runs until its metadata arrives (a stopped one never gets it).
            paused: match &selection {
                Some(_) => !is_magnet,
                None => request.paused,
            },
            rename: name,
            stop_when_metadata_arrives: selection.is_some() && is_magnet,
        };
        match self.qbittorrent.add(&add).await {
            Ok(()) => {}
            Err(QbittorrentError::Rejected(why)) => {
                return match self.wait_until_listed(&ids, RACED_ADD_TIMEOUT).await? {
                    Some(torrent) => Ok(AddOutcome {
                        hash: torrent.hash,
                        duplicate: true,
                        torrent,
                    }),
                    None => Err(QbittorrentError::Rejected(why).into()),
                };
            }
            Err(error) => {
                // The add may have landed before the connection failed;
                // qBittorrent lists it a moment after accepting it.
                self.remove_if_added_since(&ids, started, RACED_ADD_TIMEOUT)
                    .await;
                return Err(error.into());
            }
        }

        match self.wait_until_listed(&ids, LISTED_TIMEOUT).await? {
            Some(torrent) => {
                tracing::info!(hash = %torrent.hash, name = %torrent.name, "torrent added");
                if !torrent.category.is_empty() {
                    self.mirror.record_category(&torrent.category);
                }
                self.mirror.record(&torrent);
                let torrent = match selection {
                    Some(selection) if is_magnet => {
                        self.select_when_metadata_arrives(&torrent, selection, !request.paused);
                        torrent
                    }
                    Some(selection) => {
                        self.select_now(torrent, &selection, !request.paused)
                            .await?
                    }
                    None => torrent,
                };
                Ok(AddOutcome {
                    hash: torrent.hash,
                    duplicate: false,
                    torrent,
                })
            }
            None => {
                self.remove_if_added_since(&ids, started, Duration::ZERO)
                    .await;
                Err(ServiceError::NotListed(LISTED_TIMEOUT))
            }
        }
    }

    /// Makes sure the category `name` exists, creating it with the
    /// default save path when missing.
    async fn ensure_category(&self, name: &str) -> Result<(), ServiceError> {
        let exists = self
            .qbittorrent
            .categories()
            .await?
            .iter()
            .any(|existing| existing.name == name);
        if !exists {
            match self.qbittorrent.create_category(name, None).await {
                // 409: created by someone else in the meantime.
                Ok(()) | Err(QbittorrentError::Rejected(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        self.mirror.record_category(name);
        Ok(())
    }

    /// Whether qBittorrent answers now, and its versions.
    pub async fn qbittorrent_status(&self) -> QbittorrentStatus {
        let versions = async {
            Ok::<_, QbittorrentError>((
                self.qbittorrent.app_version().await?,
                self.qbittorrent.api_version().await?.to_string(),
            ))
        };
        QbittorrentStatus {
            versions: versions.await.map_err(|error| error.to_string()),
            sync_period: self.mirror.sync_period(),
        }
    }

    /// Logs in to qBittorrent again now, once, even after it refused
    /// torrentql's credentials (for an admin who has corrected them), and
    /// answers as [`Self::qbittorrent_status`].
    pub async fn retry_qbittorrent_login(&self) -> QbittorrentStatus {
        match self.qbittorrent.retry_login().await {
            Ok(_) => tracing::info!("logged in to qBittorrent again, as an admin asked"),
            Err(error) => tracing::warn!(%error, "the login an admin asked for failed"),
        }
        self.qbittorrent_status().await
    }

    /// Where downloads into the library called `name` go.
    async fn library_download_path(&self, name: &str) -> Result<PathBuf, ServiceError> {
        let Some(libraries) = &self.libraries else {
            return Err(ServiceError::InvalidInput(format!(
                "unknown library {}; none is configured",
                quote(name)
            )));
        };
        let library = libraries.find(name).await?;
        library.download_path.ok_or_else(|| {
            ServiceError::InvalidInput(format!(
                "library {} has no folder to download into",
                quote(&library.name)
            ))
        })
    }

    /// The roots save paths must lie under: the configured ones (or
    /// qBittorrent's default save path) and every library's folders.
    pub async fn allowed_save_roots(&self) -> Result<Vec<PathBuf>, ServiceError> {
        let mut roots = match &self.libraries {
            Some(libraries) => libraries.download_roots().await,
            None => Vec::new(),
        };
        roots.extend(self.configured_or_default_roots().await?);
        Ok(roots)
    }

    async fn configured_or_default_roots(&self) -> Result<Vec<PathBuf>, ServiceError> {
        if !self.configured_roots.is_empty() {
            return Ok(self.configured_roots.clone());
        }
        let root = self
            .default_root
            .get_or_try_init(|| async {
                let path = self.qbittorrent.default_save_path().await?;
                save_path::normalize(&path).map_err(|why| {
                    ServiceError::UnexpectedAnswer(format!(
                        "qBittorrent's default save path is unusable: {why}"
                    ))
                })
            })
            .await?;
        Ok(vec![root.clone()])
    }

    async fn check_save_path(&self, path: &str) -> Result<PathBuf, ServiceError> {
        let normalized = save_path::normalize(path)
            .map_err(|why| ServiceError::InvalidInput(format!("savePath: {why}")))?;
        let roots = self.allowed_save_roots().await?;
        if !save_path::is_within(&normalized, &roots) {
            let roots = roots
                .iter()
                .map(|root| root.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ServiceError::InvalidInput(format!(
                "savePath {} is outside the allowed save roots ({roots})",
                quote(path)
            )));
        }
        let checked = normalized.clone();
        let through_symlinks = tokio::task::spawn_blocking(move || {
            roots
                .iter()
                .filter(|root| checked.starts_with(root))
                .any(|root| save_path::stays_within_through_symlinks(&checked, root))
        })
        .await
        .unwrap_or(false);
        if !through_symlinks {
            return Err(ServiceError::InvalidInput(format!(
                "savePath {} leads out of the allowed save roots through a symbolic link",
                quote(path)
            )));
        }
        Ok(normalized)
    }

    /// Turns what the user sent into what qBittorrent will be sent.
    async fn resolve(
        &self,
        source: TorrentSource,
        name: Option<&str>,
    ) -> Result<AddSource, ServiceError> {
        Ok(match source {
            TorrentSource::Magnet(text) => AddSource::Magnets(vec![Magnet::parse(&text)?]),
            TorrentSource::InfoHash(text) => {
                let hash: InfoHash = text.parse()?;
                AddSource::Magnets(vec![Magnet::from_info_hash(hash, name, &self.trackers)])
            }
            TorrentSource::File(bytes) => {
                AddSource::File(TorrentFile::parse(bytes, self.torrent_limits)?)
            }
            TorrentSource::Url(url) => {
                match self.urls.fetch(&self.indexer_keys.restore(&url)).await? {
                    Fetched::Magnet(magnet) => AddSource::Magnets(vec![Magnet::parse(&magnet)?]),
                    Fetched::Body(bytes) => {
                        AddSource::File(TorrentFile::parse(bytes, self.torrent_limits)?)
                    }
                }
            }
        })
    }

    /// The torrent `hash` names (by its id, or its v1 hash), as
    /// qBittorrent lists it now; its `hash` is the id to act on.
    async fn require(&self, hash: InfoHash) -> Result<Torrent, ServiceError> {
        self.find(&[hash])
            .await?
            .ok_or(ServiceError::TorrentNotFound(hash))
    }

    /// `hashes` and, for each that is a hybrid's v1 hash the mirror knows,
    /// the id qBittorrent lists that torrent under (its `hashes` filter
    /// matches ids only).
    fn with_listed_ids(&self, hashes: &[InfoHash]) -> Vec<InfoHash> {
        let mut ids = hashes.to_vec();
        ids.extend(
            hashes
                .iter()
                .filter_map(|hash| self.mirror.id_of(*hash).filter(|id| id != hash)),
        );
        ids
    }

    /// The torrent known by any of `ids` (its id, or its v1 hash), as
    /// qBittorrent lists it now.
    async fn find(&self, ids: &[InfoHash]) -> Result<Option<Torrent>, ServiceError> {
        let known_by = |torrent: &Torrent| ids.iter().any(|id| torrent.is_known_by(*id));
        let listed = self
            .qbittorrent
            .torrents(TorrentFilter::All, None, Some(&self.with_listed_ids(ids)))
            .await?;
        if let Some(torrent) = listed.into_iter().find(known_by) {
            return Ok(Some(torrent));
        }
        if self.mirror.is_filled() {
            return Ok(None);
        }
        // Before the first sync only a whole list tells whether one of
        // `ids` is the v1 hash of a hybrid listed under its v2 hash.
        let all = self
            .qbittorrent
            .torrents(TorrentFilter::All, None, None)
            .await?;
        Ok(all.into_iter().find(known_by))
    }

    /// Polls until qBittorrent lists the torrent known by any of `ids`.
    async fn wait_until_listed(
        &self,
        ids: &[InfoHash],
        timeout: Duration,
    ) -> Result<Option<Torrent>, ServiceError> {
        poll_every(POLL_INTERVAL, timeout, || self.find(ids)).await
    }

    /// Best-effort removal after a failed add, so no half-added torrent
    /// stays behind: waits up to `wait` for it to be listed (less when
    /// qBittorrent does not answer). Only a torrent added since `since`
    /// (Unix seconds) is removed, never with its files: someone else may
    /// have added the same torrent meanwhile, or its data may have been
    /// there before.
    async fn remove_if_added_since(&self, ids: &[InfoHash], since: i64, wait: Duration) {
        let hash = match self.wait_until_listed(ids, wait).await {
            Ok(Some(torrent)) if torrent.added_on >= since => torrent.hash,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(hash = %ids[0], %error, "cannot check for a half-added torrent");
                return;
            }
        };
        let delete = TorrentAction::Delete {
            delete_files: false,
        };
        match self.qbittorrent.act(&[hash], &delete).await {
            // A sync may have put it in the mirror meanwhile.
            Ok(()) => self.mirror.forget(hash),
            Err(error) => {
                tracing::warn!(%hash, %error, "could not clean up after a failed add");
            }
        }
    }
}

/// Asks `check` again every `interval` until it answers `Some` or
/// `timeout` has passed (then `None`).
async fn poll_every<T, E, Check, Answer>(
    interval: Duration,
    timeout: Duration,
    mut check: Check,
) -> Result<Option<T>, E>
where
    Check: FnMut() -> Answer,
    Answer: std::future::Future<Output = Result<Option<T>, E>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(done) = check().await? {
            return Ok(Some(done));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        sleep(interval.min(deadline - now)).await;
    }
}

/// What `fetch` answers once `shows` holds for it, asked every
/// [`POLL_INTERVAL`]; after [`STATE_CHANGE_TIMEOUT`], what it answers then
/// (qBittorrent took a change but does not show it yet).
async fn once_shown<T, Fetch, Answer>(
    fetch: Fetch,
    shows: impl Fn(&T) -> bool,
) -> Result<T, ServiceError>
where
    Fetch: Fn() -> Answer,
    Answer: std::future::Future<Output = Result<T, ServiceError>>,
{
    let shown = poll_every(POLL_INTERVAL, STATE_CHANGE_TIMEOUT, || async {
        let fetched = fetch().await?;
        Ok::<_, ServiceError>(shows(&fetched).then_some(fetched))
    })
    .await?;
    match shown {
        Some(fetched) => Ok(fetched),
        None => {
            tracing::debug!("qBittorrent did not show a change in time; answering what it shows");
            fetch().await
        }
    }
}

/// The id qBittorrent lists the torrent `hash` names under, as the mirror
/// knows it (`hash` itself when it does not).
fn listed_id(mirror: &TorrentMirror, hash: InfoHash) -> InfoHash {
    mirror.id_of(hash).unwrap_or(hash)
}

fn not_found_as(error: QbittorrentError, hash: InfoHash) -> ServiceError {
    match error {
        QbittorrentError::NotFound => ServiceError::TorrentNotFound(hash),
        other => other.into(),
    }
}

/// Trims a user-given name; empty means none.
fn clean_name(name: Option<&str>, field: &str) -> Result<Option<String>, ServiceError> {
    let Some(name) = name.map(str::trim).filter(|name| !name.is_empty()) else {
        return Ok(None);
    };
    if name.chars().any(char::is_control) || name.chars().count() > MAX_NAME_CHARS {
        return Err(ServiceError::InvalidInput(format!(
            "{field} must be at most {MAX_NAME_CHARS} characters with no control characters"
        )));
    }
    Ok(Some(name.to_owned()))
}

/// qBittorrent's rule: `/` separates subcategories, so no leading,
/// trailing or doubled `/`, and no `\`; and ours: no `.` or `..`
/// subcategory, as a category's name is also a folder under the save path.
fn clean_category(category: Option<&str>) -> Result<Option<String>, ServiceError> {
    let Some(category) = clean_name(category, "category")? else {
        return Ok(None);
    };
    if category.contains('\\')
        || category
            .split('/')
            .any(|segment| matches!(segment, "" | "." | ".."))
    {
        return Err(ServiceError::InvalidInput(format!(
            "category {} is not valid: `/` separates subcategories, so it cannot start or end the name or appear twice in a row, no subcategory may be `.` or `..`, and `\\` is not allowed",
            quote(&category)
        )));
    }
    Ok(Some(category))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_follow_qbittorrent_rules() {
        assert_eq!(
            clean_category(Some(" movies/4k ")).unwrap().as_deref(),
            Some("movies/4k")
        );
        assert_eq!(clean_category(Some("  ")).unwrap(), None);
        for bad in [
            "/movies", "movies/", "a//b", "a\\b", "a\nb", "../x", "a/../b", "a/.", "..", "a\u{7}",
        ] {
            assert!(clean_category(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
