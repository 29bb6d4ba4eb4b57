//! Shared test set-up: a real qbittorrent-nox, `.torrent` files made on
//! the spot, and small helpers. Each test binary uses what it needs.
#![allow(dead_code)]

pub mod app;
pub mod fault_proxy;
pub mod jellyfin;
pub mod node;
pub mod proxy;
pub mod qbittorrent;
pub mod subscriber;
pub mod swarm;
pub mod torrents;
pub mod websocket;

use std::future::Future;
use std::time::Duration;

/// A real upstream payload from `tests/fixtures/upstream`, byte for byte.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/upstream")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after
/// `timeout` with `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
