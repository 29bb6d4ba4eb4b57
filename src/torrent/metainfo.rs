//! `.torrent` files: size and file-count limits, the info dictionary, and
//! the info hashes, computed from the file's own bytes.
//!
//! Files are read as libtorrent reads them (see [`bencode`](super::bencode)):
//! dictionary keys in any order and bytes after the root dictionary are
//! accepted, as qBittorrent accepts them, and each hash is taken of the
//! info dictionary exactly as sent: SHA-1 for a v1 torrent (it has
//! `pieces`), SHA-256 for a v2 one (`meta version` 2 with a `file tree`),
//! both for a hybrid.

use sha1::{Digest, Sha1};
use sha2::Sha256;

use super::bencode::Value;
use super::{Error, InfoHash, InfoHashV2, TorrentHashes};

/// Largest `.torrent` accepted by default. Real ones are kilobytes; even a
/// torrent of a hundred thousand files stays well under this.
pub const MAX_TORRENT_FILE_BYTES: usize = 8 * 1024 * 1024;

/// Most files a `.torrent` may list by default.
pub const MAX_TORRENT_FILES: usize = 100_000;

/// What a `.torrent` file may hold.
#[derive(Debug, Clone, Copy)]
pub struct TorrentLimits {
    /// Largest file, in bytes.
    pub max_bytes: usize,
    /// Most files listed in it.
    pub max_files: usize,
}

impl Default for TorrentLimits {
    fn default() -> Self {
        Self {
            max_bytes: MAX_TORRENT_FILE_BYTES,
            max_files: MAX_TORRENT_FILES,
        }
    }
}

/// A parsed, validated `.torrent` file and its raw bytes (what qBittorrent
/// is sent, unchanged).
#[derive(Clone)]
pub struct TorrentFile {
    bytes: Vec<u8>,
    hashes: TorrentHashes,
    name: String,
    total_size: i64,
    files: usize,
    private: bool,
}

impl TorrentFile {
    /// Checks and hashes `.torrent` bytes.
    pub fn parse(bytes: Vec<u8>, limits: TorrentLimits) -> Result<Self, Error> {
        if bytes.len() > limits.max_bytes {
            return Err(Error::TooLarge {
                size: bytes.len(),
                limit: limits.max_bytes,
            });
        }
        let (root, _after) = Value::read_prefix(&bytes)?;
        let mut infos = root
            .dict()
            .ok_or(Error::NoInfoDictionary)?
            .filter(|(key, _)| *key == b"info")
            .map(|(_, value)| value);
        let info = infos.next().ok_or(Error::NoInfoDictionary)?;
        // Readers disagree on which of two equal keys wins: the hash would
        // depend on who reads the file.
        if infos.next().is_some() {
            return Err(malformed("the .torrent file has two info dictionaries"));
        }
        let metadata = Metadata::read(info, limits.max_files)?;
        let v1 = metadata
            .v1
            .then(|| InfoHash::from_bytes(Sha1::digest(info.raw()).into()));
        let v2 = metadata
            .v2
            .then(|| InfoHashV2::from_bytes(Sha256::digest(info.raw()).into()));
        let hashes = TorrentHashes::new(v1, v2).ok_or_else(|| {
            malformed("the info dictionary has neither v1 pieces nor a v2 file tree")
        })?;
        Ok(Self {
            hashes,
            name: metadata.name,
            total_size: metadata.total_size,
            files: metadata.files,
            private: metadata.private,
            bytes,
        })
    }

    /// The hash qBittorrent lists the torrent under (see
    /// [`TorrentHashes::id`]).
    pub fn info_hash(&self) -> InfoHash {
        self.hashes.id()
    }

    /// The v1 and v2 hashes, as the torrent has them.
    pub fn hashes(&self) -> TorrentHashes {
        self.hashes
    }

    /// The torrent's own name (`info.name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sum of the sizes of all files (padding files not counted), in bytes.
    pub fn total_size(&self) -> i64 {
        self.total_size
    }

