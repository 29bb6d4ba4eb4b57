//! The fields of `Torrent`, each written once.
//!
//! A plain field (no arguments, no context) is one function of the
//! torrent; [`torrent_fields!`] makes it both an async-graphql resolver
//! and an entry of the fast path's table ([`plain_field`]), so the two
//! cannot drift apart. Fields that need the context (`library`, `files`)
//! are ordinary resolvers, and leave the fast path.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, InputType, Object, OutputType, Result, Value};

use super::contents::{FileTreeRow, Peer, Tracker};
use super::object::{TorrentFields, TorrentFile, TorrentState};
use super::share_limits::ShareLimits;
use crate::clients::qbittorrent;
use crate::error::AppError;
use crate::graphql::cost;
use crate::graphql::libraries::Library;
use crate::graphql::loaders::FilesLoader;
use crate::graphql::node::NodeId;
use crate::graphql::release::ReleaseFacts;
use crate::graphql::scalars::{Bytes, DateTime};
use crate::services::libraries::LibraryService;
use crate::services::torrents::file_tree;

/// A plain field's answer for one torrent.
pub type PlainField = fn(&qbittorrent::Torrent) -> Value;

/// The plain field named `name` in the schema (`__typename` included), or
/// `None` for any other.
pub fn plain_field(name: &str) -> Option<PlainField> {
    if name == "__typename" {
        return Some(|_| Value::String(TorrentFields::type_name().into_owned()));
    }
    PLAIN_FIELDS.get(name).copied()
}

