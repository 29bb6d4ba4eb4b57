//! Small files torrentql keeps in its data directory (generated secrets,
//! the managed qBittorrent's password, the Jellyfin device id), readable
//! only by their owner.

use std::io;
use std::path::Path;

use base64::Engine;
use rand::RngCore;

/// The trimmed contents of `path`, or `generate()`'s value, written there
/// first (mode 0600) when the file is missing or empty.
pub fn read_or_create(path: &Path, generate: impl FnOnce() -> String) -> io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let value = generate();
    write_private(path, &value)?;
    Ok(value)
}

/// `bytes` random bytes, URL-safe base64.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, contents: &str) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}
