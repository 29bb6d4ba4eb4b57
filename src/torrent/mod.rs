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
pub use metainfo::{
    ListedFile, MAX_TORRENT_FILE_BYTES, MAX_TORRENT_FILES, TorrentFile, TorrentLimits,
};

/// Why a magnet link, info hash or `.torrent` file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not `magnet:?...`.
    #[error("not a magnet link: it must start with `magnet:?`")]
    NotAMagnet,
    /// A magnet without a BitTorrent info hash.
    #[error("the magnet link has no `xt=urn:btih:` or `xt=urn:btmh:` info hash")]
    NoInfoHash,
    /// A v1 hash of the wrong length, in characters.
    #[error("an info hash is 40 hexadecimal or 32 base32 characters; this one has {0} characters")]
    WrongLength(usize),
    /// A v2 hash of the wrong length, in characters.
    #[error("a v2 info hash is 64 hexadecimal characters; this one has {0} characters")]
    WrongV2Length(usize),
    /// A hex hash with a non-hex character.
    #[error("the info hash is not valid hexadecimal")]
    BadHex,
    /// A base32 hash with a non-base32 character.
    #[error("the info hash is not valid base32")]
    BadBase32,
    /// A `urn:btmh:` that is not a SHA-256 multihash.
    #[error("the v2 info hash (`urn:btmh:`) must be `1220` followed by 64 hexadecimal characters")]
    BadMultihash,
    /// A `dn` longer than the limit, in characters.
    #[error(
        "the magnet link's display name (`dn`) has {0} characters; the limit is {limit}",
        limit = magnet::MAX_DISPLAY_NAME_CHARS
    )]
    DisplayNameTooLong(usize),
    /// A `.torrent` that is not bencode.
    #[error("not a .torrent file: the data is not bencoded")]
    NotBencode,
    /// A `.torrent` without `info`.
    #[error("the .torrent file has no info dictionary")]
    NoInfoDictionary,
    /// A `.torrent` that `lava_torrent` cannot read, or not canonical.
    #[error("the .torrent file is malformed: {0}")]
    MalformedTorrent(String),
    /// A `.torrent` listing more files than allowed.
    #[error("the .torrent file lists more than {limit} files")]
    TooManyFiles {
        /// The most files allowed.
        limit: usize,
    },
    /// A `.torrent` larger than allowed.
    #[error("the .torrent file is too large ({size} bytes; the limit is {limit})")]
    TooLarge {
        /// The file's size, in bytes.
        size: usize,
        /// The largest size allowed, in bytes.
        limit: usize,
    },
}
