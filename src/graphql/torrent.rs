//! The `Torrent` object, with a fast path for large lists.
//!
//! A list of 10,000 torrents is 100,000 fields or more. async-graphql
//! resolves every object of a list as a future of its own, and every field
//! of an object as another, which made such a list take 65 ms. Almost every
//! selection of a torrent asks only plain fields (no arguments, directives
//! or fragments), so for those [`Torrent`] and [`Torrents`] read the
//! selection once and build the answer directly, from the same resolver
//! methods, and leave anything else (`files`, `library`, fragments,
//! directives) to async-graphql. Over HTTP, [`Torrents`] goes one step
//! further and writes such a list as JSON itself (see
//! [`super::prerendered`]). A test checks that every path answers alike
//! for every field.

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{
    Context, ContextSelectionSet, Enum, InputType, Name, Object, OutputType, Positioned, Result,
    ServerResult, SimpleObject, Value,
};
use chrono::{DateTime, Utc};
use serde::Serializer as _;
use serde::ser::SerializeMap as _;

use super::cost;
use super::loaders::FilesLoader;
use super::prerendered::Prerendered;
use super::scalars::Bytes;
use crate::clients::qbittorrent;
use crate::error::AppError;
use crate::services::libraries::LibraryService;

/// A torrent in qBittorrent, answered as the schema's `Torrent` (see the
/// module documentation).
pub struct Torrent(TorrentFields);

impl Torrent {
    pub fn new(torrent: Arc<qbittorrent::Torrent>) -> Self {
        Self(TorrentFields(torrent))
    }
}

/// The `Torrent` object's resolvers, as async-graphql runs them.
struct TorrentFields(Arc<qbittorrent::Torrent>);

/// A torrent in qBittorrent.
#[Object(name = "Torrent")]
impl TorrentFields {
    /// The hash qBittorrent lists the torrent under: 40 lowercase
    /// hexadecimal characters. For a v1 torrent its v1 hash; for a v2 or
    /// hybrid torrent its v2 hash cut to 40 characters. Every argument
    /// named `hash` also takes a hybrid's v1 hash.
    async fn hash(&self) -> String {
        self.0.hash.to_string()
    }

    /// The v1 (SHA-1) info hash, for v1 and hybrid torrents; null for a
    /// v2-only torrent (and on qBittorrent before 4.4).
    async fn info_hash_v1(&self) -> Option<String> {
        self.0.infohash_v1.map(|hash| hash.to_string())
    }

    /// The v2 (SHA-256) info hash, 64 hexadecimal characters, for v2 and
    /// hybrid torrents; null for a v1 torrent.
    async fn info_hash_v2(&self) -> Option<String> {
        self.0.infohash_v2.map(|hash| hash.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Bytes selected for download.
    async fn size(&self) -> Bytes {
        Bytes(self.0.size)
    }

    /// Bytes of all files, selected or not.
    async fn total_size(&self) -> Bytes {
        Bytes(self.0.total_size)
    }

    /// 0 to 1.
    async fn progress(&self) -> f64 {
        self.0.progress
    }

    /// Bytes per second.
    async fn download_speed(&self) -> Bytes {
        Bytes(self.0.dlspeed)
    }

    /// Bytes per second.
    async fn upload_speed(&self) -> Bytes {
        Bytes(self.0.upspeed)
    }

    async fn downloaded(&self) -> Bytes {
        Bytes(self.0.downloaded)
    }

    async fn uploaded(&self) -> Bytes {
        Bytes(self.0.uploaded)
    }

    /// Bytes still to download.
    async fn remaining(&self) -> Bytes {
        Bytes(self.0.amount_left)
    }

    /// Seconds until complete; null when qBittorrent does not know.
    async fn eta(&self) -> Option<i64> {
        self.0.eta()
    }

    async fn state(&self) -> TorrentState {
        self.0.state().into()
    }

    /// qBittorrent's own state name (e.g. `stalledDL`, `stoppedUP`).
    async fn raw_state(&self) -> &str {
        &self.0.state
    }

    /// Null when the torrent has no category.
    async fn category(&self) -> Option<&str> {
        category(&self.0)
    }

    async fn tags(&self) -> Vec<String> {
        self.0.tags()
    }

    /// Where qBittorrent saves the torrent, as qBittorrent sees it.
    async fn save_path(&self) -> &str {
        &self.0.save_path
    }

    /// The file, or the top folder, of the torrent's content.
    async fn content_path(&self) -> &str {
        &self.0.content_path
    }

    async fn added_at(&self) -> Option<DateTime<Utc>> {
        self.0.added_at()
    }

    /// Null until the download completes.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at()
    }

    /// Uploaded divided by downloaded.
    async fn ratio(&self) -> f64 {
        self.0.ratio
    }

    /// Seeds connected to.
    async fn seeds(&self) -> i64 {
        self.0.num_seeds
    }

    /// Leechers connected to.
    async fn peers(&self) -> i64 {
        self.0.num_leechs
    }

    async fn magnet_uri(&self) -> &str {
        &self.0.magnet_uri
    }

    /// The library the torrent's save path lies in, if any.
    async fn library(&self, ctx: &Context<'_>) -> Result<Option<super::libraries::Library>> {
        let service = ctx.data::<Arc<LibraryService>>()?;
        let found = service.libraries().await.map_err(AppError::from)?;
        Ok(service
            .library_of(&found.libraries, &self.0.save_path)
            .map(|library| super::libraries::Library::new(library, found.stale.as_ref())))
    }

    /// The torrent's files; empty until a magnet's metadata arrives.
    #[graphql(complexity = "cost::FILES + child_complexity")]
    async fn files(&self, ctx: &Context<'_>) -> Result<Vec<TorrentFile>> {
        let loader = ctx.data::<DataLoader<FilesLoader>>()?;
        let files = loader.load_one(self.0.hash).await?.unwrap_or_default();
        Ok(files.into_iter().map(TorrentFile::from).collect())
    }
}

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
                tracing::error!(%error, "cannot write torrents as JSON");
                async_graphql::Error::from(AppError::Internal).into_server_error(field.pos)
            })
    }
}

