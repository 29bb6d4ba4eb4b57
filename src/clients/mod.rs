//! One typed client per upstream. Nothing here knows about GraphQL or axum.

pub mod indexers;
pub mod jellyfin;
pub mod qbittorrent;
pub mod torrent_url;
