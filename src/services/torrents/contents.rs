//! Inside a torrent: its files (as a tree, with priorities, renamed),
//! its trackers, web seeds and piece states. Each change is checked
//! against what qBittorrent lists first, so an unknown file index, path
//! or tracker is the user's error with a clear message, and answers with
//! qBittorrent's view after it.

use std::collections::BTreeMap;

use super::{TorrentService, listed_id, not_found_as, once_shown};
use crate::clients::qbittorrent::{FilePriority, QbittorrentError, TorrentContent, Tracker};
use crate::services::ServiceError;
use crate::text::quote;
use crate::torrent::InfoHash;

/// Most tracker URLs one call may add or remove.
const MAX_TRACKERS_PER_CHANGE: usize = 100;

/// One row of a torrent's file tree: a folder or a file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileTreeEntry {
    /// The path from the torrent's save path, `/`-separated.
    pub path: String,
    /// How many folders it is inside (0 at the top).
    pub depth: usize,
    /// For a file, its index (as priorities take it); `None` for a folder.
    pub index: Option<i64>,
    /// Bytes, of the file or of every file under the folder.
    pub size: i64,
    /// 0 to 1; a folder's is weighted by its files' sizes.
    pub progress: f64,
    /// The file's priority, or the one all files under a folder share
    /// (`None` when they differ).
    pub priority: Option<FilePriority>,
}

impl FileTreeEntry {
    /// The last part of the path.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// A torrent's files after a change, and the id they belong to.
#[derive(Debug, Clone)]
pub struct ChangedFiles {
    /// The torrent's id (for a hybrid named by its v1 hash, its v2 one).
    pub torrent: InfoHash,
    /// Every file of the torrent, as qBittorrent lists them after it.
    pub files: Vec<TorrentContent>,
}

/// Which of a torrent's paths a rename names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// A file (`TorrentContent::name`).
    File,
    /// A folder: a prefix of file names, up to a `/`.
    Folder,
}

impl TorrentService {
    /// The files of a torrent (empty until a magnet's metadata arrives).
    pub async fn files(&self, hash: InfoHash) -> Result<Vec<TorrentContent>, ServiceError> {
        let id = listed_id(&self.mirror, hash);
        self.qbittorrent
            .files(id)
            .await
            .map_err(|error| not_found_as(error, hash))
    }

    /// Gives the files at `indexes` `priority`, in one call, and answers
    /// every file once qBittorrent shows it.
    pub async fn set_file_priority(
        &self,
        hash: InfoHash,
        indexes: &[i64],
        priority: FilePriority,
    ) -> Result<ChangedFiles, ServiceError> {
        let torrent = self.require(hash).await?;
        let files = self.files(torrent.hash).await?;
        if files.is_empty() {
            return Err(no_metadata_yet(&torrent.name));
        }
        if indexes.is_empty() {
            return Err(ServiceError::InvalidInput(
                "give the index of at least one file".to_owned(),
            ));
        }
        if let Some(unknown) = indexes
            .iter()
            .find(|index| !files.iter().any(|file| file.index == **index))
        {
            return Err(ServiceError::InvalidInput(format!(
                "{} has no file with index {unknown}: its files are 0 to {}",
                quote(&torrent.name),
                files.len() - 1
            )));
        }
        self.qbittorrent
            .set_file_priority(torrent.hash, indexes, priority)
            .await
            .map_err(|error| not_found_as(error, hash))?;
        self.files_once(torrent.hash, |files| {
            files
                .iter()
                .filter(|file| indexes.contains(&file.index))
                .all(|file| FilePriority::from_value(file.priority) == priority)
        })
        .await
    }