    /// How many files it holds (padding files not counted).
    pub fn file_count(&self) -> usize {
        self.files
    }

    /// Whether the torrent is private (peers only from its trackers).
    pub fn is_private(&self) -> bool {
        self.private
    }

    /// The file as received.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A file of a `.torrent`, as qBittorrent lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// Its path within the torrent, `/` between folders (the torrent's
    /// name first, for a torrent of many files).
    pub path: String,
    /// Bytes.
    pub size: i64,
}

impl TorrentFile {
    /// Its files in the order qBittorrent numbers them, padding files left
    /// out: a v1 (or hybrid) torrent's `files` list, a v2 one's file tree
    /// depth first. Read again from the bytes (kept small by `parse`'s
    /// limits), so a list is only built when asked for.
    pub fn files(&self) -> Vec<ListedFile> {
        let Some(info) = Value::read_prefix(&self.bytes)
            .ok()
            .and_then(|(root, _)| root.get("info"))
        else {
            return Vec::new();
        };
        let name = self.name.clone();
        let part = |value: Value<'_>| {
            String::from_utf8_lossy(value.as_bytes().unwrap_or_default()).into_owned()
        };
        if self.hashes.v1().is_some() {
            let Some(files) = info.get("files").and_then(|files| files.list()) else {
                let size = info.get("length").and_then(|length| length.as_int());
                return vec![ListedFile {
                    path: name,
                    size: size.unwrap_or_default(),
                }];
            };
            return files
                .filter(|file| {
                    !file
                        .get("attr")
                        .and_then(|attr| attr.as_bytes())
                        .is_some_and(|attr| attr.contains(&b'p'))
                })
                .map(|file| {
                    let parts = file
                        .get("path.utf-8")
                        .or_else(|| file.get("path"))
                        .and_then(|path| path.list())
                        .into_iter()
                        .flatten()
                        .map(part);
                    ListedFile {
                        path: std::iter::once(name.clone())
                            .chain(parts)
                            .collect::<Vec<_>>()
                            .join("/"),
                        size: file
                            .get("length")
                            .and_then(|length| length.as_int())
                            .unwrap_or_default(),
                    }
                })
                .collect();
        }
        let mut listed = Vec::new();
        let Some(tree) = info.get("file tree") else {
            return listed;
        };
        // Depth first, each folder's entries in key order, as libtorrent
        // lays the files out.
        let mut folders = vec![(Vec::<String>::new(), tree)];
        while let Some((path, folder)) = folders.pop() {
            let Some(entries) = folder.dict() else {
                continue;
            };
            let mut subfolders = Vec::new();
            for (key, entry) in entries {
                if key.is_empty() {
                    let size = entry.get("length").and_then(|length| length.as_int());
                    listed.push(ListedFile {
                        path: path.join("/"),
                        size: size.unwrap_or_default(),
                    });
                } else {
                    let mut inner = path.clone();
                    inner.push(String::from_utf8_lossy(key).into_owned());
                    subfolders.push((inner, entry));
                }
            }
            folders.extend(subfolders.into_iter().rev());
        }
        // A single-file v2 torrent's one file is named by the tree's key,
        // its name; many files sit under the torrent's name.
        if listed.len() > 1 || listed.first().is_some_and(|file| file.path != name) {
            for file in &mut listed {
                file.path = format!("{name}/{}", file.path);
            }
        }
        listed
    }
}

/// What the info dictionary says about the torrent.
struct Metadata {
    name: String,
    total_size: i64,
    files: usize,
    private: bool,
    /// It has v1 `pieces`.
    v1: bool,
    /// It is `meta version` 2 with a `file tree`.
    v2: bool,
}

