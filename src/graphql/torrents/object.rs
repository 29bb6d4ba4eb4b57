//! The `Torrent` object, with a fast path for large lists.
//!
//! A list of 10,000 torrents is 100,000 fields or more. async-graphql
//! resolves every object of a list as a future of its own, and every field
//! of an object as another, which made such a list take 65 ms. Almost every
//! selection of a torrent asks only plain fields (no arguments, directives
//! or fragments), so for those [`Torrent`] and [`Torrents`] read the
//! selection once and build the answer directly, from the same field
//! functions (one table, in [`super::fields`]), and leave anything else
//! (`files`, `library`, fragments, directives) to async-graphql. Over
//! HTTP, [`Torrents`] goes one step further and writes such a list as JSON
//! itself (see [`crate::graphql::prerendered`]). A test checks that every
//! path answers alike for every field.

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{
    ContextSelectionSet, Enum, ID, Name, OutputType, Positioned, ServerResult, SimpleObject, Value,
};
use serde::Serializer as _;
use serde::ser::SerializeMap as _;

use super::fields::{PlainField, plain_field};
use crate::clients::qbittorrent;
use crate::error::AppError;
use crate::graphql::node::NodeId;
use crate::graphql::prerendered::Prerendered;
use crate::graphql::scalars::Bytes;
use crate::torrent::InfoHash;

/// A torrent in qBittorrent, answered as the schema's `Torrent` (see the
/// module documentation).
pub struct Torrent(TorrentFields);

impl Torrent {
    pub fn new(torrent: Arc<qbittorrent::Torrent>) -> Self {
        Self(TorrentFields(torrent))
    }
}

/// The `Torrent` object's resolvers, as async-graphql runs them (see
/// [`super::fields`]).
pub(crate) struct TorrentFields(pub(crate) Arc<qbittorrent::Torrent>);

impl OutputType for Torrent {
    fn type_name() -> Cow<'static, str> {
        TorrentFields::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        TorrentFields::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match PlainSelection::of(ctx) {
            Some(selection) => Ok(selection.answer(&self.0)),
            None => OutputType::resolve(&self.0, ctx, field).await,
        }
    }
}

/// A list of torrents, answered as the schema's `[Torrent!]!` (see the
/// module documentation).
pub struct Torrents(Vec<Torrent>);

impl FromIterator<Arc<qbittorrent::Torrent>> for Torrents {
    fn from_iter<I: IntoIterator<Item = Arc<qbittorrent::Torrent>>>(torrents: I) -> Self {
        Self(torrents.into_iter().map(Torrent::new).collect())
    }
}

impl OutputType for Torrents {
    fn type_name() -> Cow<'static, str> {
        Vec::<Torrent>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<Torrent>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Vec::<Torrent>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let Some(selection) = PlainSelection::of(ctx) else {
            // Not plain for one torrent, so for none: straight to the
            // generated resolvers.
            let fields = self.0.iter().map(|torrent| &torrent.0);
            return resolve_list(ctx, field, fields, Some(self.0.len())).await;
        };
        let Some(prerendered) = ctx.data_opt::<Arc<Prerendered>>() else {
            let answers = self.0.iter().map(|torrent| selection.answer(&torrent.0));
            return Ok(Value::List(answers.collect()));
        };
        selection
            .render(&self.0)
            .map(|json| prerendered.insert(json))
            .map_err(|error| {
                let detail = format!("cannot write torrents as JSON: {error}");
                async_graphql::Error::from(AppError::Internal(detail)).into_server_error(field.pos)
            })
    }
}

/// A selection of plain fields only, read once for every torrent it is
/// answered for.
struct PlainSelection(Vec<(Name, PlainField)>);

impl PlainSelection {
    /// `None` for any selection with something else in it, which
    /// async-graphql then resolves.
    fn of(ctx: &ContextSelectionSet<'_>) -> Option<Self> {
        let selections = &ctx.item.node.items;
        let mut fields = Vec::with_capacity(selections.len());
        for selection in selections {
            let Selection::Field(field) = &selection.node else {
                return None;
            };
            let field = &field.node;
            if !field.arguments.is_empty() || !field.directives.is_empty() {
                return None;
            }
            let answer = plain_field(field.name.node.as_str())?;
            fields.push((field.response_key().node.clone(), answer));
        }
        Some(Self(fields))
    }

    fn answer(&self, torrent: &TorrentFields) -> Value {
        let mut answer = IndexMap::with_capacity(self.0.len());
        for (key, field) in &self.0 {
            answer.insert(key.clone(), field(&torrent.0));
        }
        Value::Object(answer)
    }

