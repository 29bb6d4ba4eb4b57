//! Libraries: Jellyfin's and the configured ones, how their folders look
//! to qBittorrent, and telling Jellyfin when a download lands in one.
//!
//! Jellyfin and qBittorrent often see the same folder under different
//! paths (two containers mounting one volume). `[[path_mappings]]` maps
//! Jellyfin path prefixes to qBittorrent's; paths under no mapping are the
//! same for both.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::ServiceError;
use crate::clients::jellyfin::{JellyfinClient, JellyfinError};
use crate::clients::qbittorrent::Torrent;
use crate::config::{LibraryConfig, PathMappingConfig};

/// Delays between attempts to tell Jellyfin about a completed download
/// (about two minutes in all), then torrentql gives up and logs it.
const NOTIFY_RETRY_DELAYS: [Duration; 6] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(30),
    Duration::from_secs(60),
];

/// Where a library's definition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibrarySource {
    /// Listed by Jellyfin.
    Jellyfin,
    /// Defined in `[[libraries]]`.
    Config,
}

/// A media library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// The library's name.
    pub name: String,
    /// Its folders as Jellyfin sees them.
    pub paths: Vec<PathBuf>,
    /// `movies`, `tvshows`, ... (unknown strings kept as they are).
    pub collection_type: Option<String>,
    /// The first folder as qBittorrent sees it: where downloads go.
    pub download_path: Option<PathBuf>,
    /// Where the definition comes from.
    pub source: LibrarySource,
}

/// The libraries, and whether Jellyfin's part of them is a cached copy.
#[derive(Debug, Clone, Default)]
pub struct Libraries {
    /// Every library, Jellyfin's first.
    pub libraries: Arc<Vec<Library>>,
    /// Set when Jellyfin could not be reached and the last good list is
    /// shown instead: why, and since when.
    pub stale: Option<Staleness>,
}

/// Why Jellyfin's libraries are a cached copy, and from when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staleness {
    /// Why Jellyfin could not be asked, cut short and without URLs.
    pub reason: String,
    /// When the copy was fetched.
    pub fetched_at: DateTime<Utc>,
}

/// Maps paths between Jellyfin's and qBittorrent's views.
#[derive(Debug, Clone, Default)]
pub struct PathMappings(Vec<PathMappingConfig>);

impl PathMappings {
    /// The configured mappings; the longest matching prefix wins.
    pub fn new(mappings: Vec<PathMappingConfig>) -> Self {
        Self(mappings)
    }

    /// A Jellyfin path as qBittorrent sees it (longest prefix wins).
    pub fn to_qbittorrent(&self, jellyfin: &Path) -> PathBuf {
        Self::rebase(
            jellyfin,
            self.0.iter().map(|m| (&m.jellyfin, &m.qbittorrent)),
        )
    }

    /// A qBittorrent path as Jellyfin sees it.
    pub fn to_jellyfin(&self, qbittorrent: &Path) -> PathBuf {
        Self::rebase(
            qbittorrent,
            self.0.iter().map(|m| (&m.qbittorrent, &m.jellyfin)),
        )
    }

    fn rebase<'a>(path: &Path, pairs: impl Iterator<Item = (&'a PathBuf, &'a PathBuf)>) -> PathBuf {
        pairs
            .filter_map(|(from, to)| {
                Some((
                    from.components().count(),
                    to.join(path.strip_prefix(from).ok()?),
                ))
            })
            .max_by_key(|(depth, _)| *depth)
            .map_or_else(|| path.to_path_buf(), |(_, rebased)| rebased)
    }
}

struct Cached {
    libraries: Vec<Library>,
    fetched_at: DateTime<Utc>,
    fetched: Instant,
}

/// After a failed fetch, Jellyfin is not asked again for this long: a list
/// of many torrents resolving `Torrent.library` must not wait for one
/// timeout each.
const FAILURE_MEMORY: Duration = Duration::from_secs(5);

/// Libraries from Jellyfin and the config.
pub struct LibraryService {
    jellyfin: Option<Arc<JellyfinClient>>,
    /// How long Jellyfin's list is reused before asking again.
    fresh_for: Duration,
    configured: Vec<LibraryConfig>,
    mappings: PathMappings,
    /// Jellyfin's last good answer.
    cache: RwLock<Option<Cached>>,
    /// The last failure, remembered for [`FAILURE_MEMORY`].
    last_failure: RwLock<Option<(Instant, JellyfinError)>>,
    /// One fetch at a time: concurrent callers wait for it and share it.
    refresh: tokio::sync::Mutex<()>,
}

