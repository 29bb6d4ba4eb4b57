//! Global object identification: `interface Node { id: ID! }` on every
//! type a client would cache, and `node(id:)` / `nodes(ids:)` to fetch any
//! of them again by id. With an `id`, Apollo's and urql's normalising
//! caches keep one copy of each torrent, with no client configuration.
//!
//! An id is the base64url text of `<type>:<instance>:<key>`, opaque to
//! clients and stable across restarts: the torrent's info hash, a
//! category's name, a file's index within its torrent. Whatever belongs to
//! qBittorrent names its instance, so that more qBittorrent instances can
//! be added later beside today's one ([`QBITTORRENT_INSTANCE`]) without
//! changing any id. Libraries belong to Jellyfin or the configuration,
//! search results to no instance at all.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Interface, Object, Result};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::guards::AdminGuard;
use super::libraries::Library;
use super::loaders::FilesLoader;
use super::search::SearchResult;
use super::torrents::{Category, QbittorrentInfo, TorrentFields, TorrentFile};
use crate::error::AppError;
use crate::services::TorrentService;
use crate::services::libraries::{LibraryService, LibrarySource};
use crate::torrent::InfoHash;

/// The name of the one qBittorrent torrentql talks to, in the ids of what
/// belongs to it.
pub const QBITTORRENT_INSTANCE: &str = "default";

/// Most ids one `nodes` call takes.
const MAX_IDS: usize = 100;

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Opaque and stable across restarts; `node(id:)` fetches the object again."
))]
// The search result variant lists the type in the interface; `node(id:)`
// never builds one, so its size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    /// A torrent.
    Torrent(TorrentFields),
    /// One file of a torrent.
    TorrentFile(TorrentFile),
    /// A qBittorrent category.
    Category(Category),
    /// The qBittorrent instance.
    QbittorrentInfo(QbittorrentInfo),
    /// A media library.
    Library(Library),
    /// A search result.
    SearchResult(SearchResult),
}

/// What a global id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeId {
    /// A torrent, by info hash.
    Torrent(InfoHash),
    /// A torrent's file, by its index in the torrent.
    TorrentFile(InfoHash, i64),
    /// A category, by name.
    Category(String),
    /// The qBittorrent instance itself.
    Qbittorrent,
    /// A library, by where it is defined and its name.
    Library(LibrarySource, String),
    /// A search result, by info hash (or the SHA-256 of its download link
    /// when it has none).
    SearchResult(String),
}

impl NodeId {
    /// The id clients see.
    pub fn to_id(&self) -> ID {
        let text = match self {
            Self::Torrent(hash) => format!("Torrent:{QBITTORRENT_INSTANCE}:{hash}"),
            Self::TorrentFile(hash, index) => {
                format!("TorrentFile:{QBITTORRENT_INSTANCE}:{hash}:{index}")
            }
            Self::Category(name) => format!("Category:{QBITTORRENT_INSTANCE}:{name}"),
            Self::Qbittorrent => format!("QbittorrentInfo:{QBITTORRENT_INSTANCE}:"),
            Self::Library(source, name) => format!("Library:{}:{name}", source_name(*source)),
            Self::SearchResult(key) => format!("SearchResult::{key}"),
        };
        ID(URL_SAFE_NO_PAD.encode(text))
    }

    /// The id of a search result of `info_hash`, or of `download_url`
    /// when it has none.
    pub fn search_result(info_hash: Option<&str>, download_url: Option<&str>) -> Self {
        match (info_hash, download_url) {
            (Some(hash), _) => Self::SearchResult(hash.to_owned()),
            (None, url) => {
                let digest = Sha256::digest(url.unwrap_or_default().as_bytes());
                Self::SearchResult(format!("url-{}", data_encoding::HEXLOWER.encode(&digest)))
            }
        }
    }

    /// Reads an id: `Ok(None)` for a well-formed id of another qBittorrent
    /// instance, which does not exist here.
    pub fn parse(id: &str) -> Result<Option<Self>, AppError> {
        let invalid = || {
            AppError::BadUserInput(format!(
                "{} is not an id torrentql gave out",
                crate::text::quote(id)
            ))
        };
        let text = URL_SAFE_NO_PAD
            .decode(id)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid)?;
        let mut parts = text.splitn(3, ':');
        let (Some(kind), Some(owner), Some(key)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let hash = |text: &str| text.parse::<InfoHash>().map_err(|_| invalid());
        let belongs_here = owner == QBITTORRENT_INSTANCE;
        let node = match kind {
            "Torrent" => Self::Torrent(hash(key)?),
            "TorrentFile" => {
                let (torrent, index) = key.split_once(':').ok_or_else(invalid)?;
                Self::TorrentFile(hash(torrent)?, index.parse().map_err(|_| invalid())?)
            }
            "Category" => Self::Category(key.to_owned()),
            "QbittorrentInfo" => Self::Qbittorrent,
            "Library" => {
                let source = match owner {
                    "jellyfin" => LibrarySource::Jellyfin,
                    "config" => LibrarySource::Config,
                    _ => return Err(invalid()),
                };
                return Ok(Some(Self::Library(source, key.to_owned())));
            }
            "SearchResult" if owner.is_empty() => {
                return Ok(Some(Self::SearchResult(key.to_owned())));
            }
            _ => return Err(invalid()),
        };
        Ok(belongs_here.then_some(node))
    }
}

