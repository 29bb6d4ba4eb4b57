//! Torrent identity: info hashes, magnet links and `.torrent` files.
//!
//! Pure code with no I/O, so every input a user can send is checked here
//! before anything reaches qBittorrent. Each kind of bad input has its own
//! [`Error`] variant so callers can explain exactly what was wrong.

mod bencode;
mod info_hash;
mod magnet;
mod metainfo;

pub use info_hash::{InfoHash, InfoHashV2, TorrentHashes};
pub use magnet::{MAX_DISPLAY_NAME_CHARS, Magnet};
pub use metainfo::{MAX_TORRENT_FILE_BYTES, MAX_TORRENT_FILES, TorrentFile, TorrentLimits};

/// Why a magnet link, info hash or `.torrent` file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("not a magnet link: it must start with `magnet:?`")]
    NotAMagnet,
    #[error("the magnet link has no `xt=urn:btih:` or `xt=urn:btmh:` info hash")]
    NoInfoHash,
    #[error("an info hash is 40 hexadecimal or 32 base32 characters; this one has {0} characters")]
    WrongLength(usize),
    #[error("a v2 info hash is 64 hexadecimal characters; this one has {0} characters")]
    WrongV2Length(usize),
    #[error("the info hash is not valid hexadecimal")]
    BadHex,
    #[error("the info hash is not valid base32")]
    BadBase32,
    #[error("the v2 info hash (`urn:btmh:`) must be `1220` followed by 64 hexadecimal characters")]
    BadMultihash,
    #[error(
        "the magnet link's display name (`dn`) has {0} characters; the limit is {limit}",
        limit = magnet::MAX_DISPLAY_NAME_CHARS
    )]
    DisplayNameTooLong(usize),
    #[error("not a .torrent file: the data is not bencoded")]
    NotBencode,
    #[error("the .torrent file has no info dictionary")]
    NoInfoDictionary,
    #[error("the .torrent file is malformed: {0}")]
    MalformedTorrent(String),
    #[error("the .torrent file lists more than {limit} files")]
    TooManyFiles { limit: usize },
    #[error("the .torrent file is too large ({size} bytes; the limit is {limit})")]
    TooLarge { size: usize, limit: usize },
}