    /// Renames (or moves, within the torrent) the file or folder at `path`
    /// to `new_path`, and answers every file once qBittorrent shows it.
    pub async fn rename_path(
        &self,
        hash: InfoHash,
        kind: PathKind,
        path: &str,
        new_path: &str,
    ) -> Result<ChangedFiles, ServiceError> {
        let new_path = clean_relative_path(new_path)?;
        let torrent = self.require(hash).await?;
        let files = self.files(torrent.hash).await?;
        if files.is_empty() {
            return Err(no_metadata_yet(&torrent.name));
        }
        let exists = |wanted: &str| match kind {
            PathKind::File => files.iter().any(|file| file.name == wanted),
            PathKind::Folder => files.iter().any(|file| is_under(&file.name, wanted)),
        };
        if !exists(path) {
            let what = match kind {
                PathKind::File => "file",
                PathKind::Folder => "folder",
            };
            return Err(ServiceError::InvalidInput(format!(
                "{} has no {what} {}",
                quote(&torrent.name),
                quote(path)
            )));
        }
        if files
            .iter()
            .any(|file| file.name == new_path || is_under(&file.name, &new_path))
        {
            return Err(ServiceError::InvalidInput(format!(
                "{} exists already in {}",
                quote(&new_path),
                quote(&torrent.name)
            )));
        }
        self.qbittorrent
            .rename_path(torrent.hash, path, &new_path, kind == PathKind::Folder)
            .await
            .map_err(|error| match error {
                QbittorrentError::Rejected(why) => {
                    ServiceError::InvalidInput(format!("qBittorrent refused the rename: {why}"))
                }
                other => not_found_as(other, hash),
            })?;
        self.files_once(torrent.hash, |files| match kind {
            PathKind::File => files.iter().any(|file| file.name == new_path),
            PathKind::Folder => files.iter().any(|file| is_under(&file.name, &new_path)),
        })
        .await
    }

    /// A torrent's trackers, without the DHT, PeX and LSD entries.
    pub async fn trackers(&self, hash: InfoHash) -> Result<Vec<Tracker>, ServiceError> {
        let id = listed_id(&self.mirror, hash);
        let trackers = self
            .qbittorrent
            .trackers(id)
            .await
            .map_err(|error| not_found_as(error, hash))?;
        Ok(trackers
            .into_iter()
            .filter(|tracker| !tracker.is_pseudo())
            .collect())
    }

    /// Adds trackers to a torrent (ones it has already are left as they
    /// are), and answers its trackers once qBittorrent lists the new ones.
    pub async fn add_trackers(
        &self,
        hash: InfoHash,
        urls: &[String],
    ) -> Result<Vec<Tracker>, ServiceError> {
        let urls = check_tracker_urls(urls)?;
        let id = self.require(hash).await?.hash;
        self.qbittorrent
            .add_trackers(id, &urls)
            .await
            .map_err(|error| not_found_as(error, hash))?;
        self.trackers_once(hash, |trackers| {
            urls.iter()
                .all(|url| trackers.iter().any(|tracker| tracker.url == *url))
        })
        .await
    }

    /// Replaces the tracker `url` of a torrent with `new_url`.
    pub async fn edit_tracker(
        &self,
        hash: InfoHash,
        url: &str,
        new_url: &str,
    ) -> Result<Vec<Tracker>, ServiceError> {
        let new_url = check_tracker_urls(&[new_url.to_owned()])?.remove(0);
        let id = self.require(hash).await?.hash;
        let trackers = self.trackers(id).await?;
        if !trackers.iter().any(|tracker| tracker.url == url) {
            return Err(unknown_tracker(url));
        }
        if trackers.iter().any(|tracker| tracker.url == new_url) {
            return Err(ServiceError::InvalidInput(format!(
                "the torrent has the tracker {} already",
                quote(&new_url)
            )));
        }
        self.qbittorrent
            .edit_tracker(id, url, &new_url)
            .await
            .map_err(|error| not_found_as(error, hash))?;
        self.trackers_once(hash, |trackers| {
            trackers.iter().any(|tracker| tracker.url == new_url)
        })
        .await
    }

    /// Removes trackers from a torrent, and answers the ones left.
    pub async fn remove_trackers(
        &self,
        hash: InfoHash,
        urls: &[String],
    ) -> Result<Vec<Tracker>, ServiceError> {
        check_tracker_count(urls)?;
        let id = self.require(hash).await?.hash;
        let trackers = self.trackers(id).await?;
        if let Some(unknown) = urls
            .iter()
            .find(|url| !trackers.iter().any(|tracker| tracker.url == **url))
        {
            return Err(unknown_tracker(unknown));
        }
        self.qbittorrent
            .remove_trackers(id, urls)
            .await
            .map_err(|error| not_found_as(error, hash))?;
        self.trackers_once(hash, |trackers| {
            !trackers.iter().any(|tracker| urls.contains(&tracker.url))
        })
        .await
    }

    /// A torrent's web seeds (HTTP sources), by URL.
    pub async fn web_seeds(&self, hash: InfoHash) -> Result<Vec<String>, ServiceError> {
        let id = listed_id(&self.mirror, hash);
        self.qbittorrent
            .web_seeds(id)
            .await
            .map_err(|error| not_found_as(error, hash))
    }

