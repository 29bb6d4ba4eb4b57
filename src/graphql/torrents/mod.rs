//! The torrent domain of the schema: the `Torrent` object ([`object`]),
//! its fields, each written once ([`fields`]), the queries, the add
//! ([`mutations`]), changes to many torrents ([`actions`]), files and
//! trackers ([`contents`]), and categories and tags ([`labels`]).

mod actions;
mod connection;
mod contents;
mod fields;
mod labels;
mod mutations;
mod object;
mod queries;
mod share_limits;

use std::sync::Arc;

use async_graphql::{Context, Result};

use crate::error::AppError;
use crate::services::TorrentService;
use crate::torrent::InfoHash;

pub use actions::TorrentActionMutation;
pub(super) use connection::{OrderDirection, TorrentWhereInput};
pub use contents::TorrentContentMutation;
pub use labels::{LabelMutation, LabelQuery};
pub use mutations::TorrentMutation;
pub use object::{Torrent, Torrents};
pub(super) use object::{TorrentFields, TorrentFile};
pub use queries::TorrentQuery;
pub(super) use queries::{Category, QbittorrentInfo};

/// The torrent service every torrent and qBittorrent resolver sits on.
pub(super) fn service<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<TorrentService>> {
    ctx.data::<Arc<TorrentService>>()
}

pub(super) fn parse_hash(hash: &str) -> Result<InfoHash, AppError> {
    hash.parse().map_err(|error| {
        AppError::BadUserInput(format!(
            "invalid hash {}: {error}",
            crate::text::quote(hash)
        ))
    })
}
