//! qbittorrent-nox profiles that start with no questions asked.
//!
//! qbittorrent-nox reads `<profile>/qBittorrent/config/qBittorrent.conf`
//! (Qt's INI format). Writing the WebUI address, port and password, and
//! accepting the legal notice, before it starts lets it run unattended; 5.x
//! would otherwise print a random temporary password. Keys are upserted so
//! whatever else qBittorrent saved in the file survives a restart.

use std::fs;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha512;

/// qBittorrent's PBKDF2 parameters for the WebUI password.
const PBKDF2_ROUNDS: u32 = 100_000;
const SALT_BYTES: usize = 16;
const KEY_BYTES: usize = 64;

/// What a profile is set up with.
pub struct ProfileSettings<'a> {
    /// The WebUI port on 127.0.0.1.
    pub webui_port: u16,
    /// The WebUI user.
    pub username: &'a str,
    /// The WebUI password, stored as qBittorrent's PBKDF2 hash.
    pub password: &'a SecretString,
    /// qBittorrent's default save path; its own default when `None`.
    pub save_path: Option<&'a Path>,
    /// BitTorrent on 127.0.0.1 only, at this port, with DHT, PeX, LSD,
    /// UPnP/NAT-PMP and GeoIP look-ups off, and no login ban. For tests.
    pub isolated_bittorrent_port: Option<u16>,
    /// Global download limit in KiB/s (tests use it to slow a download).
    pub download_limit_kib: Option<u32>,
}

/// The path of the config file inside a profile directory.
pub fn config_file(profile_dir: &Path) -> PathBuf {
    profile_dir.join("qBittorrent/config/qBittorrent.conf")
}

/// Writes (or updates) the profile's config file.
pub fn write(profile_dir: &Path, settings: &ProfileSettings<'_>) -> io::Result<()> {
    let mut entries: Vec<(&str, &str, String)> = vec![
        ("LegalNotice", "Accepted", "true".to_owned()),
        ("Preferences", r"WebUI\Enabled", "true".to_owned()),
        ("Preferences", r"WebUI\Address", "127.0.0.1".to_owned()),
        (
            "Preferences",
            r"WebUI\Port",
            settings.webui_port.to_string(),
        ),
        (
            "Preferences",
            r"WebUI\Username",
            settings.username.to_owned(),
        ),
        (
            "Preferences",
            r"WebUI\Password_PBKDF2",
            format!("\"{}\"", password_hash(settings.password)),
        ),
    ];
    if let Some(save_path) = settings.save_path {
        let save_path = save_path.to_string_lossy().into_owned();
        entries.push(("BitTorrent", r"Session\DefaultSavePath", save_path.clone()));
        entries.push(("Preferences", r"Downloads\SavePath", save_path));
    }
    if let Some(port) = settings.isolated_bittorrent_port {
        entries.extend([
            ("BitTorrent", r"Session\Port", port.to_string()),
            (
                "BitTorrent",
                r"Session\InterfaceAddress",
                "127.0.0.1".to_owned(),
            ),
            ("BitTorrent", r"Session\DHTEnabled", "false".to_owned()),
            ("BitTorrent", r"Session\LSDEnabled", "false".to_owned()),
            ("BitTorrent", r"Session\PeXEnabled", "false".to_owned()),
            (
                "BitTorrent",
                r"Session\AddTrackersEnabled",
                "false".to_owned(),
            ),
            ("Network", "PortForwardingEnabled", "false".to_owned()),
            ("Preferences", r"Connection\UPnP", "false".to_owned()),
            (
                "Preferences",
                r"Connection\ResolvePeerCountries",
                "false".to_owned(),
            ),
            (
                "Preferences",
                r"WebUI\MaxAuthenticationFailCount",
                "0".to_owned(),
            ),
        ]);
    }
    if let Some(limit) = settings.download_limit_kib {
        entries.push((
            "BitTorrent",
            r"Session\GlobalDLSpeedLimit",
            limit.to_string(),
        ));
        // Peers on 127.0.0.1 count as LAN; make the limit apply to them.
        entries.push((
            "BitTorrent",
            r"Session\IgnoreLimitsOnLAN",
            "false".to_owned(),
        ));
    }

    let path = config_file(profile_dir);
    fs::create_dir_all(path.parent().expect("config file has a parent"))?;
    let existing = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error),
    };
    // It holds the WebUI password hash.
    crate::data_dir::write_private(&path, &upsert(&existing, &entries))
}

