//! The GraphQL schema: roots merged from one module per domain, guards,
//! scalars and `DataLoader`s. Nothing here imports axum; the HTTP layer puts
//! the caller's [`Authentication`] into each request's data.

mod cost;
mod documents;
mod error_log;
mod guards;
mod introspection;
mod libraries;
mod loaders;
mod login;
mod node;
mod persisted;
mod prerendered;
mod progress;
pub(crate) mod release;
mod response_order;
mod scalars;
mod search;
mod shape;
mod torrents;
mod transfer;
mod viewer;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::config::LimitsConfig;
use crate::services::TorrentService;
use crate::services::libraries::LibraryService;
use crate::services::login::LoginService;
use crate::services::search::SearchService;

pub use crate::auth::Authentication;
pub use documents::{ParsedQueries, Prepared};
pub use introspection::refusal as introspection_refusal;
pub use login::ClientAddress;
pub use persisted::PersistedQueries;
pub use prerendered::{HttpAnswers, is_request_error};
pub use response_order::restore as restore_request_order;

/// The schema type served by torrentql.
pub type TorrentqlSchema = Schema<Query, Mutation, Subscription>;

/// Every query root field.
#[derive(MergedObject, Default)]
pub struct Query(
    viewer::ViewerQuery,
    node::NodeQuery,
    torrents::TorrentQuery,
    torrents::LabelQuery,
    search::SearchQuery,
    libraries::LibraryQuery,
    transfer::TransferQuery,
);

/// Every mutation root field.
#[derive(MergedObject, Default)]
pub struct Mutation(
    torrents::TorrentMutation,
    torrents::TorrentActionMutation,
    torrents::TorrentContentMutation,
    torrents::LabelMutation,
    transfer::TransferMutation,
    login::LoginMutation,
);

/// Every subscription root field.
#[derive(MergedSubscription, Default)]
pub struct Subscription(progress::ProgressSubscription);

/// The services resolvers call.
pub struct Services {
    /// Torrents, categories and the mirror.
    pub torrents: Arc<TorrentService>,
    /// Indexer searches.
    pub search: Arc<SearchService>,
    /// Libraries and path mappings.
    pub libraries: Arc<LibraryService>,
    /// Jellyfin log-ins.
    pub login: Arc<LoginService>,
}

/// The schema with its services and limits. The HTTP layer checks
/// introspection with [`introspection_refusal`].
pub fn build(services: Services, limits: &LimitsConfig) -> TorrentqlSchema {
    let files = DataLoader::new(
        loaders::FilesLoader {
            torrents: Arc::clone(&services.torrents),
        },
        tokio::spawn,
    );
    builder()
        .data(Arc::clone(services.torrents.mirror()))
        .data(services.torrents)
        .data(services.search)
        .data(services.libraries)
        .data(services.login)
        .data(files)
        .data(limits.clone())
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
}
