//! Real qbittorrent-nox instances for tests.
//!
//! The version comes from `TORRENTQL_TEST_QBITTORRENT`: `4.5` (Debian
//! bookworm's package on the host, the default) or `5.1` (Debian trixie's,
//! in the chroot `scripts/setup-qbittorrent.sh` makes). Each instance gets
//! a temporary profile under `/tmp/torrentql-tests` (visible at the same
//! path inside the chroot), free ports on 127.0.0.1, a known password and
//! BitTorrent kept on loopback. Processes are spawned from one long-lived
//! thread with a parent-death signal, so they end with the test binary even
//! when a test panics.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use secrecy::SecretString;
use torrentql::clients::qbittorrent::{Credentials, QbittorrentClient};
use torrentql::managed::{self, profile};
use url::Url;

pub const USERNAME: &str = "admin";
pub const PASSWORD: &str = "torrentql-test-password";

const SETUP_HINT: &str = "run ./scripts/setup-qbittorrent.sh (it runs `apt-get install -y qbittorrent-nox debootstrap` and builds the trixie chroot)";

/// The qBittorrent versions the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Debian bookworm's 4.5.2: WebAPI 2.8, pause/resume.
    V4_5,
    /// Debian trixie's 5.1.0: WebAPI 2.11, stop/start.
    V5_1,
}

impl Version {
    /// The version this test run targets.
    pub fn under_test() -> Self {
        match std::env::var("TORRENTQL_TEST_QBITTORRENT").as_deref() {
            Ok("4.5") | Err(_) => Self::V4_5,
            Ok("5.1") => Self::V5_1,
            Ok(other) => panic!("TORRENTQL_TEST_QBITTORRENT={other:?}: expected 4.5 or 5.1"),
        }
    }

    /// The executable that runs this version.
    pub fn binary(self) -> PathBuf {
        match self {
            Self::V4_5 => {
                let found = std::env::var_os("PATH").and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|dir| dir.join("qbittorrent-nox"))
                        .find(|path| path.is_file())
                });
                found.unwrap_or_else(|| panic!("qbittorrent-nox is not installed: {SETUP_HINT}"))
            }
            Self::V5_1 => {
                let chroot = trixie_dir();
                let launcher = PathBuf::from(format!("{}.qbittorrent-nox", chroot.display()));
                assert!(
                    launcher.is_file(),
                    "{} is missing: {SETUP_HINT}",
                    launcher.display()
                );
                launcher
            }
        }
    }

    /// The `app/version` prefix this version reports.
    pub fn app_version_prefix(self) -> &'static str {
        match self {
            Self::V4_5 => "v4.5.",
            Self::V5_1 => "v5.1.",
        }
    }
}

fn trixie_dir() -> PathBuf {
    std::env::var_os("TORRENTQL_TRIXIE_DIR").map_or_else(
        || PathBuf::from("/var/cache/torrentql/trixie"),
        PathBuf::from,
    )
}

/// Options for an instance of one's own.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    /// Global download limit, KiB/s.
    pub download_limit_kib: Option<u32>,
    /// Ban an address after 5 failed logins, as qBittorrent does by
    /// default (test profiles turn the ban off otherwise).
    pub login_ban: bool,
    /// Torrent queueing off (qBittorrent's default is on).
    pub queueing_off: bool,
}

/// One running qbittorrent-nox.
pub struct Qbittorrent {
    pub version: Version,
    pub url: Url,
    pub profile_dir: PathBuf,
    /// qBittorrent's default save path, inside the profile.
    pub save_path: PathBuf,
    pub webui_port: u16,
    pub bittorrent_port: u16,
    /// The WebUI password now ([`PASSWORD`] unless a test changed it).
    password: Mutex<String>,
    child: Mutex<Option<Child>>,
}