/// The command that starts qbittorrent-nox on a profile, with stdin closed
/// so it never waits for an answer.
pub fn command(binary: &Path, profile_dir: &Path, webui_port: u16) -> Command {
    let mut command = Command::new(binary);
    command
        .arg(format!("--profile={}", profile_dir.display()))
        .arg(format!("--webui-port={webui_port}"))
        .stdin(Stdio::null());
    command
}

/// `@ByteArray(<base64 salt>:<base64 key>)`: PBKDF2-HMAC-SHA512, as
/// qBittorrent stores `WebUI\Password_PBKDF2`.
pub fn password_hash(password: &SecretString) -> String {
    let mut salt = [0u8; SALT_BYTES];
    rand::rng().fill_bytes(&mut salt);
    let mut key = [0u8; KEY_BYTES];
    pbkdf2::pbkdf2_hmac::<Sha512>(
        password.expose_secret().as_bytes(),
        &salt,
        PBKDF2_ROUNDS,
        &mut key,
    );
    format!("@ByteArray({}:{})", BASE64.encode(salt), BASE64.encode(key))
}

/// A random password of 24 URL-safe characters.
pub fn generate_password() -> SecretString {
    SecretString::from(crate::data_dir::random_token(18))
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Sets `key=value` in `[section]` for each entry, keeping everything else.
fn upsert(text: &str, entries: &[(&str, &str, String)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for (section, key, value) in entries {
        let header = format!("[{section}]");
        let line = format!("{key}={value}");
        let Some(start) = lines.iter().position(|existing| existing.trim() == header) else {
            if lines.last().is_some_and(|last| !last.trim().is_empty()) {
                lines.push(String::new());
            }
            lines.push(header);
            lines.push(line);
            continue;
        };
        let body = start + 1;
        let end = lines[body..]
            .iter()
            .position(|existing| existing.starts_with('['))
            .map_or(lines.len(), |offset| body + offset);
        let existing_key = lines[body..end].iter().position(|existing| {
            existing
                .split_once('=')
                .is_some_and(|(name, _)| name.trim() == *key)
        });
        match existing_key {
            Some(offset) => lines[body + offset] = line,
            None => {
                // Before the blank line that separates sections.
                let mut insert_at = end;
                while insert_at > body && lines[insert_at - 1].trim().is_empty() {
                    insert_at -= 1;
                }
                lines.insert(insert_at, line);
            }
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_replaces_and_adds_keys_keeping_the_rest() {
        let existing =
            "[Preferences]\nWebUI\\Port=1\nGeneral\\Locale=de\n\n[BitTorrent]\nSession\\Port=5\n";
        let updated = upsert(
            existing,
            &[
                ("Preferences", r"WebUI\Port", "8080".to_owned()),
                ("Preferences", r"WebUI\Address", "127.0.0.1".to_owned()),
                ("LegalNotice", "Accepted", "true".to_owned()),
            ],
        );
        assert_eq!(
            updated,
            "[Preferences]\nWebUI\\Port=8080\nGeneral\\Locale=de\nWebUI\\Address=127.0.0.1\n\n[BitTorrent]\nSession\\Port=5\n\n[LegalNotice]\nAccepted=true\n"
        );
    }

    #[test]
    fn password_hash_has_qbittorrents_shape_and_a_fresh_salt() {
        let password = SecretString::from("secret");
        let hash = password_hash(&password);
        let inner = hash
            .strip_prefix("@ByteArray(")
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap();
        let (salt, key) = inner.split_once(':').unwrap();
        assert_eq!(BASE64.decode(salt).unwrap().len(), SALT_BYTES);
        assert_eq!(BASE64.decode(key).unwrap().len(), KEY_BYTES);
        assert_ne!(hash, password_hash(&password));
    }
}
