//! torrentql: a typed, authenticated API for a qBittorrent + Jellyfin
//! media stack.
//!
//! # Layout
//!
//! - [`config`]: the one typed configuration, loaded and validated at start-up.
//! - [`app`]: shared state, the router, and running the server.
//! - [`http`]: axum handlers (health checks).
//! - [`services`]: the use-cases every endpoint calls (torrents, save paths).
//! - [`clients`]: one typed client per upstream (qBittorrent, `.torrent` URLs).
//! - [`torrent`]: info hashes, magnet links and `.torrent` files; pure code.
//! - [`managed`]: a qbittorrent-nox of our own when none is configured.
//!
//! Dependencies point one way: `http` -> `services` -> `clients` / `torrent`.

pub mod app;
pub mod clients;
pub mod config;
pub mod http;
pub mod managed;
pub mod services;
pub mod torrent;
