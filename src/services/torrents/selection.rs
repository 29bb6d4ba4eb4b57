//! Choosing which files of a torrent to download as it is added. A
//! `.torrent`'s files are known at once: it is added stopped, its other
//! files skipped, then started (unless asked to stay stopped); a bad
//! selection removes it again. A magnet's files are known only once its
//! metadata has arrived: it is added with qBittorrent's stop condition
//! "metadata received", and a task waits for the files (at most
//! [`METADATA_TIMEOUT`]), skips the others and starts it; meanwhile the
//! torrent shows `fileSelectionPending`. And reading what a torrent
//! holds before adding it, for an "add" dialog.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::{TorrentService, TorrentSource};
use crate::clients::qbittorrent::{
    AddSource, FilePriority, QbittorrentClient, Torrent, TorrentAction, TorrentContent,
};
use crate::services::ServiceError;
use crate::text::quote;
use crate::torrent::InfoHash;

/// How long a magnet added with a selection may take to get its metadata
/// before torrentql stops waiting (the torrent then stays stopped, with
/// every file selected, and a warning is logged).
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(600);

/// How often the wait for a magnet's metadata asks for its files.
const METADATA_POLL: Duration = Duration::from_millis(500);

/// The files to download, as the user chose them: by index, or by path
/// glob (`*.mkv`, `Season 1/**`; case-insensitive, `*` crosses folders).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSelection {
    /// File indexes, as `torrents/files` numbers them (the order in the
    /// `.torrent`).
    pub indexes: Vec<i64>,
    /// Path globs, matched against each file's path within the torrent.
    pub globs: Vec<String>,
}

/// A [`FileSelection`] with its globs compiled.
#[derive(Debug, Clone)]
pub(super) struct SelectedFiles {
    indexes: Vec<i64>,
    globs: GlobSet,
}

/// Torrents whose files torrentql chooses once their metadata arrives.
#[derive(Default, Clone)]
pub(super) struct PendingSelections(Arc<Mutex<HashSet<InfoHash>>>);

impl FileSelection {
    /// Checks the selection before anything is added.
    pub(super) fn compile(&self) -> Result<SelectedFiles, ServiceError> {
        if self.indexes.is_empty() && self.globs.is_empty() {
            return Err(ServiceError::InvalidInput(
                "files: choose at least one file, by index or by glob".to_owned(),
            ));
        }
        let mut globs = GlobSetBuilder::new();
        for glob in &self.globs {
            let compiled = GlobBuilder::new(glob.trim())
                .case_insensitive(true)
                .build()
                .map_err(|error| {
                    ServiceError::InvalidInput(format!(
                        "files: glob {} is not valid: {}",
                        quote(glob),
                        error.kind()
                    ))
                })?;
            globs.add(compiled);
        }
        let globs = globs.build().map_err(|error| {
            ServiceError::InvalidInput(format!("files: the globs are not valid: {error}"))
        })?;
        Ok(SelectedFiles {
            indexes: self.indexes.clone(),
            globs,
        })
    }
}

impl SelectedFiles {
    /// The indexes of the files of `torrent` not chosen, or why the
    /// selection does not fit its files.
    fn skipped(&self, name: &str, files: &[TorrentContent]) -> Result<Vec<i64>, ServiceError> {
        if let Some(unknown) = self
            .indexes
            .iter()
            .find(|index| !files.iter().any(|file| file.index == **index))
        {
            return Err(ServiceError::InvalidInput(format!(
                "files: {} has no file with index {unknown}: its files are 0 to {}",
                quote(name),
                files.len().saturating_sub(1)
            )));
        }
        let chosen = |file: &TorrentContent| {
            self.indexes.contains(&file.index) || self.globs.is_match(&file.name)
        };
        if !files.iter().any(chosen) {
            return Err(ServiceError::InvalidInput(format!(
                "files: the selection chooses none of the {} files of {}",
                files.len(),
                quote(name)
            )));
        }
        Ok(files
            .iter()
            .filter(|file| !chosen(file))
            .map(|file| file.index)
            .collect())
    }
}

