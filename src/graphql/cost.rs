//! What a field counts toward `limits.max_complexity` (default 1,000), where
//! one field is not like another. Unlisted fields count 1 plus their
//! selection. The weights stop amplification through aliases (hundreds of
//! `torrents` lists or `addTorrent` mutations in one request) before
//! anything runs, while the queries clients really send stay far below the
//! limit: the full 22-field list counts 441.

/// An unfiltered `torrents` list counts its selection this many times;
/// with `hashes`, once per hash.
const LIST: usize = 20;

/// `files` asks qBittorrent once per torrent: a list of torrents with their
/// files needs `hashes` (up to about 19).
pub const FILES: usize = 50;

/// `addTorrent` (qBittorrent adds, perhaps fetching a URL first) and
/// `login` (a Jellyfin log-in): at most 9 in one request.
pub const HEAVY_MUTATION: usize = 100;

/// Pausing, resuming, deleting, categorising one torrent: at most about
/// 45 at once.
pub const MUTATION: usize = 20;

/// The cost of a list of torrents selecting `child_complexity`.
pub fn torrent_list(hashes: Option<&Vec<String>>, child_complexity: usize) -> usize {
    let items = hashes.map_or(LIST, Vec::len);
    items.saturating_mul(child_complexity).saturating_add(1)
}

/// The cost of a change to the torrents `hashes`, answering each with
/// `child_complexity`: one qBittorrent call, and at most a list's worth
/// of answers counted, so that a batch costs what a list does.
pub fn torrent_batch(hashes: &[String], child_complexity: usize) -> usize {
    hashes
        .len()
        .min(LIST)
        .saturating_mul(child_complexity)
        .saturating_add(MUTATION)
}