    /// Each piece of a torrent: 0 missing, 1 downloading, 2 downloaded.
    pub async fn piece_states(&self, hash: InfoHash) -> Result<Vec<u8>, ServiceError> {
        let id = listed_id(&self.mirror, hash);
        self.qbittorrent
            .piece_states(id)
            .await
            .map_err(|error| not_found_as(error, hash))
    }

    /// The torrent's files once `shows` holds for them (or after
    /// [`super::STATE_CHANGE_TIMEOUT`], as they are then).
    async fn files_once(
        &self,
        id: InfoHash,
        shows: impl Fn(&[TorrentContent]) -> bool,
    ) -> Result<ChangedFiles, ServiceError> {
        let files = once_shown(|| self.files(id), |files: &Vec<_>| shows(files)).await?;
        Ok(ChangedFiles { torrent: id, files })
    }

    /// The torrent's trackers once `shows` holds for them (or after
    /// [`super::STATE_CHANGE_TIMEOUT`], as they are then).
    async fn trackers_once(
        &self,
        hash: InfoHash,
        shows: impl Fn(&[Tracker]) -> bool,
    ) -> Result<Vec<Tracker>, ServiceError> {
        once_shown(|| self.trackers(hash), |trackers: &Vec<_>| shows(trackers)).await
    }
}

/// A torrent's files as a tree, flattened depth first: each folder
/// before what it holds, folders before files, each level by name.
pub fn file_tree(files: &[TorrentContent]) -> Vec<FileTreeEntry> {
    #[derive(Default)]
    struct Folder<'a> {
        folders: BTreeMap<&'a str, Folder<'a>>,
        files: BTreeMap<&'a str, &'a TorrentContent>,
    }
    let mut root = Folder::default();
    for file in files {
        let mut folder = &mut root;
        let mut parts = file.name.split('/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                folder.files.insert(part, file);
            } else {
                folder = folder.folders.entry(part).or_default();
            }
        }
    }

    /// Appends the entries under `folder` (at `path`, `depth`), and
    /// answers its size, downloaded bytes and common priority.
    fn walk(
        folder: &Folder<'_>,
        path: &str,
        depth: usize,
        out: &mut Vec<FileTreeEntry>,
    ) -> (i64, f64, Option<Option<FilePriority>>) {
        let mut size = 0;
        let mut done = 0.0;
        // None: nothing seen yet; Some(None): priorities differ.
        let mut common: Option<Option<FilePriority>> = None;
        let meet = |common: &mut Option<Option<FilePriority>>, priority| {
            *common = match *common {
                None => Some(priority),
                Some(seen) if seen == priority => Some(seen),
                Some(_) => Some(None),
            };
        };
        let join = |name: &str| {
            if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}/{name}")
            }
        };
        for (name, sub) in &folder.folders {
            let at = out.len();
            let sub_path = join(name);
            out.push(FileTreeEntry {
                path: sub_path.clone(),
                depth,
                index: None,
                size: 0,
                progress: 0.0,
                priority: None,
            });
            let (sub_size, sub_done, sub_priority) = walk(sub, &sub_path, depth + 1, out);
            let entry = &mut out[at];
            entry.size = sub_size;
            entry.progress = progress(sub_size, sub_done);
            entry.priority = sub_priority.flatten();
            size += sub_size;
            done += sub_done;
            meet(&mut common, sub_priority.flatten());
        }
        for (name, file) in &folder.files {
            let priority = Some(FilePriority::from_value(file.priority));
            out.push(FileTreeEntry {
                path: join(name),
                depth,
                index: Some(file.index),
                size: file.size,
                progress: file.progress,
                priority,
            });
            size += file.size;
            done += file.size as f64 * file.progress;
            meet(&mut common, priority);
        }
        (size, done, common)
    }

    fn progress(size: i64, done: f64) -> f64 {
        if size > 0 {
            (done / size as f64).clamp(0.0, 1.0)
        } else {
            1.0
        }
    }

    let mut out = Vec::with_capacity(files.len());
    walk(&root, "", 0, &mut out);
    out
}