impl Qbittorrent {
    /// The instance every test of this binary shares. Tests using it must
    /// only touch torrents they added themselves.
    pub fn shared() -> &'static Self {
        static SHARED: OnceLock<Qbittorrent> = OnceLock::new();
        SHARED.get_or_init(|| {
            // Started on a thread of its own: the caller may be inside a
            // runtime, and readiness is checked with a runtime of its own.
            std::thread::spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(Self::start(Options::default()))
            })
            .join()
            .expect("starting the shared qbittorrent-nox panicked")
        })
    }

    /// Starts an instance of one's own (stopped when dropped).
    pub async fn start(options: Options) -> Self {
        Self::start_version(Version::under_test(), options).await
    }

    /// Starts an instance of the given version.
    pub async fn start_version(version: Version, options: Options) -> Self {
        let profile_dir = new_profile_dir();
        let save_path = profile_dir.join("downloads");
        std::fs::create_dir_all(&save_path).expect("create save path");
        if version == Version::V5_1 {
            let inside = trixie_dir().join(profile_dir.strip_prefix("/").expect("absolute"));
            assert!(
                inside.is_dir(),
                "{} is not visible in the trixie chroot (/tmp is not bind-mounted): {SETUP_HINT}",
                profile_dir.display()
            );
        }
        let webui_port = profile::free_port().expect("free port");
        let bittorrent_port = profile::free_port().expect("free port");
        profile::write(
            &profile_dir,
            &profile::ProfileSettings {
                webui_port,
                username: USERNAME,
                password: &SecretString::from(PASSWORD),
                save_path: Some(&save_path),
                isolated_bittorrent_port: Some(bittorrent_port),
                download_limit_kib: options.download_limit_kib,
            },
        )
        .expect("write profile");
        if options.login_ban {
            let config = profile::config_file(&profile_dir);
            let text = std::fs::read_to_string(&config).expect("read profile");
            let text = text.replace(
                "WebUI\\MaxAuthenticationFailCount=0",
                "WebUI\\MaxAuthenticationFailCount=5",
            );
            assert!(text.contains("MaxAuthenticationFailCount=5"), "{text}");
            std::fs::write(&config, text).expect("write profile");
        }
        if options.queueing_off {
            let config = profile::config_file(&profile_dir);
            let text = std::fs::read_to_string(&config).expect("read profile");
            let text = text.replace(
                "[BitTorrent]\n",
                "[BitTorrent]\nSession\\QueueingSystemEnabled=false\n",
            );
            assert!(text.contains("QueueingSystemEnabled=false"), "{text}");
            std::fs::write(&config, text).expect("write profile");
        }
        let instance = Self {
            version,
            url: format!("http://127.0.0.1:{webui_port}/")
                .parse()
                .expect("url"),
            profile_dir,
            save_path,
            webui_port,
            bittorrent_port,
            password: Mutex::new(PASSWORD.to_owned()),
            child: Mutex::new(None),
        };
        instance.launch().await;
        instance
    }

    /// A client logged in with the right credentials.
    pub fn client(&self) -> QbittorrentClient {
        let password = self.password.lock().expect("lock").clone();
        self.client_with(Credentials::Password {
            username: USERNAME.to_owned(),
            password: SecretString::from(password),
        })
    }

    /// Changes the WebUI password through qBittorrent's own API (as a user
    /// would in its WebUI), and waits until qBittorrent has written it to
    /// its profile, so that it survives a restart.
    pub async fn change_password(&self, new_password: &str) {
        let config = self.profile_dir.join("qBittorrent/config/qBittorrent.conf");
        let read_hash = || {
            std::fs::read_to_string(&config)
                .unwrap_or_default()
                .lines()
                .find(|line| line.starts_with("WebUI\\Password_PBKDF2"))
                .map(str::to_owned)
        };
        let before = read_hash();
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let password = self.password.lock().expect("lock").clone();
        let login = http
            .post(self.url.join("api/v2/auth/login").expect("url"))
            .form(&[("username", USERNAME), ("password", password.as_str())])
            .send()
            .await
            .expect("login");
        assert_eq!(login.text().await.expect("body").trim(), "Ok.");
        let preferences = serde_json::json!({ "web_ui_password": new_password }).to_string();
        let changed = http
            .post(self.url.join("api/v2/app/setPreferences").expect("url"))
            .form(&[("json", preferences)])
            .send()
            .await
            .expect("setPreferences");
        assert!(changed.status().is_success(), "{}", changed.status());
        *self.password.lock().expect("lock") = new_password.to_owned();
        // qBittorrent writes its settings a few seconds after a change.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let after = read_hash();
            if after.is_some() && after != before {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "qBittorrent did not save the new password within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends `signal` to qbittorrent-nox (SIGSTOP and SIGCONT to make it
    /// hang and go on).
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let child = self.child.lock().expect("lock");
        let pid = child.as_ref().expect("qbittorrent-nox runs").id();
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid"));
        nix::sys::signal::kill(pid, signal).expect("signal qbittorrent-nox");
    }

    /// A client with the given credentials.
    pub fn client_with(&self, credentials: Credentials) -> QbittorrentClient {
        QbittorrentClient::new(&self.url, credentials, Duration::from_secs(10)).expect("client")
    }

    /// Kills qbittorrent-nox (no chance to save) and waits for it.
    pub fn kill(&self) {
        if let Some(mut child) = self.child.lock().expect("lock").take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills and starts it again on the same ports and profile.
    pub async fn restart(&self) {
        self.kill();
        self.launch().await;
    }

    async fn launch(&self) {
        let mut command =
            profile::command(&self.version.binary(), &self.profile_dir, self.webui_port);
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let child = spawn_tied_to_this_process(command).unwrap_or_else(|error| {
            panic!(
                "cannot start {}: {error}; {SETUP_HINT}",
                self.version.binary().display()
            )
        });
        *self.child.lock().expect("lock") = Some(child);
        let client = self.client();
        managed::wait_until_ready(&client, Duration::from_secs(30))
            .await
            .unwrap_or_else(|error| {
                panic!("qbittorrent-nox {:?} did not start: {error}", self.version)
            });
        let version = client.app_version().await.expect("app/version");
        assert!(
            version.starts_with(self.version.app_version_prefix()),
            "expected qBittorrent {:?}, found {version}",
            self.version
        );
    }

    /// Where a path qBittorrent reports lives on this machine (the same:
    /// the chroot sees /tmp at the same path).
    pub fn host_path(&self, qbittorrent_path: &str) -> PathBuf {
        PathBuf::from(qbittorrent_path)
    }
}

impl Drop for Qbittorrent {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.profile_dir);
    }
}