impl PendingSelections {
    fn contains(&self, id: InfoHash) -> bool {
        self.0.lock().expect("pending lock").contains(&id)
    }

    fn insert(&self, id: InfoHash) {
        self.0.lock().expect("pending lock").insert(id);
    }

    fn remove(&self, id: InfoHash) {
        self.0.lock().expect("pending lock").remove(&id);
    }
}

impl TorrentService {
    /// Whether torrentql is waiting for the torrent's metadata to choose
    /// its files.
    pub fn is_file_selection_pending(&self, id: InfoHash) -> bool {
        self.pending_selections.contains(id)
    }

    /// Applies `selection` to a `.torrent` just added stopped, then starts
    /// it when `start`; a selection that does not fit removes it again.
    pub(super) async fn select_now(
        &self,
        torrent: Torrent,
        selection: &SelectedFiles,
        start: bool,
    ) -> Result<Torrent, ServiceError> {
        let applied = apply(
            &self.qbittorrent,
            torrent.hash,
            &torrent.name,
            selection,
            start,
        )
        .await;
        if let Err(error) = applied {
            let delete = TorrentAction::Delete {
                delete_files: false,
            };
            if let Err(cleanup) = self.qbittorrent.act(&[torrent.hash], &delete).await {
                tracing::warn!(hash = %torrent.hash, %cleanup, "could not remove a torrent whose file selection failed");
            }
            self.mirror.forget(torrent.hash);
            return Err(error);
        }
        let shown = self
            .qbittorrent
            .torrent(torrent.hash)
            .await?
            .unwrap_or(torrent);
        self.mirror.record(&shown);
        Ok(shown)
    }

    /// Chooses a magnet's files once its metadata arrives, in a task of
    /// its own, then starts it when `start`.
    pub(super) fn select_when_metadata_arrives(
        &self,
        torrent: &Torrent,
        selection: SelectedFiles,
        start: bool,
    ) {
        let qbittorrent = Arc::clone(&self.qbittorrent);
        let pending = self.pending_selections.clone();
        let (id, name) = (torrent.hash, torrent.name.clone());
        pending.insert(id);
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + METADATA_TIMEOUT;
            let outcome = loop {
                match qbittorrent.files(id).await {
                    Ok(files) if !files.is_empty() => {
                        break apply(&qbittorrent, id, &name, &selection, start).await;
                    }
                    Ok(_) => {}
                    Err(error) => tracing::debug!(hash = %id, %error, "waiting for metadata"),
                }
                if tokio::time::Instant::now() >= deadline {
                    break Err(ServiceError::Unavailable(format!(
                        "no metadata within {METADATA_TIMEOUT:?}"
                    )));
                }
                tokio::time::sleep(METADATA_POLL).await;
            };
            pending.remove(id);
            match outcome {
                Ok(()) => {
                    tracing::info!(hash = %id, started = start, "files chosen once the metadata arrived")
                }
                Err(error) => {
                    tracing::warn!(hash = %id, %error, "could not choose the files; the torrent stays stopped")
                }
            }
        });
    }
}

/// What a torrent holds, read before adding it (for an "add" dialog).
#[derive(Debug, Clone)]
pub struct Preview {
    /// The hash qBittorrent would list it under.
    pub hash: InfoHash,
    /// Its name (a magnet's `dn`, or its hash, when qBittorrent does not
    /// have it).
    pub name: String,
    /// Its files, by index as qBittorrent numbers them; `None` for a
    /// magnet whose metadata qBittorrent does not have.
    pub files: Option<Vec<PreviewFile>>,
    /// The torrent as qBittorrent lists it, when it has it already.
    pub existing: Option<Torrent>,
}

/// One file of a [`Preview`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewFile {
    /// Its index, as `files.indexes` and `TorrentFile.index` take it.
    pub index: i64,
    /// Its path within the torrent, `/` between folders.
    pub path: String,
    /// Bytes.
    pub size: i64,
}