/// Whether `path` is inside the folder `folder`.
fn is_under(path: &str, folder: &str) -> bool {
    path.strip_prefix(folder)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// A path inside a torrent as the user gave it, trimmed: relative, with
/// no empty, `.` or `..` part and no `\`.
fn clean_relative_path(path: &str) -> Result<String, ServiceError> {
    let path = path.trim();
    if path.is_empty()
        || path.contains('\\')
        || path.chars().any(char::is_control)
        || path
            .split('/')
            .any(|part| matches!(part.trim(), "" | "." | ".."))
    {
        return Err(ServiceError::InvalidInput(format!(
            "the new path {} is not valid: it must not be empty, and is relative to the torrent, `/` between names, none of them empty, `.` or `..`",
            quote(path)
        )));
    }
    Ok(path.to_owned())
}

/// Trims tracker URLs and refuses any that is not http, https or udp.
fn check_tracker_urls(urls: &[String]) -> Result<Vec<String>, ServiceError> {
    check_tracker_count(urls)?;
    urls.iter()
        .map(|url| {
            let url = url.trim();
            match url::Url::parse(url) {
                Ok(parsed)
                    if matches!(parsed.scheme(), "http" | "https" | "udp")
                        && parsed.host().is_some() =>
                {
                    Ok(url.to_owned())
                }
                _ => Err(ServiceError::InvalidInput(format!(
                    "tracker URL {} is not an http, https or udp URL with a host",
                    quote(url)
                ))),
            }
        })
        .collect()
}

/// Refuses no tracker URL, or more than [`MAX_TRACKERS_PER_CHANGE`].
fn check_tracker_count(urls: &[String]) -> Result<(), ServiceError> {
    if urls.is_empty() || urls.len() > MAX_TRACKERS_PER_CHANGE {
        return Err(ServiceError::InvalidInput(format!(
            "give 1 to {MAX_TRACKERS_PER_CHANGE} tracker URLs"
        )));
    }
    Ok(())
}

fn unknown_tracker(url: &str) -> ServiceError {
    ServiceError::InvalidInput(format!("the torrent has no tracker {}", quote(url)))
}

fn no_metadata_yet(name: &str) -> ServiceError {
    ServiceError::InvalidInput(format!(
        "{} has no files yet: qBittorrent is still fetching its metadata",
        quote(name)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(index: i64, name: &str, size: i64, progress: f64, priority: i64) -> TorrentContent {
        TorrentContent {
            index,
            name: name.to_owned(),
            size,
            progress,
            priority,
            availability: -1.0,
        }
    }

    #[test]
    fn the_tree_puts_folders_first_and_sums_them() {
        let files = [
            file(0, "Show/readme.txt", 100, 1.0, 1),
            file(1, "Show/S01/e01.mkv", 1000, 0.5, 1),
            file(2, "Show/S01/e02.mkv", 1000, 0.0, 0),
        ];
        let tree = file_tree(&files);
        let rows: Vec<(&str, usize, Option<i64>)> = tree
            .iter()
            .map(|entry| (entry.path.as_str(), entry.depth, entry.index))
            .collect();
        assert_eq!(
            rows,
            [
                ("Show", 0, None),
                ("Show/S01", 1, None),
                ("Show/S01/e01.mkv", 2, Some(1)),
                ("Show/S01/e02.mkv", 2, Some(2)),
                ("Show/readme.txt", 1, Some(0)),
            ]
        );
        assert_eq!(tree[1].size, 2000);
        assert!((tree[1].progress - 0.25).abs() < 1e-9);
        assert_eq!(tree[1].priority, None, "mixed priorities");
        assert_eq!(tree[4].priority, Some(FilePriority::Normal));
        assert_eq!(tree[1].name(), "S01");
    }

    #[test]
    fn a_single_file_torrent_is_one_row() {
        let tree = file_tree(&[file(0, "movie.mkv", 5, 1.0, 7)]);
        assert_eq!(tree.len(), 1);
        assert_eq!(tree[0].priority, Some(FilePriority::Maximum));
    }

    #[test]
    fn new_paths_stay_inside_the_torrent() {
        assert_eq!(clean_relative_path(" a/b.mkv ").unwrap(), "a/b.mkv");
        for bad in ["", "/abs", "a//b", "../x", "a/./b", "a\\b", "a/"] {
            assert!(clean_relative_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tracker_urls_are_http_https_or_udp() {
        assert!(check_tracker_urls(&["udp://127.0.0.1:6969/announce".into()]).is_ok());
        assert!(check_tracker_urls(&[" https://t.example/announce ".into()]).is_ok());
        for bad in ["ftp://t.example/", "not a url", "http://", "magnet:?xt=x"] {
            assert!(check_tracker_urls(&[bad.into()]).is_err(), "{bad:?}");
        }
    }
}