fn source_name(source: LibrarySource) -> &'static str {
    match source {
        LibrarySource::Jellyfin => "jellyfin",
        LibrarySource::Config => "config",
    }
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this id; null when it no longer exists. Search
    /// results are not kept: their ids answer null (search again).
    #[graphql(guard = "AdminGuard")]
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An `id` torrentql gave out.")] id: ID,
    ) -> Result<Option<Node>> {
        let id = NodeId::parse(&id)?;
        Ok(match id {
            Some(id) => fetch(ctx, id).await?,
            None => None,
        })
    }

    /// The objects with these ids, in their order; null for each that no
    /// longer exists (see `node`). At most 100 ids.
    #[graphql(guard = "AdminGuard")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Ids torrentql gave out; the answer keeps their order.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        if ids.len() > MAX_IDS {
            return Err(AppError::BadUserInput(format!(
                "nodes takes at most {MAX_IDS} ids; this asks for {}",
                ids.len()
            ))
            .into());
        }
        let parsed = ids
            .iter()
            .map(|id| NodeId::parse(id))
            .collect::<Result<Vec<_>, _>>()?;
        let fetched = parsed.into_iter().map(|id| async move {
            match id {
                Some(id) => fetch(ctx, id).await,
                None => Ok(None),
            }
        });
        futures::future::try_join_all(fetched).await
    }
}

async fn fetch(ctx: &Context<'_>, id: NodeId) -> Result<Option<Node>> {
    let torrents = || ctx.data::<Arc<TorrentService>>();
    Ok(match id {
        NodeId::Torrent(hash) => torrents()?
            .get(hash)
            .await
            .map_err(AppError::from)?
            .map(|torrent| Node::Torrent(TorrentFields(torrent))),
        NodeId::TorrentFile(hash, index) => {
            let loader = ctx.data::<DataLoader<FilesLoader>>()?;
            let files = loader.load_one(hash).await?.unwrap_or_default();
            files
                .into_iter()
                .find(|file| file.index == index)
                .map(|file| Node::TorrentFile(TorrentFile::new(hash, file)))
        }
        NodeId::Category(name) => torrents()?
            .categories()
            .await
            .map_err(AppError::from)?
            .into_iter()
            .find(|category| category.name == name)
            .map(|category| Node::Category(category.into())),
        NodeId::Qbittorrent => Some(Node::QbittorrentInfo(
            torrents()?.qbittorrent_status().await.into(),
        )),
        NodeId::Library(source, name) => {
            let found = ctx
                .data::<Arc<LibraryService>>()?
                .libraries()
                .await
                .map_err(AppError::from)?;
            found
                .libraries
                .iter()
                .find(|library| library.source == source && library.name == name)
                .map(|library| Node::Library(Library::new(library, found.stale.as_ref())))
        }
        NodeId::SearchResult(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back_as_what_they_name() {
        let hash: InfoHash = "0123456789abcdef0123456789abcdef01234567".parse().unwrap();
        let ids = [
            NodeId::Torrent(hash),
            NodeId::TorrentFile(hash, 3),
            NodeId::Category("tv/shows: new".to_owned()),
            NodeId::Qbittorrent,
            NodeId::Library(LibrarySource::Jellyfin, "Films: 4K".to_owned()),
            NodeId::Library(LibrarySource::Config, "Books".to_owned()),
            NodeId::search_result(Some("0123456789abcdef0123456789abcdef01234567"), None),
            NodeId::search_result(None, Some("http://indexer/download/1")),
        ];
        for id in ids {
            let text = id.to_id();
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{text:?} is URL-safe"
            );
            assert_eq!(NodeId::parse(&text).unwrap(), Some(id));
        }
    }

    #[test]
    fn ids_of_another_instance_name_nothing_and_junk_is_refused() {
        let other =
            URL_SAFE_NO_PAD.encode("Torrent:second:0123456789abcdef0123456789abcdef01234567");
        assert_eq!(NodeId::parse(&other).unwrap(), None);
        for junk in [
            "",
            "!!!",
            "VG9ycmVudA",
            &URL_SAFE_NO_PAD.encode("Torrent:default:xyz"),
        ] {
            assert!(
                matches!(NodeId::parse(junk), Err(AppError::BadUserInput(_))),
                "{junk:?}"
            );
        }
    }
}
