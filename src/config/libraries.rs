//! `[[libraries]]` and `[[path_mappings]]`: libraries defined here rather
//! than (or besides) in Jellyfin, and how Jellyfin's folders look to
//! qBittorrent.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Problems;
use super::lenient;

/// A library defined in the configuration.
#[derive(Debug, Clone, Serialize)]
pub struct LibraryConfig {
    /// Its name, unique among libraries.
    pub name: String,
    /// Folders as Jellyfin sees them.
    pub paths: Vec<PathBuf>,
    /// `movies`, `tvshows`, ... as Jellyfin names them.
    pub collection_type: Option<String>,
}

/// One folder seen by both: Jellyfin at `jellyfin`, qBittorrent at
/// `qbittorrent` (e.g. two containers mounting one volume differently).
#[derive(Debug, Clone, Serialize)]
pub struct PathMappingConfig {
    /// The folder as Jellyfin sees it.
    pub jellyfin: PathBuf,
    /// The same folder as qBittorrent sees it.
    pub qbittorrent: PathBuf,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawLibrary {
    #[serde(deserialize_with = "lenient::string")]
    name: String,
    #[serde(deserialize_with = "lenient::strings")]
    paths: Vec<String>,
    #[serde(deserialize_with = "lenient::optional_string")]
    collection_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawPathMapping {
    #[serde(deserialize_with = "lenient::string")]
    jellyfin: String,
    #[serde(deserialize_with = "lenient::string")]
    qbittorrent: String,
}

pub(super) fn validate_libraries(
    raw: Vec<RawLibrary>,
    problems: &mut Problems,
) -> Vec<LibraryConfig> {
    let mut names = std::collections::HashSet::new();
    raw.into_iter()
        .enumerate()
        .map(|(index, library)| {
            let name = library.name.trim().to_owned();
            if name.is_empty() {
                problems.add(&format!("libraries[{index}].name"), "is required");
            } else if !names.insert(name.to_lowercase()) {
                problems.add(
                    &format!("libraries[{index}].name"),
                    format!("{name:?} is used twice"),
                );
            }
            if library.paths.is_empty() {
                problems.add(
                    &format!("libraries[{index}].paths"),
                    "needs at least one folder",
                );
            }
            let paths = problems.check_each(
                &format!("libraries[{index}].paths"),
                &library.paths,
                crate::save_path::normalize,
            );
            LibraryConfig {
                name,
                paths,
                collection_type: library
                    .collection_type
                    .filter(|kind| !kind.trim().is_empty()),
            }
        })
        .collect()
}

pub(super) fn validate_path_mappings(
    raw: Vec<RawPathMapping>,
    problems: &mut Problems,
) -> Vec<PathMappingConfig> {
    raw.into_iter()
        .enumerate()
        .filter_map(|(index, mapping)| {
            let jellyfin = problems.check(
                &format!("path_mappings[{index}].jellyfin"),
                crate::save_path::normalize(&mapping.jellyfin),
            );
            let qbittorrent = problems.check(
                &format!("path_mappings[{index}].qbittorrent"),
                crate::save_path::normalize(&mapping.qbittorrent),
            );
            Some(PathMappingConfig {
                jellyfin: jellyfin?,
                qbittorrent: qbittorrent?,
            })
        })
        .collect()
}