    /// The JSON of [`Self::answer`] for every torrent, written field by
    /// field instead of through a map per torrent.
    fn render(&self, torrents: &[Torrent]) -> serde_json::Result<Vec<u8>> {
        struct Object<'a>(&'a PlainSelection, &'a qbittorrent::Torrent);
        impl serde::Serialize for Object<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut object = serializer.serialize_map(Some(self.0.0.len()))?;
                for (key, field) in &self.0.0 {
                    object.serialize_entry(key.as_str(), &field(self.1))?;
                }
                object.end()
            }
        }
        // A torrent's plain fields are rarely more than 300 bytes of JSON.
        let mut json = Vec::with_capacity(torrents.len() * 300 + 2);
        let objects = torrents.iter().map(|torrent| Object(self, &torrent.0.0));
        serde_json::Serializer::new(&mut json).collect_seq(objects)?;
        Ok(json)
    }
}

/// One file of a torrent.
#[derive(SimpleObject)]
pub(crate) struct TorrentFile {
    /// Opaque and stable across restarts: the torrent and the file's
    /// index in it.
    #[graphql(owned)]
    pub(crate) id: ID,
    /// The file's index in the torrent, as `setFilePriority` and
    /// `addTorrent`'s file selection take it.
    index: i64,
    /// Path relative to the torrent's save path, `/` between folders.
    name: String,
    /// The file's size.
    size: Bytes,
    /// 0 to 1.
    progress: f64,
    /// Whether and how eagerly it is downloaded.
    priority: FilePriority,
    /// Copies of the file among connected peers (1.5: one whole copy and
    /// half of another); null when qBittorrent does not know (a paused
    /// torrent).
    availability: Option<f64>,
}

impl TorrentFile {
    /// `file` of the torrent `hash`.
    pub(crate) fn new(hash: InfoHash, file: qbittorrent::TorrentContent) -> Self {
        Self {
            id: NodeId::TorrentFile(hash, file.index).to_id(),
            index: file.index,
            name: file.name,
            size: Bytes(file.size),
            progress: file.progress,
            priority: qbittorrent::FilePriority::from_value(file.priority).into(),
            availability: Some(file.availability).filter(|copies| *copies >= 0.0),
        }
    }
}

/// Whether and how eagerly a file is downloaded.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "qbittorrent::FilePriority")]
pub enum FilePriority {
    /// Not downloaded.
    Skip,
    /// Downloaded.
    Normal,
    /// Downloaded before normal files.
    High,
    /// Downloaded first.
    Maximum,
}

/// What a torrent is doing. qBittorrent 4.x "paused" and 5.x "stopped"
/// states map to the same values; `rawState` keeps qBittorrent's name.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "qbittorrent::TorrentState")]
pub enum TorrentState {
    /// Downloading from peers.
    Downloading,
    /// Downloading, ignoring queue limits.
    ForcedDownloading,
    /// A magnet link waiting for its metadata.
    FetchingMetadata,
    /// A magnet link waiting for its metadata, ignoring queue limits.
    ForcedFetchingMetadata,
    /// Downloading, but no peer is sending.
    StalledDownloading,
    /// Incomplete, waiting for a place in the download queue.
    QueuedDownloading,
    /// Incomplete, its data being checked.
    CheckingDownloading,
    /// Incomplete and paused (stopped).
    PausedDownloading,
    /// Complete, uploading to peers.
    Seeding,
    /// Complete, uploading, ignoring queue limits.
    ForcedSeeding,
    /// Complete; no peer is downloading.
    StalledSeeding,
    /// Complete, waiting for a place in the upload queue.
    QueuedSeeding,
    /// Complete, its data being checked.
    CheckingSeeding,
    /// Complete and paused (stopped).
    PausedSeeding,
    /// qBittorrent is starting up.
    CheckingResumeData,
    /// Allocating disk space for its files.
    Allocating,
    /// Its files are being moved to a new save path.
    Moving,
    /// Its files are not where qBittorrent expects them.
    MissingFiles,
    /// qBittorrent hit an error with it (e.g. a disk error); see `rawState`.
    Error,
    /// A state this version of torrentql does not know; see `rawState`.
    Unknown,
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
    use serde_json::{Value as Json, json};

    use super::*;
    use crate::graphql::prerendered::HttpAnswers;

    struct TestQuery;

