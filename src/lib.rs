//! torrentql: a typed, authenticated API for a qBittorrent + Jellyfin
//! media stack.
//!
//! # Layout
//!
//! - [`config`]: the one typed configuration, loaded and validated at start-up;
//!   one file per section, each with its defaults and checks.
//! - [`app`]: the composition root: starts (or connects to) qBittorrent and
//!   wires every client and service into the state `http` serves.
//! - [`error`]: `AppError`, the one error users see, with `extensions.code`.
//! - [`auth`]: JWT claims, verification and issuing.
//! - [`http`]: the router, its state and running the server: `/graphql`
//!   (API, playground, websockets), health checks, and the accept loop that
//!   bounds connections and their idle time.
//! - [`graphql`]: the schema: roots, guards, the query shape check, one
//!   module per domain (`graphql::torrents` holds the `Torrent` field
//!   table), and the one function from a response to HTTP bytes, which
//!   logs the answer's errors once; answers are put in request order.
//! - [`services`]: the use-cases every endpoint calls: torrents, the mirror
//!   (`services::mirror`: state, poller, live streams), search, libraries,
//!   login.
//! - [`clients`]: one typed client per upstream: qBittorrent, the apibay and
//!   Torznab indexers, Jellyfin, `.torrent` URLs.
//! - [`torrent`]: info hashes, magnet links and `.torrent` files; pure code.
//! - [`release`]: release names read as facts (title, episode, resolution,
//!   source, codecs...); pure code.
//! - [`managed`]: a qbittorrent-nox of our own when none is configured.
//! - [`data_dir`]: the small private files kept in the data directory.
//! - [`memory`]: hands memory freed after large answers back to the kernel.
//! - [`save_path`]: where a download may be saved: path normalisation and
//!   the allowed roots, shared by the configuration and the services.
//! - [`text`]: quoting user input inside messages, cut short.
//!
//! Dependencies point one way: `app` -> `http` -> `graphql` -> `services`
//! -> `clients` / `torrent` / `release`, with `config`, `auth`, `save_path` and `text`
//! below them all.

pub mod app;
pub mod auth;
pub mod clients;
pub mod config;
pub mod data_dir;
pub mod error;
pub mod graphql;
pub mod http;
pub mod managed;
pub mod memory;
pub mod release;
pub mod save_path;
pub mod services;
pub mod text;
pub mod torrent;