impl Metadata {
    fn read(info: Value<'_>, max_files: usize) -> Result<Self, Error> {
        if info.dict().is_none() {
            return Err(malformed("the info entry is not a dictionary"));
        }
        let name = info
            .get("name")
            .and_then(|name| name.as_str())
            .filter(|name| !name.is_empty())
            .ok_or_else(|| malformed("the info dictionary has no name"))?
            .to_owned();
        if info
            .get("piece length")
            .and_then(|length| length.as_int())
            .is_none_or(|length| length <= 0)
        {
            return Err(malformed("the info dictionary has no piece length"));
        }
        let pieces = info.get("pieces").and_then(|pieces| pieces.as_bytes());
        if pieces.is_some_and(|pieces| pieces.is_empty() || pieces.len() % 20 != 0) {
            return Err(malformed(
                "the pieces are not a whole number of SHA-1 hashes",
            ));
        }
        let file_tree = info.get("file tree");
        let v2 = info
            .get("meta version")
            .and_then(|version| version.as_int())
            == Some(2)
            && file_tree.is_some();
        let mut sizes = Sizes::new(max_files);
        match (pieces.is_some(), file_tree) {
            (true, tree) => {
                sizes.add_v1(info)?;
                // A hybrid's file tree is read too, and held to the same
                // limit, though its files are the same ones.
                if let Some(tree) = tree.filter(|_| v2) {
                    Sizes::new(max_files).add_v2_tree(tree)?;
                }
            }
            (false, Some(tree)) if v2 => sizes.add_v2_tree(tree)?,
            _ => {}
        }
        Ok(Self {
            name,
            total_size: sizes.total,
            files: sizes.files,
            private: info.get("private").and_then(|private| private.as_int()) == Some(1),
            v1: pieces.is_some(),
            v2,
        })
    }
}

/// Files counted and summed, within the file limit.
struct Sizes {
    files: usize,
    /// Padding files (BEP 47): at most one after each file.
    padding: usize,
    total: i64,
    max_files: usize,
}

impl Sizes {
    fn new(max_files: usize) -> Self {
        Self {
            files: 0,
            padding: 0,
            total: 0,
            max_files,
        }
    }

    fn add_padding(&mut self) -> Result<(), Error> {
        self.padding += 1;
        if self.padding > self.max_files.saturating_add(1) {
            return Err(Error::TooManyFiles {
                limit: self.max_files,
            });
        }
        Ok(())
    }

    fn add(&mut self, length: Option<i64>) -> Result<(), Error> {
        let length = length
            .filter(|length| *length >= 0)
            .ok_or_else(|| malformed("a file has no valid length"))?;
        self.files += 1;
        if self.files > self.max_files {
            return Err(Error::TooManyFiles {
                limit: self.max_files,
            });
        }
        self.total = self
            .total
            .checked_add(length)
            .ok_or_else(|| malformed("the files add up to more bytes than can be counted"))?;
        Ok(())
    }

    /// A v1 `length`, or a `files` list whose padding files (`attr`
    /// holding `p`, BEP 47) count only towards a limit of their own.
    fn add_v1(&mut self, info: Value<'_>) -> Result<(), Error> {
        let Some(files) = info.get("files") else {
            return self.add(info.get("length").and_then(|length| length.as_int()));
        };
        let files = files
            .list()
            .ok_or_else(|| malformed("the files entry is not a list"))?;
        for file in files {
            let is_padding = file
                .get("attr")
                .and_then(|attr| attr.as_bytes())
                .is_some_and(|attr| attr.contains(&b'p'));
            if file.get("path").and_then(|path| path.list()).is_none() {
                return Err(malformed("a file has no path"));
            }
            if is_padding {
                self.add_padding()?;
            } else {
                self.add(file.get("length").and_then(|length| length.as_int()))?;
            }
        }
        if self.files == 0 {
            return Err(malformed("the files list is empty"));
        }
        Ok(())
    }