    #[Object]
    impl TestQuery {
        async fn torrents(&self) -> Torrents {
            let downloading = json!({
                "hash": "0123456789abcdef0123456789abcdef01234567", "name": "Big Buck Bunny",
                "size": 3_000_000_000_i64, "total_size": 4_000_000_000_i64, "progress": 0.25,
                "dlspeed": 1_048_576, "upspeed": 0, "downloaded": 750_000_000, "uploaded": 1,
                "amount_left": 2_250_000_000_i64, "eta": 2146, "state": "downloading",
                "category": "movies", "tags": "a, b", "save_path": "/media/movies",
                "content_path": "/media/movies/Big Buck Bunny", "added_on": 1_700_000_000,
                "completion_on": -1, "ratio": 0.5, "num_seeds": 3, "num_leechs": 2,
                "magnet_uri": "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567",
            });
            let bare = json!({ "hash": "fedcba9876543210fedcba9876543210fedcba98" });
            [downloading, bare]
                .into_iter()
                .map(|torrent| Arc::new(serde_json::from_value(torrent).unwrap()))
                .collect()
        }
    }

    fn schema() -> Schema<TestQuery, EmptyMutation, EmptySubscription> {
        Schema::new(TestQuery, EmptyMutation, EmptySubscription)
    }

    async fn run(query: &str) -> Json {
        let response = schema().execute(query).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        response.data.into_json().unwrap()
    }

    /// `run` as the HTTP handler does it: lists written as JSON by their
    /// resolvers and spliced into the serialized answer.
    async fn run_prerendered(query: &str) -> Json {
        let answers = HttpAnswers::default();
        let response = schema()
            .execute(answers.prepare(async_graphql::Request::new(query)))
            .await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let unspliced = serde_json::to_vec(&response.data).unwrap();
        assert!(
            String::from_utf8_lossy(&unspliced).contains("\"torrentql-prerendered-"),
            "the lists were not prerendered"
        );
        let body = answers
            .body(async_graphql::BatchResponse::Single(response))
            .unwrap();
        serde_json::from_slice::<Json>(&body).unwrap()["data"].take()
    }

    /// The scalar fields that ask qBittorrent (or torrentql's state) for
    /// each torrent, so cannot be plain.
    const CONTEXT_SCALARS: [&str; 3] = ["fileSelectionPending", "webSeeds", "pieceStates"];

    /// Every field of `Torrent` that is a scalar or an enum and takes no
    /// arguments, from the schema itself, but those of
    /// [`CONTEXT_SCALARS`].
    async fn plain_fields() -> Vec<String> {
        let types = run(r#"{ __type(name: "Torrent") { fields { name args { name }
            type { kind ofType { kind ofType { kind ofType { kind } } } } } } }"#)
        .await;
        let leaf = |kind: &Json| matches!(kind.as_str(), Some("SCALAR" | "ENUM"));
        types["__type"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|field| field["args"].as_array().unwrap().is_empty())
            .filter(|field| {
                // Unwrap NON_NULL and LIST to the named type.
                let mut ty = &field["type"];
                while matches!(ty["kind"].as_str(), Some("NON_NULL" | "LIST")) {
                    ty = &ty["ofType"];
                }
                leaf(&ty["kind"])
            })
            .map(|field| field["name"].as_str().unwrap().to_owned())
            .filter(|name| !CONTEXT_SCALARS.contains(&name.as_str()))
            .collect()
    }

    #[tokio::test]
    async fn the_fast_path_answers_every_plain_field_as_the_resolvers_do() {
        let fields = plain_fields().await;
        assert!(fields.len() > 20, "{fields:?}");
        for field in &fields {
            assert!(plain_field(field).is_some(), "`{field}` has no fast path");
        }
        let selection = format!("__typename alias: name {}", fields.join(" "));
        // A fragment sends the object down async-graphql's own path.
        let fast = run(&format!("{{ torrents {{ {selection} }} }}")).await;
        let generated = run(&format!(
            "{{ torrents {{ ... on Torrent {{ {selection} }} }} }}"
        ))
        .await;
        assert_eq!(fast, generated);
        let twice = format!("{{ torrents {{ {selection} }} again: torrents {{ {selection} }} }}");
        let prerendered = run_prerendered(&twice).await;
        assert_eq!(prerendered["torrents"], generated["torrents"]);
        assert_eq!(prerendered["again"], generated["torrents"]);
        assert_eq!(fast["torrents"][0]["__typename"], "Torrent");
        assert_eq!(fast["torrents"][0]["alias"], "Big Buck Bunny");
        assert_eq!(fast["torrents"][0]["state"], "DOWNLOADING");
        assert_eq!(fast["torrents"][1]["category"], Json::Null);
    }

    #[tokio::test]
    async fn fields_with_arguments_or_directives_leave_the_fast_path() {
        assert!(plain_field("files").is_none());
        assert!(plain_field("library").is_none());
        let answer = run("{ torrents { name hash @skip(if: true) } }").await;
        assert_eq!(answer["torrents"][0], json!({ "name": "Big Buck Bunny" }));
    }
}