impl LibraryService {
    /// Libraries from Jellyfin (when configured) and the configuration.
    pub fn new(
        jellyfin: Option<Arc<JellyfinClient>>,
        fresh_for: Duration,
        configured: Vec<LibraryConfig>,
        mappings: PathMappings,
    ) -> Self {
        Self {
            jellyfin,
            fresh_for,
            configured,
            mappings,
            cache: RwLock::new(None),
            last_failure: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// Jellyfin's libraries (when configured) followed by the configured
    /// ones. With Jellyfin unreachable: the last good list and a staleness
    /// note, or `UPSTREAM_UNAVAILABLE` when there is none.
    pub async fn libraries(&self) -> Result<Libraries, ServiceError> {
        let configured = self.configured.iter().map(|library| Library {
            name: library.name.clone(),
            download_path: library
                .paths
                .first()
                .map(|path| self.mappings.to_qbittorrent(path)),
            paths: library.paths.clone(),
            collection_type: library.collection_type.clone(),
            source: LibrarySource::Config,
        });
        let Some(jellyfin) = &self.jellyfin else {
            return Ok(Libraries {
                libraries: Arc::new(configured.collect()),
                stale: None,
            });
        };
        let (from_jellyfin, stale) = self.jellyfin_libraries(jellyfin).await?;
        Ok(Libraries {
            libraries: Arc::new(from_jellyfin.into_iter().chain(configured).collect()),
            stale,
        })
    }

    async fn jellyfin_libraries(
        &self,
        jellyfin: &JellyfinClient,
    ) -> Result<(Vec<Library>, Option<Staleness>), ServiceError> {
        if let Some(fresh) = self.fresh_cache() {
            return Ok((fresh, None));
        }
        let _refreshing = self.refresh.lock().await;
        // Someone else may have refreshed, or failed, while this one waited.
        if let Some(fresh) = self.fresh_cache() {
            return Ok((fresh, None));
        }
        let recent_failure = self
            .last_failure
            .read()
            .expect("failure lock")
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FAILURE_MEMORY)
            .map(|(_, error)| error.clone());
        let fetched = match recent_failure {
            Some(error) => Err(error),
            None => jellyfin.virtual_folders().await,
        };
        match fetched {
            Ok(folders) => {
                let libraries: Vec<Library> = folders
                    .into_iter()
                    .map(|folder| {
                        // Only absolute folders below the root count: they
                        // become allowed save roots.
                        let paths: Vec<PathBuf> = folder
                            .locations
                            .iter()
                            .filter_map(|location| crate::save_path::normalize(location).ok())
                            .filter(|path| path.parent().is_some())
                            .collect();
                        Library {
                            name: folder.name,
                            download_path: paths
                                .first()
                                .map(|path| self.mappings.to_qbittorrent(path)),
                            paths,
                            collection_type: folder.collection_type,
                            source: LibrarySource::Jellyfin,
                        }
                    })
                    .collect();
                *self.cache.write().expect("cache lock") = Some(Cached {
                    libraries: libraries.clone(),
                    fetched_at: Utc::now(),
                    fetched: Instant::now(),
                });
                *self.last_failure.write().expect("failure lock") = None;
                Ok((libraries, None))
            }
            Err(error) => {
                let mut last_failure = self.last_failure.write().expect("failure lock");
                if last_failure
                    .as_ref()
                    .is_none_or(|(at, _)| at.elapsed() >= FAILURE_MEMORY)
                {
                    tracing::warn!(%error, "cannot list Jellyfin's libraries");
                    *last_failure = Some((Instant::now(), error.clone()));
                }
                drop(last_failure);
                match self.cache.read().expect("cache lock").as_ref() {
                    Some(cached) => Ok((
                        cached.libraries.clone(),
                        Some(Staleness {
                            reason: error.to_string(),
                            fetched_at: cached.fetched_at,
                        }),
                    )),
                    None => Err(error.into()),
                }
            }
        }
    }

    fn fresh_cache(&self) -> Option<Vec<Library>> {
        self.cache
            .read()
            .expect("cache lock")
            .as_ref()
            .filter(|cached| cached.fetched.elapsed() < self.fresh_for)
            .map(|cached| cached.libraries.clone())
    }

    /// The library called `name` (case-insensitive).
    pub async fn find(&self, name: &str) -> Result<Library, ServiceError> {
        let all = self.libraries().await?;
        all.libraries
            .iter()
            .find(|library| library.name.eq_ignore_ascii_case(name.trim()))
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = all
                    .libraries
                    .iter()
                    .map(|library| library.name.as_str())
                    .collect();
                ServiceError::InvalidInput(format!(
                    "unknown library {}; known: {}",
                    crate::text::quote(name),
                    known.join(", ")
                ))
            })
    }

    /// Every library's folders as qBittorrent sees them (allowed save
    /// roots). Best effort: without Jellyfin's list, only what is known.
    pub async fn download_roots(&self) -> Vec<PathBuf> {
        let libraries = match self.libraries().await {
            Ok(all) => all.libraries,
            Err(_) => return Vec::new(),
        };
        libraries
            .iter()
            .flat_map(|library| {
                library
                    .paths
                    .iter()
                    .map(|path| self.mappings.to_qbittorrent(path))
            })
            .collect()
    }

    /// The folders of `library`, as qBittorrent sees them.
    pub fn folders_of(&self, library: &Library) -> Vec<PathBuf> {
        library
            .paths
            .iter()
            .map(|path| self.mappings.to_qbittorrent(path))
            .collect()
    }

    /// The library whose folder (as qBittorrent sees it) holds `save_path`.
    pub fn library_of<'a>(&self, libraries: &'a [Library], save_path: &str) -> Option<&'a Library> {
        let save_path = crate::save_path::normalize(save_path).ok()?;
        libraries
            .iter()
            .filter_map(|library| {
                library
                    .paths
                    .iter()
                    .map(|path| self.mappings.to_qbittorrent(path))
                    .filter(|root| save_path.starts_with(root))
                    .map(|root| root.components().count())
                    .max()
                    .map(|depth| (depth, library))
            })
            .max_by_key(|(depth, _)| *depth)
            .map(|(_, library)| library)
    }

    /// Tells Jellyfin about each completed download inside a library, once,
    /// retrying for a while when Jellyfin is down; never holds up the
    /// completion stream. Ends on `shutdown`.
    pub async fn notify_completions(
        self: Arc<Self>,
        completions: impl Stream<Item = Arc<Torrent>> + Send + 'static,
        shutdown: CancellationToken,
    ) {
        let Some(jellyfin) = self.jellyfin.clone() else {
            return;
        };
        let mut completions =
            std::pin::pin!(completions.take_until(shutdown.clone().cancelled_owned()));
        while let Some(torrent) = completions.next().await {
            let service = Arc::clone(&self);
            let jellyfin = Arc::clone(&jellyfin);
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = service.notify(&jellyfin, &torrent) => {}
                    () = shutdown.cancelled() => {}
                }
            });
        }
    }

    async fn notify(&self, jellyfin: &JellyfinClient, torrent: &Torrent) {
        let content = if torrent.content_path.is_empty() {
            &torrent.save_path
        } else {
            &torrent.content_path
        };
        let Ok(content) = crate::save_path::normalize(content) else {
            return;
        };
        let jellyfin_path = self.mappings.to_jellyfin(&content);
        let mut delays = NOTIFY_RETRY_DELAYS.iter();
        loop {
            let attempt = match self.libraries().await {
                Ok(all)
                    if !all.libraries.iter().any(|library| {
                        library
                            .paths
                            .iter()
                            .any(|path| jellyfin_path.starts_with(path))
                    }) =>
                {
                    tracing::debug!(hash = %torrent.hash, "completed outside every library; Jellyfin is not told");
                    return;
                }
                Ok(_) => jellyfin
                    .media_created(&jellyfin_path.to_string_lossy())
                    .await
                    .map_err(ServiceError::from),
                Err(error) => Err(error),
            };
            match attempt {
                Ok(()) => {
                    tracing::info!(hash = %torrent.hash, path = %jellyfin_path.display(), "told Jellyfin about a completed download");
                    return;
                }
                Err(error) => match delays.next() {
                    Some(delay) => {
                        tracing::debug!(%error, ?delay, "Jellyfin did not take the completion; retrying");
                        tokio::time::sleep(*delay).await;
                    }
                    None => {
                        tracing::error!(%error, hash = %torrent.hash, "giving up telling Jellyfin about a completed download");
                        return;
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mappings() -> PathMappings {
        PathMappings::new(vec![
            PathMappingConfig {
                jellyfin: "/media".into(),
                qbittorrent: "/downloads".into(),
            },
            PathMappingConfig {
                jellyfin: "/media/movies".into(),
                qbittorrent: "/mnt/films".into(),
            },
        ])
    }

    #[test]
    fn paths_map_both_ways_by_the_longest_prefix() {
        let mappings = mappings();
        assert_eq!(
            mappings.to_qbittorrent(Path::new("/media/tv/Show")),
            Path::new("/downloads/tv/Show")
        );
        assert_eq!(
            mappings.to_qbittorrent(Path::new("/media/movies/X")),
            Path::new("/mnt/films/X")
        );
        assert_eq!(
            mappings.to_jellyfin(Path::new("/mnt/films/X/x.mkv")),
            Path::new("/media/movies/X/x.mkv")
        );
        assert_eq!(
            mappings.to_jellyfin(Path::new("/downloads/tv")),
            Path::new("/media/tv")
        );
        // A sibling sharing the prefix as text is not under it.
        assert_eq!(
            mappings.to_jellyfin(Path::new("/downloads-old/x")),
            Path::new("/downloads-old/x")
        );
        assert_eq!(
            mappings.to_qbittorrent(Path::new("/elsewhere")),
            Path::new("/elsewhere")
        );
    }

    #[test]
    fn a_save_path_belongs_to_the_deepest_library_holding_it() {
        let service = LibraryService::new(None, Duration::ZERO, Vec::new(), mappings());
        let library = |name: &str, path: &str| Library {
            name: name.to_owned(),
            paths: vec![path.into()],
            collection_type: None,
            download_path: None,
            source: LibrarySource::Config,
        };
        let libraries = [library("All", "/media"), library("Movies", "/media/movies")];
        assert_eq!(
            service.library_of(&libraries, "/mnt/films/x").unwrap().name,
            "Movies"
        );
        assert_eq!(
            service
                .library_of(&libraries, "/downloads/tv/")
                .unwrap()
                .name,
            "All"
        );
        assert!(service.library_of(&libraries, "/srv").is_none());
    }
}