/// A field that needs neither arguments nor the context.
type PlainField = fn(&qbittorrent::Torrent) -> Value;

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

/// A plain field by its schema name: what its resolver above answers (a
/// test holds them equal).
fn plain_field(name: &str) -> Option<PlainField> {
    fn text(text: &str) -> Value {
        Value::String(text.to_owned())
    }
    Some(match name {
        "__typename" => |_| Value::String(TorrentFields::type_name().into_owned()),
        "hash" => |torrent| Value::String(torrent.hash.to_string()),
        "infoHashV1" => |torrent| torrent.infohash_v1.map(|hash| hash.to_string()).to_value(),
        "infoHashV2" => |torrent| torrent.infohash_v2.map(|hash| hash.to_string()).to_value(),
        "name" => |torrent| text(&torrent.name),
        "size" => |torrent| Bytes(torrent.size).to_value(),
        "totalSize" => |torrent| Bytes(torrent.total_size).to_value(),
        "progress" => |torrent| torrent.progress.to_value(),
        "downloadSpeed" => |torrent| Bytes(torrent.dlspeed).to_value(),
        "uploadSpeed" => |torrent| Bytes(torrent.upspeed).to_value(),
        "downloaded" => |torrent| Bytes(torrent.downloaded).to_value(),
        "uploaded" => |torrent| Bytes(torrent.uploaded).to_value(),
        "remaining" => |torrent| Bytes(torrent.amount_left).to_value(),
        "eta" => |torrent| torrent.eta().to_value(),
        "state" => |torrent| TorrentState::from(torrent.state()).to_value(),
        "rawState" => |torrent| text(&torrent.state),
        "category" => |torrent| category(torrent).map_or(Value::Null, text),
        "tags" => |torrent| torrent.tags().to_value(),
        "savePath" => |torrent| text(&torrent.save_path),
        "contentPath" => |torrent| text(&torrent.content_path),
        "addedAt" => |torrent| torrent.added_at().to_value(),
        "completedAt" => |torrent| torrent.completed_at().to_value(),
        "ratio" => |torrent| torrent.ratio.to_value(),
        "seeds" => |torrent| torrent.num_seeds.to_value(),
        "peers" => |torrent| torrent.num_leechs.to_value(),
        "magnetUri" => |torrent| text(&torrent.magnet_uri),
        _ => return None,
    })
}

/// One file of a torrent.
#[derive(SimpleObject)]
pub struct TorrentFile {
    /// Path relative to the torrent's save path.
    name: String,
    size: Bytes,
    /// 0 to 1.
    progress: f64,
    /// 0 = skipped, 1 = normal, 6 = high, 7 = maximal.
    priority: i64,
}

impl From<qbittorrent::TorrentContent> for TorrentFile {
    fn from(file: qbittorrent::TorrentContent) -> Self {
        Self {
            name: file.name,
            size: Bytes(file.size),
            progress: file.progress,
            priority: file.priority,
        }
    }
}

/// What a torrent is doing. qBittorrent 4.x "paused" and 5.x "stopped"
/// states map to the same values; `rawState` keeps qBittorrent's name.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "qbittorrent::TorrentState")]
pub enum TorrentState {
    Downloading,
    /// Downloading, ignoring queue limits.
    ForcedDownloading,
    /// A magnet link waiting for its metadata.
    FetchingMetadata,
    ForcedFetchingMetadata,
    /// Downloading, but no peer is sending.
    StalledDownloading,
    QueuedDownloading,
    CheckingDownloading,
    /// Incomplete and paused (stopped).
    PausedDownloading,
    Seeding,
    ForcedSeeding,
    /// Complete; no peer is downloading.
    StalledSeeding,
    QueuedSeeding,
    CheckingSeeding,
    /// Complete and paused (stopped).
    PausedSeeding,
    /// qBittorrent is starting up.
    CheckingResumeData,
    Allocating,
    Moving,
    MissingFiles,
    Error,
    /// A state this version of torrentql does not know; see `rawState`.
    Unknown,
}

fn category(torrent: &qbittorrent::Torrent) -> Option<&str> {
    Some(torrent.category.as_str()).filter(|category| !category.is_empty())
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Schema};
    use serde_json::{Value as Json, json};

    use super::*;

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
        let prerendered = Arc::new(Prerendered::default());
        let request = async_graphql::Request::new(query).data(Arc::clone(&prerendered));
        let response = schema().execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let serialized = serde_json::to_vec(&response.data).unwrap();
        assert!(
            String::from_utf8_lossy(&serialized).contains("\"torrentql-prerendered-"),
            "the lists were not prerendered"
        );
        serde_json::from_slice(&prerendered.splice(serialized)).unwrap()
    }

    /// Every field of `Torrent` that is a scalar or an enum and takes no
    /// arguments, from the schema itself.
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
