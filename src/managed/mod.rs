//! A qbittorrent-nox of torrentql's own, for when no `qbittorrent.url` is
//! configured: the embedded default that runs on a fresh machine.
//!
//! The profile lives in `<data_dir>/qbittorrent`, its WebUI listens on
//! 127.0.0.1 only, and the WebUI password is generated once and kept in
//! `<data_dir>/qbittorrent-password` (mode 0600) so a person can log in to
//! qBittorrent's own WebUI too. A supervisor task restarts qbittorrent-nox
//! when it dies and stops it with SIGTERM (so it saves its resume data)
//! when torrentql stops. The test harness starts its qBittorrents with the
//! same [`profile`] code.

pub mod profile;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use secrecy::{ExposeSecret, SecretString};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::clients::qbittorrent::{Credentials, QbittorrentClient, QbittorrentError};
use crate::config::ManagedConfig;

/// How long qbittorrent-nox gets to answer its first login after a start.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long qbittorrent-nox gets to save its state after SIGTERM before it
/// is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// Restart delays after a crash double from this, up to the maximum.
const FIRST_RESTART_DELAY: Duration = Duration::from_secs(1);
const MAX_RESTART_DELAY: Duration = Duration::from_secs(60);

/// A running, supervised qbittorrent-nox.
pub struct ManagedQbittorrent {
    url: Url,
    username: String,
    password: SecretString,
    stop: CancellationToken,
    supervisor: JoinHandle<()>,
}

impl ManagedQbittorrent {
    /// Writes the profile, starts qbittorrent-nox and waits until it
    /// accepts a login.
    pub async fn start(
        config: &ManagedConfig,
        data_dir: &Path,
        username: &str,
        password: Option<SecretString>,
    ) -> anyhow::Result<Self> {
        let profile_dir = data_dir.join("qbittorrent");
        std::fs::create_dir_all(&profile_dir)
            .with_context(|| format!("cannot create {}", profile_dir.display()))?;
        let password = match password {
            Some(password) => password,
            None => stored_password(&data_dir.join("qbittorrent-password"))?,
        };
        let webui_port = match config.webui_port {
            Some(port) => port,
            None => profile::free_port().context("no free port on 127.0.0.1")?,
        };
        let bittorrent_port = if config.isolated {
            Some(profile::free_port().context("no free port on 127.0.0.1")?)
        } else {
            None
        };
        let save_path = data_dir.join("downloads");
        profile::write(
            &profile_dir,
            &profile::ProfileSettings {
                webui_port,
                username,
                password: &password,
                save_path: Some(&save_path),
                isolated_bittorrent_port: bittorrent_port,
                download_limit_kib: None,
            },
        )
        .with_context(|| format!("cannot write the profile in {}", profile_dir.display()))?;

        let url: Url = format!("http://127.0.0.1:{webui_port}/")
            .parse()
            .expect("a loopback URL is valid");
        let launcher = Launcher {
            binary: config.binary.clone(),
            profile_dir,
            webui_port,
        };
        let child = launcher.spawn()?;
        let client = QbittorrentClient::new(
            &url,
            Credentials::Password {
                username: username.to_owned(),
                password: password.clone(),
            },
            Duration::from_secs(5),
        )?;
        wait_until_ready(&client, READY_TIMEOUT)
            .await
            .context("the managed qbittorrent-nox did not start")?;
        tracing::info!(%url, binary = %config.binary.display(), "managed qbittorrent-nox is up");

        let stop = CancellationToken::new();
        let supervisor = tokio::spawn(supervise(Arc::new(launcher), child, stop.clone()));
        Ok(Self {
            url,
            username: username.to_owned(),
            password,
            stop,
            supervisor,
        })
    }

    /// The WebUI address.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Credentials for the WebUI.
    pub fn credentials(&self) -> Credentials {
        Credentials::Password {
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }

    /// Stops qbittorrent-nox cleanly and waits for it.
    pub async fn stop(self) {
        self.stop.cancel();
        if let Err(error) = self.supervisor.await {
            tracing::error!(%error, "the qbittorrent-nox supervisor failed");
        }
    }
}

/// Polls login until qBittorrent answers (connection refused means it is
/// still starting).
pub async fn wait_until_ready(
    client: &QbittorrentClient,
    timeout: Duration,
) -> Result<(), QbittorrentError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match client.api_version().await {
            Ok(_) => return Ok(()),
            Err(QbittorrentError::Unavailable(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Reads the stored WebUI password, or generates and stores one.
fn stored_password(path: &Path) -> anyhow::Result<SecretString> {
    let password = crate::data_dir::read_or_create(path, || {
        profile::generate_password().expose_secret().to_owned()
    })
    .with_context(|| format!("cannot read or write {}", path.display()))?;
    Ok(SecretString::from(password))
}

struct Launcher {
    binary: PathBuf,
    profile_dir: PathBuf,
    webui_port: u16,
}

impl Launcher {
    fn spawn(&self) -> anyhow::Result<Child> {
        let mut command = Command::from(profile::command(
            &self.binary,
            &self.profile_dir,
            self.webui_port,
        ));
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        // If torrentql dies without stopping it (SIGKILL, a crash), its
        // qbittorrent-nox must not linger on the profile: the kernel sends
        // it SIGTERM, so it still saves its resume data. The signal follows
        // the spawning thread, a runtime worker that lives as long as the
        // runtime.
        // SAFETY: prctl is async-signal-safe and touches no parent memory.
        unsafe {
            command.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(std::io::Error::from)
            });
        }
        command.spawn().with_context(|| {
            format!(
                "cannot run {} (install it with `apt-get install -y qbittorrent-nox`, or set qbittorrent.url)",
                self.binary.display()
            )
        })
    }
}

/// Restarts qbittorrent-nox whenever it exits, until `stop`; then stops it.
async fn supervise(launcher: Arc<Launcher>, mut child: Child, stop: CancellationToken) {
    let mut restart_delay = FIRST_RESTART_DELAY;
    loop {
        tokio::select! {
            status = child.wait() => {
                tracing::error!(?status, delay = ?restart_delay, "qbittorrent-nox exited; restarting");
                tokio::select! {
                    () = tokio::time::sleep(restart_delay) => {}
                    () = stop.cancelled() => return,
                }
                restart_delay = (restart_delay * 2).min(MAX_RESTART_DELAY);
                match launcher.spawn() {
                    Ok(new_child) => child = new_child,
                    Err(error) => tracing::error!(error = format!("{error:#}"), "cannot restart qbittorrent-nox"),
                }
            }
            () = stop.cancelled() => {
                terminate(&mut child).await;
                return;
            }
        }
    }
}

/// SIGTERM, so qBittorrent saves its resume data, then SIGKILL if it takes
/// longer than [`STOP_TIMEOUT`].
async fn terminate(child: &mut Child) {
    match stop_child(child, STOP_TIMEOUT).await {
        Some(status) => tracing::info!(?status, "managed qbittorrent-nox stopped"),
        None => tracing::warn!("qbittorrent-nox did not stop in time; killed it"),
    }
}

/// Sends `child` SIGTERM and waits for it; SIGKILL if it has not exited
/// within `timeout`, and then `None`.
pub async fn stop_child(
    child: &mut Child,
    timeout: Duration,
) -> Option<std::io::Result<std::process::ExitStatus>> {
    if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => Some(status),
        Err(_) => {
            let _ = child.kill().await;
            None
        }
    }
}