    /// A v2 `file tree`: folders are dictionaries by name, and a file is
    /// the entry under the empty key, holding its `length`. Walked with an
    /// explicit stack; its depth is bounded by the bencode reader.
    fn add_v2_tree(&mut self, tree: Value<'_>) -> Result<(), Error> {
        let mut folders = vec![tree];
        while let Some(folder) = folders.pop() {
            let entries = folder
                .dict()
                .ok_or_else(|| malformed("the file tree holds something that is not a folder"))?;
            for (name, entry) in entries {
                if name.is_empty() {
                    self.add(entry.get("length").and_then(|length| length.as_int()))?;
                } else {
                    folders.push(entry);
                }
            }
        }
        if self.files == 0 {
            return Err(malformed("the file tree is empty"));
        }
        Ok(())
    }
}

fn malformed(why: &str) -> Error {
    Error::MalformedTorrent(why.to_owned())
}

impl std::fmt::Debug for TorrentFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TorrentFile")
            .field("hashes", &self.hashes)
            .field("name", &self.name)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: Vec<u8>) -> Result<TorrentFile, Error> {
        TorrentFile::parse(bytes, TorrentLimits::default())
    }

    /// A minimal single-file torrent, bencoded by hand so the expected hash
    /// can be checked independently of `lava_torrent`.
    fn sample() -> (Vec<u8>, &'static str) {
        let mut info = b"d6:lengthi5e4:name5:hello12:piece lengthi16384e6:pieces20:".to_vec();
        info.extend_from_slice(&[0xff; 20]);
        info.push(b'e');
        let mut bytes = b"d8:announce21:http://t.example/anno4:info".to_vec();
        bytes.extend_from_slice(&info);
        bytes.push(b'e');
        // SHA-1 of `info`, computed with Python's hashlib.
        (bytes, "c34b1aef6eac5ecb5e89635abbb96f2e7505c1b0")
    }

    #[test]
    fn parses_name_size_and_hash() {
        let (bytes, expected_hash) = sample();
        let torrent = parse(bytes).unwrap();
        assert_eq!(torrent.info_hash().to_string(), expected_hash);
        assert_eq!(torrent.name(), "hello");
        assert_eq!(torrent.total_size(), 5);
        assert!(!torrent.is_private());
    }

    #[test]
    fn rejects_bytes_that_are_not_bencode() {
        assert_eq!(
            parse(b"<html>not a torrent</html>".to_vec()).unwrap_err(),
            Error::NotBencode
        );
        assert_eq!(parse(Vec::new()).unwrap_err(), Error::NotBencode);
    }

    #[test]
    fn rejects_bencode_without_an_info_dictionary() {
        assert_eq!(
            parse(b"d8:announce3:abce".to_vec()).unwrap_err(),
            Error::NoInfoDictionary
        );
        assert_eq!(
            parse(b"li1ei2ee".to_vec()).unwrap_err(),
            Error::NoInfoDictionary
        );
    }

    #[test]
    fn rejects_an_info_dictionary_missing_required_keys() {
        assert!(matches!(
            parse(b"d4:infod4:name1:xee".to_vec()).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let bomb = vec![b'l'; MAX_TORRENT_FILE_BYTES];
        assert!(matches!(
            parse(bomb).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
        let mut nested = b"d4:info".to_vec();
        nested.extend(std::iter::repeat_n(b'l', 100));
        nested.extend(std::iter::repeat_n(b'e', 101));
        assert!(matches!(
            parse(nested).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
    }

    #[test]
    fn bytes_after_the_root_value_are_never_parsed() {
        let mut bomb = b"0:".to_vec();
        bomb.resize(MAX_TORRENT_FILE_BYTES, b'l');
        assert_eq!(parse(bomb).unwrap_err(), Error::NoInfoDictionary);
    }

    /// A torrent whose info dictionary holds `keys` (sorted, before
    /// `piece length`) plus a piece length and one piece.
    fn with_info(keys: &[u8]) -> Vec<u8> {
        let mut bytes = b"d4:infod".to_vec();
        bytes.extend_from_slice(keys);
        bytes.extend_from_slice(b"12:piece lengthi16384e6:pieces20:");
        bytes.extend_from_slice(&[0xff; 20]);
        bytes.extend_from_slice(b"ee");
        bytes
    }

    #[test]
    fn a_path_component_holding_a_slash_gets_the_hash_of_its_bytes() {
        // libtorrent sanitises such a path; the hash is of the bytes as sent.
        let bytes = with_info(b"5:filesld6:lengthi5e4:pathl3:a/beee4:name1:x");
        let info = &bytes[b"d4:info".len()..bytes.len() - 1];
        let torrent = parse(bytes.clone()).unwrap();
        assert_eq!(
            torrent.info_hash(),
            InfoHash::from_bytes(Sha1::digest(info).into())
        );
    }

    #[test]
    fn unsorted_keys_and_trailing_bytes_are_read_as_qbittorrent_reads_them() {
        let (sorted, hash) = sample();
        let mut unsorted = b"d4:infod4:name5:hello6:lengthi5e6:pieces20:".to_vec();
        unsorted.extend_from_slice(&[0xff; 20]);
        unsorted.extend_from_slice(b"12:piece lengthi16384ee8:announce21:http://t.example/annoe");
        let info = &unsorted
            [b"d4:info".len()..unsorted.len() - b"8:announce21:http://t.example/annoe".len()];
        let torrent = parse(unsorted.clone()).unwrap();
        assert_eq!(torrent.name(), "hello");
        assert_eq!(torrent.total_size(), 5);
        assert_eq!(
            torrent.info_hash(),
            InfoHash::from_bytes(Sha1::digest(info).into())
        );
        let mut trailing = sorted;
        trailing.extend_from_slice(b"\r\n\0 garbage after the root dictionary");
        let torrent = parse(trailing.clone()).unwrap();
        assert_eq!(torrent.info_hash().to_string(), hash);
        assert_eq!(torrent.bytes(), trailing, "sent to qBittorrent unchanged");
    }

    #[test]
    fn a_hybrid_torrent_has_both_hashes_and_is_listed_under_the_v2_one() {
        let bytes = include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/upstream/torrents/hybrid-v1v2.torrent"
        ));
        let torrent = parse(bytes.to_vec()).unwrap();
        let hashes = torrent.hashes();
        assert_eq!(
            hashes.v1().unwrap().to_string(),
            "c1157a50200a9c72d8c345cefcce654579c03fb4"
        );
        assert_eq!(
            hashes.v2().unwrap().to_string(),
            "e8cd98adb6a227ce3ad72a057b62f9ac305e55c84df33fbc871edd483c01b942"
        );
        assert_eq!(
            torrent.info_hash().to_string(),
            "e8cd98adb6a227ce3ad72a057b62f9ac305e55c8"
        );
        assert_eq!(torrent.total_size(), 100_000);
        assert_eq!(torrent.file_count(), 1);
    }

    /// A v2-only info dictionary with `files` (name, length) in a file tree.
    fn v2_only(files: &[(&str, i64)]) -> Vec<u8> {
        let mut tree = b"d".to_vec();
        for (name, length) in files {
            tree.extend_from_slice(
                format!("{}:{name}d0:d6:lengthi{length}eee", name.len()).as_bytes(),
            );
        }
        tree.push(b'e');
        let mut info = b"d9:file tree".to_vec();
        info.extend_from_slice(&tree);
        info.extend_from_slice(b"12:meta versioni2e4:name2:v212:piece lengthi16384ee");
        let mut bytes = b"d4:info".to_vec();
        bytes.extend_from_slice(&info);
        bytes.push(b'e');
        bytes
    }

    #[test]
    fn a_v2_only_torrent_is_identified_by_its_truncated_sha256() {
        let bytes = v2_only(&[("a", 3), ("b", 4)]);
        let info = &bytes[b"d4:info".len()..bytes.len() - 1];
        let torrent = parse(bytes.clone()).unwrap();
        let v2 = InfoHashV2::from_bytes(Sha256::digest(info).into());
        assert_eq!(torrent.hashes().v2(), Some(v2));
        assert_eq!(torrent.hashes().v1(), None);
        assert_eq!(torrent.info_hash(), v2.truncated());
        assert_eq!((torrent.total_size(), torrent.file_count()), (7, 2));
    }

    #[test]
    fn files_are_listed_as_qbittorrent_numbers_them() {
        let mut info = b"d5:filesl".to_vec();
        info.extend_from_slice(b"d6:lengthi3e4:pathl1:b5:c.mkvee");
        info.extend_from_slice(b"d4:attr1:p6:lengthi1e4:pathl4:.pad1:0ee");
        info.extend_from_slice(b"d6:lengthi2e4:pathl5:a.nfoee");
        info.extend_from_slice(b"e4:name4:show12:piece lengthi16384e6:pieces20:");
        info.extend_from_slice(&[0xff; 20]);
        info.push(b'e');
        let mut bytes = b"d4:info".to_vec();
        bytes.extend_from_slice(&info);
        bytes.push(b'e');
        let listed = |path: &str, size| ListedFile {
            path: path.to_owned(),
            size,
        };
        assert_eq!(
            parse(bytes).unwrap().files(),
            [listed("show/b/c.mkv", 3), listed("show/a.nfo", 2)],
            "in the list's order, the padding file left out"
        );
        assert_eq!(parse(sample().0).unwrap().files(), [listed("hello", 5)]);
        assert_eq!(
            parse(v2_only(&[("a", 3), ("b", 4)])).unwrap().files(),
            [listed("v2/a", 3), listed("v2/b", 4)]
        );
    }

    #[test]
    fn padding_files_do_not_get_past_the_file_limit() {
        let mut files = b"5:filesl".to_vec();
        files.extend_from_slice(b"d6:lengthi1e4:pathl1:aee");
        for _ in 0..20 {
            files.extend_from_slice(b"d4:attr1:p6:lengthi1e4:pathl4:.padee");
        }
        files.extend_from_slice(b"e4:name1:x");
        let limits = TorrentLimits {
            max_files: 10,
            ..TorrentLimits::default()
        };
        assert_eq!(
            TorrentFile::parse(with_info(&files), limits).unwrap_err(),
            Error::TooManyFiles { limit: 10 }
        );
    }

    #[test]
    fn more_files_than_the_limit_are_refused() {
        let names: Vec<String> = (0..11).map(|index| format!("f{index:02}")).collect();
        let files: Vec<(&str, i64)> = names.iter().map(|name| (name.as_str(), 1)).collect();
        let limits = TorrentLimits {
            max_files: 10,
            ..TorrentLimits::default()
        };
        assert_eq!(
            TorrentFile::parse(v2_only(&files), limits).unwrap_err(),
            Error::TooManyFiles { limit: 10 }
        );
        assert!(TorrentFile::parse(v2_only(&files[..10]), limits).is_ok());
    }

    #[test]
    fn a_non_canonical_integer_in_the_info_dictionary_is_refused() {
        assert!(parse(with_info(b"6:lengthi5e4:name1:x")).is_ok());
        let bytes = with_info(b"6:lengthi+5e4:name1:x");
        assert!(matches!(
            parse(bytes).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
    }

    #[test]
    fn two_info_dictionaries_are_refused() {
        let (bytes, _) = sample();
        let info = &bytes[b"d8:announce21:http://t.example/anno4:info".len()..bytes.len() - 1];
        let mut twice = b"d4:info".to_vec();
        twice.extend_from_slice(info);
        twice.extend_from_slice(b"4:info");
        twice.extend_from_slice(info);
        twice.push(b'e');
        assert!(matches!(
            parse(twice).unwrap_err(),
            Error::MalformedTorrent(_)
        ));
    }

    #[test]
    fn rejects_oversized_input_before_parsing() {
        let error = parse(vec![b'd'; MAX_TORRENT_FILE_BYTES + 1]).unwrap_err();
        assert!(matches!(error, Error::TooLarge { .. }));
    }
}