/// Declares the plain fields (doc comment, name, type and body, once each)
/// and the other resolvers of `Torrent`: the `#[Object]` impl, one
/// function per plain field, and `PLAIN_FIELDS`, by schema name.
macro_rules! torrent_fields {
    (
        $object_pound:tt $object_attribute:tt
        $(#[doc = $object_doc:literal])*
        impl TorrentFields {
            plain {
                $( $(#[$doc:meta])* fn $name:ident($torrent:ident) -> $type:ty $body:block )*
            }
            $($resolvers:tt)*
        }
    ) => {
        /// Each plain field, as a function of the torrent.
        mod plain {
            use super::*;

            $( pub fn $name($torrent: &qbittorrent::Torrent) -> $type $body )*
        }

        $(#[doc = $object_doc])*
        // The attribute as written where the macro is used: the names it
        // defines (`child_complexity`) are then seen by the resolvers.
        $object_pound $object_attribute
        impl TorrentFields {
            // Visible to the `Node` interface, which calls `id`.
            $( $(#[$doc])* pub(crate) async fn $name(&self) -> $type { plain::$name(&self.0) } )*

            $($resolvers)*
        }

        /// The plain fields by schema name (async-graphql's camelCase).
        static PLAIN_FIELDS: LazyLock<HashMap<String, PlainField>> = LazyLock::new(|| {
            HashMap::from([
                $( (camel_case(stringify!($name)), (|torrent| plain::$name(torrent).into_value()) as PlainField), )*
            ])
        });
    };
}

torrent_fields! {
    #[Object(name = "Torrent")]
    /// A torrent in qBittorrent.
    impl TorrentFields {
        plain {
            /// Opaque and stable across restarts; `node(id:)` fetches the
            /// torrent again. Use `hash` to talk about the torrent.
            fn id(torrent) -> ID {
                NodeId::Torrent(torrent.hash).to_id()
            }

            /// The hash qBittorrent lists the torrent under: 40 lowercase
            /// hexadecimal characters. For a v1 torrent its v1 hash; for a v2 or
            /// hybrid torrent its v2 hash cut to 40 characters. Every argument
            /// named `hash` also takes a hybrid's v1 hash.
            fn hash(torrent) -> String {
                torrent.hash.to_string()
            }

            /// The v1 (SHA-1) info hash, for v1 and hybrid torrents; null for a
            /// v2-only torrent (and on qBittorrent before 4.4).
            fn info_hash_v1(torrent) -> Option<String> {
                torrent.infohash_v1.map(|hash| hash.to_string())
            }

            /// The v2 (SHA-256) info hash, 64 hexadecimal characters, for v2 and
            /// hybrid torrents; null for a v1 torrent.
            fn info_hash_v2(torrent) -> Option<String> {
                torrent.infohash_v2.map(|hash| hash.to_string())
            }

            /// The torrent's name (for a magnet, its `dn` or hash until the
            /// metadata arrives).
            fn name(torrent) -> &str {
                &torrent.name
            }

            /// Bytes selected for download.
            fn size(torrent) -> Bytes {
                Bytes(torrent.size)
            }

            /// Bytes of all files, selected or not.
            fn total_size(torrent) -> Bytes {
                Bytes(torrent.total_size)
            }

            /// 0 to 1.
            fn progress(torrent) -> f64 {
                torrent.progress
            }

            /// Bytes per second.
            fn download_speed(torrent) -> Bytes {
                Bytes(torrent.dlspeed)
            }

            /// Bytes per second.
            fn upload_speed(torrent) -> Bytes {
                Bytes(torrent.upspeed)
            }

            /// Payload downloaded in the torrent's life so far.
            fn downloaded(torrent) -> Bytes {
                Bytes(torrent.downloaded)
            }

            /// Payload uploaded in the torrent's life so far.
            fn uploaded(torrent) -> Bytes {
                Bytes(torrent.uploaded)
            }

            /// Bytes still to download.
            fn remaining(torrent) -> Bytes {
                Bytes(torrent.amount_left)
            }

            /// Seconds until complete; null when qBittorrent does not know.
            fn eta(torrent) -> Option<i64> {
                torrent.eta()
            }

            /// What the torrent is doing, the same on qBittorrent 4 and 5.
            fn state(torrent) -> TorrentState {
                torrent.state().into()
            }

            /// The state as qBittorrent names it (e.g. `stalledDL`, `stoppedUP`).
            fn raw_state(torrent) -> &str {
                &torrent.state
            }

            /// Null when the torrent has no category.
            fn category(torrent) -> Option<&str> {
                Some(torrent.category.as_str()).filter(|category| !category.is_empty())
            }

            /// The torrent's tags in qBittorrent, in qBittorrent's order.
            fn tags(torrent) -> Vec<String> {
                torrent.tags()
            }

            /// Where qBittorrent saves the torrent, as qBittorrent sees it.
            fn save_path(torrent) -> &str {
                &torrent.save_path
            }

            /// The file, or the top folder, of the torrent's content.
            fn content_path(torrent) -> &str {
                &torrent.content_path
            }

            /// When it was added to qBittorrent.
            fn added_at(torrent) -> Option<DateTime> {
                torrent.added_at().map(DateTime)
            }

            /// Null until the download completes.
            fn completed_at(torrent) -> Option<DateTime> {
                torrent.completed_at().map(DateTime)
            }

            /// Uploaded divided by downloaded.
            fn ratio(torrent) -> f64 {
                torrent.ratio
            }

            /// Seeds connected to.
            fn seeds(torrent) -> i64 {
                torrent.num_seeds
            }

            /// Leechers connected to.
            fn peers(torrent) -> i64 {
                torrent.num_leechs
            }

            /// A magnet link for the torrent, as qBittorrent writes it (with
            /// its trackers).
            fn magnet_uri(torrent) -> &str {
                &torrent.magnet_uri
            }

            /// The torrent's place in the download queue, from 1; null when it
            /// is not queued (complete, or torrent queueing is off). qBittorrent
            /// shows a new place with its next status refresh, up to 1.5 s
            /// after a move.
            fn queue_position(torrent) -> Option<i64> {
                Some(torrent.priority).filter(|position| *position > 0)
            }

            /// Started regardless of the queue limits.
            fn force_start(torrent) -> bool {
                torrent.force_start
            }

            /// Pieces are downloaded in order.
            fn sequential_download(torrent) -> bool {
                torrent.seq_dl
            }

            /// The first and last piece of each file come first.
            fn first_last_piece_priority(torrent) -> bool {
                torrent.f_l_piece_prio
            }

            /// Super seeding (initial seeding) is on.
            fn super_seeding(torrent) -> bool {
                torrent.super_seeding
            }

            /// The category decides the save path (qBittorrent's automatic
            /// torrent management).
            fn automatic_torrent_management(torrent) -> bool {
                torrent.auto_tmm
            }

            /// Bytes per second; null when the torrent has no limit of its own.
            fn download_limit(torrent) -> Option<Bytes> {
                Some(torrent.dl_limit).filter(|limit| *limit > 0).map(Bytes)
            }

            /// Bytes per second; null when the torrent has no limit of its own.
            fn upload_limit(torrent) -> Option<Bytes> {
                Some(torrent.up_limit).filter(|limit| *limit > 0).map(Bytes)
            }
        }

        /// When qBittorrent stops seeding the torrent.
        async fn share_limits(&self) -> ShareLimits {
            ShareLimits::of(&self.0)
        }

        /// What the torrent's name says: title, episode, resolution,
        /// source, codecs... (read as for search results).
        async fn release(&self) -> ReleaseFacts {
            crate::release::ReleaseFacts::parse(&self.0.name).into()
        }

        /// The library the torrent's save path lies in, if any.
        async fn library(&self, ctx: &Context<'_>) -> Result<Option<Library>> {
            let service = ctx.data::<Arc<LibraryService>>()?;
            let found = service.libraries().await.map_err(AppError::from)?;
            Ok(service
                .library_of(&found.libraries, &self.0.save_path)
                .map(|library| Library::new(library, found.stale.as_ref())))
        }

        /// The torrent's files as a tree: folders and files, depth first
        /// (see `FileTreeRow`); empty until a magnet's metadata arrives.
        #[graphql(complexity = "cost::FILES + child_complexity")]
        async fn file_tree(&self, ctx: &Context<'_>) -> Result<Vec<FileTreeRow>> {
            let loader = ctx.data::<DataLoader<FilesLoader>>()?;
            let files = loader.load_one(self.0.hash).await?.unwrap_or_default();
            Ok(file_tree(&files).into_iter().map(FileTreeRow::from).collect())
        }

        /// True while torrentql waits for this magnet's metadata to choose
        /// its files (`addTorrent` with `files`); it then skips the others
        /// and starts it.
        async fn file_selection_pending(&self, ctx: &Context<'_>) -> Result<bool> {
            let service = super::service(ctx)?;
            Ok(service.is_file_selection_pending(self.0.hash))
        }

        /// The torrent's web seeds (HTTP sources), by URL.
        #[graphql(complexity = "cost::FILES + child_complexity")]
        async fn web_seeds(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
            let service = super::service(ctx)?;
            Ok(service.web_seeds(self.0.hash).await.map_err(AppError::from)?)
        }

        /// Each piece of the torrent, in order, as one character: `0` not
        /// downloaded, `1` downloading, `2` downloaded (a string, so a
        /// progress bar of 100,000 pieces is 100 kB); empty until a
        /// magnet's metadata arrives.
        #[graphql(complexity = "cost::FILES + child_complexity")]
        async fn piece_states(&self, ctx: &Context<'_>) -> Result<String> {
            let service = super::service(ctx)?;
            let states = service.piece_states(self.0.hash).await.map_err(AppError::from)?;
            Ok(states.iter().map(|state| char::from(b'0' + (*state).min(2))).collect())
        }

        /// The peers (seeds and leechers) the torrent is connected to, by
        /// address; synced from qBittorrent incrementally.
        #[graphql(complexity = "cost::FILES + child_complexity")]
        async fn connected_peers(&self, ctx: &Context<'_>) -> Result<Vec<Peer>> {
            let service = super::service(ctx)?;
            let peers = service.peers(self.0.hash).await.map_err(AppError::from)?;
            Ok(peers.into_iter().map(Peer::from).collect())
        }

        /// The torrent's trackers (without qBittorrent's DHT, PeX and LSD
        /// entries), in qBittorrent's order.
        #[graphql(complexity = "cost::FILES + child_complexity")]
        async fn trackers(&self, ctx: &Context<'_>) -> Result<Vec<Tracker>> {
            let service = super::service(ctx)?;
            let trackers = service.trackers(self.0.hash).await.map_err(AppError::from)?;
            Ok(trackers.into_iter().map(Tracker::from).collect())
        }

        /// The torrent's files; empty until a magnet's metadata arrives.
        #[graphql(complexity = "cost::FILES + child_complexity")]
        async fn files(&self, ctx: &Context<'_>) -> Result<Vec<TorrentFile>> {
            let loader = ctx.data::<DataLoader<FilesLoader>>()?;
            let files = loader.load_one(self.0.hash).await?.unwrap_or_default();
            let hash = self.0.hash;
            Ok(files
                .into_iter()
                .map(|file| TorrentFile::new(hash, file))
                .collect())
        }
    }
}

/// `snake_case` as async-graphql names fields: `info_hash_v1` is
/// `infoHashV1`.
fn camel_case(snake: &str) -> String {
    let mut words = snake.split('_');
    let mut camel = words.next().unwrap_or_default().to_owned();
    for word in words {
        let mut chars = word.chars();
        camel.extend(chars.next().map(|first| first.to_ascii_uppercase()));
        camel.push_str(chars.as_str());
    }
    camel
}

/// A plain field's answer as a GraphQL value, without a context.
trait IntoValue {
    fn into_value(self) -> Value;
}

impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::String(self)
    }
}

impl IntoValue for ID {
    fn into_value(self) -> Value {
        Value::String(self.0)
    }
}

impl IntoValue for &str {
    fn into_value(self) -> Value {
        Value::String(self.to_owned())
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self) -> Value {
        self.map_or(Value::Null, IntoValue::into_value)
    }
}

/// The types whose input form is their answer.
macro_rules! into_value_as_input {
    ($($type:ty),*) => {
        $(impl IntoValue for $type {
            fn into_value(self) -> Value {
                InputType::to_value(&self)
            }
        })*
    };
}

into_value_as_input!(bool, f64, i64, Bytes, TorrentState, Vec<String>, DateTime);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_camel_cased_as_async_graphql_does() {
        assert_eq!(camel_case("info_hash_v1"), "infoHashV1");
        assert_eq!(camel_case("name"), "name");
        assert_eq!(camel_case("download_speed"), "downloadSpeed");
    }
}