/// A new empty profile directory, after removing those left by test runs
/// that have ended.
fn new_profile_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let root = Path::new("/tmp/torrentql-tests");
    std::fs::create_dir_all(root).expect("create /tmp/torrentql-tests");
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(|| sweep_stale_profiles(root));
    let dir = root.join(format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create profile dir");
    dir
}

fn sweep_stale_profiles(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_string_lossy().split('-').next().map(str::to_owned);
        let alive = pid.is_some_and(|pid| Path::new("/proc").join(pid).exists());
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Spawns `command` with SIGKILL as its parent-death signal. The signal
/// fires when the spawning *thread* ends, so all spawns happen on one
/// thread that lives as long as the test binary.
fn spawn_tied_to_this_process(command: Command) -> std::io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("qbittorrent-spawner".to_owned())
            .spawn(move || {
                for (mut command, reply) in receiver {
                    use std::os::unix::process::CommandExt;
                    // SAFETY: prctl is async-signal-safe and touches no
                    // memory of the parent.
                    unsafe {
                        command.pre_exec(|| {
                            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                                .map_err(std::io::Error::from)
                        });
                    }
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("spawner thread");
        Mutex::new(sender)
    });
    let (reply, result) = mpsc::channel();
    spawner
        .lock()
        .expect("lock")
        .send((command, reply))
        .expect("spawner thread is alive");
    result.recv().expect("spawner replied")
}