impl TorrentService {
    /// What `source` holds, without adding it: a `.torrent`'s files at
    /// once; a magnet's only when qBittorrent has it with its metadata.
    pub async fn preview(&self, source: TorrentSource) -> Result<Preview, ServiceError> {
        let source = self.resolve(source, None).await?;
        let ids = match &source {
            AddSource::Magnets(magnets) => magnets[0].hashes(),
            AddSource::File(file) => file.hashes(),
        }
        .ids();
        let existing = self.find(&ids).await?;
        Ok(match source {
            AddSource::File(file) => Preview {
                hash: file.info_hash(),
                name: file.name().to_owned(),
                files: Some(
                    file.files()
                        .into_iter()
                        .enumerate()
                        .map(|(index, listed)| PreviewFile {
                            index: index as i64,
                            path: listed.path,
                            size: listed.size,
                        })
                        .collect(),
                ),
                existing,
            },
            AddSource::Magnets(magnets) => {
                let magnet = &magnets[0];
                let files = match &existing {
                    Some(torrent) => {
                        let files = self.qbittorrent.files(torrent.hash).await?;
                        (!files.is_empty()).then(|| {
                            files
                                .into_iter()
                                .map(|file| PreviewFile {
                                    index: file.index,
                                    path: file.name,
                                    size: file.size,
                                })
                                .collect()
                        })
                    }
                    None => None,
                };
                Preview {
                    hash: magnet.info_hash(),
                    name: existing
                        .as_ref()
                        .map(|torrent| torrent.name.clone())
                        .or_else(|| magnet.display_name().map(str::to_owned))
                        .unwrap_or_else(|| magnet.info_hash().to_string()),
                    files,
                    existing,
                }
            }
        })
    }
}

/// Skips the files `selection` does not choose, in one call, then starts
/// the torrent when `start`.
async fn apply(
    qbittorrent: &QbittorrentClient,
    id: InfoHash,
    name: &str,
    selection: &SelectedFiles,
    start: bool,
) -> Result<(), ServiceError> {
    let files = qbittorrent.files(id).await?;
    let skipped = selection.skipped(name, &files)?;
    if !skipped.is_empty() {
        qbittorrent
            .set_file_priority(id, &skipped, FilePriority::Skip)
            .await?;
    }
    if start {
        qbittorrent.act(&[id], &TorrentAction::Resume).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<TorrentContent> {
        names
            .iter()
            .enumerate()
            .map(|(index, name)| TorrentContent {
                index: index as i64,
                name: (*name).to_owned(),
                size: 1,
                progress: 0.0,
                priority: 1,
                availability: -1.0,
            })
            .collect()
    }

    fn selection(indexes: &[i64], globs: &[&str]) -> Result<SelectedFiles, ServiceError> {
        FileSelection {
            indexes: indexes.to_vec(),
            globs: globs.iter().map(|glob| (*glob).to_owned()).collect(),
        }
        .compile()
    }

    #[test]
    fn globs_and_indexes_choose_files_and_the_rest_are_skipped() {
        let torrent = files(&[
            "Show/S01E01.mkv",
            "Show/S01E02.MKV",
            "Show/sample.mkv",
            "Show/info.nfo",
        ]);
        let by_glob = selection(&[], &["*E0?.mkv"]).unwrap();
        assert_eq!(by_glob.skipped("Show", &torrent).unwrap(), [2, 3]);
        let by_both = selection(&[3], &["Show/S01E01.mkv"]).unwrap();
        assert_eq!(by_both.skipped("Show", &torrent).unwrap(), [1, 2]);
    }

    #[test]
    fn a_selection_that_does_not_fit_is_refused() {
        let torrent = files(&["a.mkv", "b.mkv"]);
        assert!(selection(&[], &[]).is_err(), "nothing chosen");
        assert!(selection(&[], &["[unclosed"]).is_err(), "bad glob");
        let unknown = selection(&[5], &[]).unwrap().skipped("t", &torrent);
        assert!(unknown.unwrap_err().to_string().contains("index 5"));
        let none = selection(&[], &["*.iso"]).unwrap().skipped("t", &torrent);
        assert!(
            none.unwrap_err()
                .to_string()
                .contains("none of the 2 files")
        );
    }
}
