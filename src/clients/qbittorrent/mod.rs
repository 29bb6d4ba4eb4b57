//! Typed client for qBittorrent's WebUI API v2, from qBittorrent 4.1 to 5.x.
//!
//! One [`QbittorrentClient`] holds one `reqwest::Client` and one session.
//! It logs in once, keeps whatever session cookie qBittorrent sets (`SID`
//! before 5.2, `QBT_SID_<port>` after), logs in again once when a call is
//! answered 403, and hides the pause/resume versus stop/start split of
//! WebAPI 2.11 from its callers. It never tries refused credentials again
//! by itself (see [`LoginRefusal`]): qBittorrent bans an address after five
//! failed logins, for an hour by default, and forgets failures only at a
//! successful login.

mod actions;
mod models;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use url::Url;

use crate::torrent::{InfoHash, Magnet, TorrentFile};

pub use actions::{QueueMove, ShareLimit, TorrentAction};
pub use models::{
    ApiVersion, Category, CategoryChanges, FilePriority, MainData, Peer, PeerData, Preferences,
    ServerState, Torrent, TorrentContent, TorrentFilter, TorrentState, Tracker,
};

/// How long to wait for qBittorrent to accept a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long qBittorrent bans an address by default (its WebUI setting
/// "ban client after consecutive failures", `WebUI\BanDuration`).
pub const QBITTORRENT_BAN_DURATION: Duration = Duration::from_secs(3600);

/// How soon after a refused login [`QbittorrentClient::retry_login`] may
/// try again: many asks at once (aliases in one request) make one attempt.
pub const RETRY_LOGIN_INTERVAL: Duration = Duration::from_secs(3);

/// Why qBittorrent does not let torrentql in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefusal {
    /// `Fails.` or 401: the username or password is wrong.
    #[error(
        "the username or password is wrong; torrentql does not try them again by itself, as qBittorrent bans an address after 5 failed logins: correct qbittorrent.password and restart torrentql, or run the retryQbittorrentLogin mutation once the password is right"
    )]
    WrongCredentials,
    /// 403 at login: this address is banned.
    #[error(
        "qBittorrent has banned this address after too many failed logins (for 1 hour unless its WebUI ban duration was changed); torrentql tries again in {}",
        seconds(*.retry_in)
    )]
    Banned {
        /// How long until torrentql logs in again.
        retry_in: Duration,
    },
    /// An API key refused, or 403/401 right after a successful login.
    #[error("403/401 even after logging in")]
    Forbidden,
}

fn seconds(duration: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_secs(duration.as_secs().max(1)))
}

/// What a caller can do about a failed call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QbittorrentError {
    /// Bad credentials, a banned address, or an API key qBittorrent refused.
    #[error("qBittorrent refused torrentql's credentials: {0}")]
    Unauthorized(LoginRefusal),
    /// Connection refused, reset or timed out; a 502/503/504.
    #[error("qBittorrent is unavailable: {0}")]
    Unavailable(String),
    /// A single-torrent endpoint answered 404.
    #[error("qBittorrent has no such torrent")]
    NotFound,
    /// qBittorrent understood the request and refused it (`Fails.`, 400,
    /// 409, 415).
    #[error("qBittorrent refused the request: {0}")]
    Rejected(String),
    /// Anything else: an unexpected status or an answer we cannot decode.
    #[error("unexpected answer from qBittorrent: {0}")]
    Other(String),
}

type Result<T, E = QbittorrentError> = std::result::Result<T, E>;

/// How torrentql proves itself to qBittorrent.
#[derive(Clone)]
pub enum Credentials {
    /// `auth/login` with a username and password; the session cookie is
    /// then sent with every call.
    Password {
        /// The WebUI user.
        username: String,
        /// The WebUI password.
        password: SecretString,
    },
    /// `Authorization: Bearer <key>` on every call (qBittorrent 5.2+).
    ApiKey(SecretString),
}

/// A torrent to add.
#[derive(Debug, Clone)]
pub struct AddTorrent {
    /// The magnets or the `.torrent` file.
    pub source: AddSource,
    /// Absolute path as qBittorrent sees it; its default when `None`.
    pub save_path: Option<String>,
    /// Created by qBittorrent when it does not exist.
    pub category: Option<String>,
    /// Added paused (4.x) or stopped (5.x).
    pub paused: bool,
    /// The name qBittorrent shows instead of the torrent's own.
    pub rename: Option<String>,
    /// Stop once the metadata has arrived (a magnet, not paused, whose
    /// files are to be chosen before it downloads): qBittorrent's
    /// `stopCondition=MetadataReceived`, from 4.5.
    pub stop_when_metadata_arrives: bool,
}

/// What the torrent is added from. Only magnets torrentql built or
/// validated, never user text: `urls` also accepts paths on qBittorrent's
/// machine.
#[derive(Debug, Clone)]
pub enum AddSource {
    /// Magnet links, sent as `urls`.
    Magnets(Vec<Magnet>),
    /// A parsed `.torrent` file, uploaded as `torrents`.
    File(TorrentFile),
}

/// The session qBittorrent gave us.
#[derive(Clone)]
struct Session {
    /// `NAME=value` of the session cookie; `None` with an API key or when
    /// qBittorrent skips authentication for this address.
    cookie: Option<SecretString>,
    /// Read once per session: decides pause/resume versus stop/start.
    api_version: ApiVersion,
    /// Tells a caller whose call was refused with this session whether
    /// another caller has already logged in again.
    id: u64,
}

#[derive(Default)]
struct SessionSlot {
    current: Option<Session>,
    next_id: u64,
    /// The last login's refusal and when it came, until one succeeds.
    refused: Option<(Instant, Refused)>,
}

/// How the last login was refused.
#[derive(Debug, Clone, Copy)]
enum Refused {
    Credentials,
    Banned,
}

/// A client for one qBittorrent instance.
pub struct QbittorrentClient {
    http: reqwest::Client,
    /// Ends with `/`, so endpoint paths join under it (qBittorrent may sit
    /// under a reverse proxy's sub-path).
    base_url: Url,
    credentials: Credentials,
    /// After qBittorrent answered that this address is banned, how long
    /// before the next login (a login during a ban does not count as a
    /// failure, and refused credentials are never tried by themselves).
    retry_after_ban: Duration,
    /// Held across a login so that concurrent callers wait for one login
    /// instead of each starting their own.
    session: Mutex<SessionSlot>,
}

impl QbittorrentClient {
    /// A client for the WebUI at `base_url`; `timeout` bounds every call.
    pub fn new(base_url: &Url, credentials: Credentials, timeout: Duration) -> Result<Self> {
        let mut base_url = base_url.clone();
        if !base_url.path().ends_with('/') {
            base_url.set_path(&format!("{}/", base_url.path()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            // Never follow a redirect to a host the session cookie was not
            // meant for.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("torrentql/", env!("CARGO_PKG_VERSION")))
            // Compressing a 10 MB list costs qBittorrent ~0.1 s; worth it
            // over a network, wasted on loopback.
            .gzip(!on_loopback(&base_url))
            .build()
            .map_err(|error| QbittorrentError::Other(error.without_url().to_string()))?;
        Ok(Self {
            http,
            base_url,
            credentials,
            retry_after_ban: QBITTORRENT_BAN_DURATION,
            session: Mutex::new(SessionSlot::default()),
        })
    }

    /// Tries to log in again `wait` after qBittorrent answered that this
    /// address is banned (by default, after qBittorrent's default ban).
    pub fn with_retry_after_ban(self, wait: Duration) -> Self {
        Self {
            retry_after_ban: wait,
            ..self
        }
    }

    /// Forgets a refused login and logs in now, once: for an admin who has
    /// corrected the password in qBittorrent. Within
    /// [`RETRY_LOGIN_INTERVAL`] of the last refusal it answers that refusal
    /// instead. Returns the WebAPI version.
    pub async fn retry_login(&self) -> Result<ApiVersion> {
        let mut slot = self.session.lock().await;
        if let Some((at, refused)) = slot.refused {
            if at.elapsed() < RETRY_LOGIN_INTERVAL {
                let refusal = self
                    .still_refused(at.elapsed(), refused)
                    .unwrap_or(LoginRefusal::WrongCredentials);
                return Err(QbittorrentError::Unauthorized(refusal));
            }
            slot.refused = None;
        }
        if let Some(session) = &slot.current {
            return Ok(session.api_version);
        }
        Ok(self.login(&mut slot).await?.api_version)
    }

    /// The WebUI address this client talks to.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Logs in (if not logged in yet) and returns the WebAPI version.
    pub async fn api_version(&self) -> Result<ApiVersion> {
        Ok(self.session().await?.api_version)
    }

    /// Ends the session, if one is open, so that qBittorrent frees what it
    /// keeps for it: at 10,000 torrents, a session that has synced holds
    /// about 100 MB of qBittorrent's memory until it expires (an hour by
    /// default). A later call logs in again.
    pub async fn log_out(&self) -> Result<()> {
        let session = self.session.lock().await.current.take();
        let Some(session) = session.filter(|session| session.cookie.is_some()) else {
            return Ok(());
        };
        let response = self
            .send(&Method::POST, "auth/logout", &session, &|request| request)
            .await?;
        check_status(response).await.map(drop)
    }

    /// qBittorrent's own version, e.g. `v5.1.0`.
    pub async fn app_version(&self) -> Result<String> {
        let response = self
            .call(Method::GET, "app/version", |request| request)
            .await?;
        Ok(text(response).await?.trim().to_owned())
    }

    /// The default save path from qBittorrent's preferences.
    pub async fn default_save_path(&self) -> Result<String> {
        #[derive(serde::Deserialize)]
        struct Preferences {
            save_path: String,
        }
        let response = self
            .call(Method::GET, "app/preferences", |request| request)
            .await?;
        Ok(json::<Preferences>(response).await?.save_path)
    }

    /// The transfer state without syncing (`transfer/info`): no all-time
    /// totals, free space or alternative mode.
    pub async fn transfer_info(&self) -> Result<ServerState> {
        let response = self
            .call(Method::GET, "transfer/info", |request| request)
            .await?;
        json(response).await
    }

    /// Whether the alternative speed limits are on.
    pub async fn alternative_speed_limits(&self) -> Result<bool> {
        let response = self
            .call(Method::GET, "transfer/speedLimitsMode", |request| request)
            .await?;
        Ok(text(response).await?.trim() == "1")
    }

    /// Turns the alternative speed limits on when off, off when on.
    pub async fn toggle_alternative_speed_limits(&self) -> Result<()> {
        self.post_form("transfer/toggleSpeedLimitsMode", &[]).await
    }

    /// Sets the global (not the alternative) download limit, bytes per
    /// second; 0 for none.
    pub async fn set_global_download_limit(&self, limit: i64) -> Result<()> {
        self.post_form("transfer/setDownloadLimit", &[("limit", limit.to_string())])
            .await
    }

    /// Sets the global (not the alternative) upload limit, bytes per
    /// second; 0 for none.
    pub async fn set_global_upload_limit(&self, limit: i64) -> Result<()> {
        self.post_form("transfer/setUploadLimit", &[("limit", limit.to_string())])
            .await
    }

    /// The preferences a torrent UI shows most.
    pub async fn preferences(&self) -> Result<Preferences> {
        let response = self
            .call(Method::GET, "app/preferences", |request| request)
            .await?;
        json(response).await
    }

    /// Changes preferences: `changes` holds only the ones to change, by
    /// qBittorrent's names.
    pub async fn set_preferences(
        &self,
        changes: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        let json = serde_json::Value::Object(changes.clone()).to_string();
        self.post_form("app/setPreferences", &[("json", json)])
            .await
    }

    /// `torrents/info`. Unknown hashes in `hashes` are silently left out
    /// by qBittorrent.
    pub async fn torrents(
        &self,
        filter: TorrentFilter,
        category: Option<&str>,
        hashes: Option<&[InfoHash]>,
    ) -> Result<Vec<Torrent>> {
        let api = self.api_version().await?;
        let mut query = vec![("filter", filter.as_query(api).to_owned())];
        if let Some(category) = category {
            query.push(("category", category.to_owned()));
        }
        if let Some(hashes) = hashes {
            query.push(("hashes", join_hashes(hashes)));
        }
        // A form, not a query: qBittorrent drops a request whose line
        // passes 8 KB, about 190 hashes.
        let response = self
            .call(Method::POST, "torrents/info", |request| {
                request.form(&query)
            })
            .await?;
        json(response).await
    }

    /// One torrent, or `None` when qBittorrent does not list it.
    pub async fn torrent(&self, hash: InfoHash) -> Result<Option<Torrent>> {
        let mut torrents = self
            .torrents(TorrentFilter::All, None, Some(&[hash]))
            .await?;
        Ok(torrents
            .iter()
            .position(|torrent| torrent.hash == hash)
            .map(|index| torrents.swap_remove(index)))
    }

    /// The files of a torrent; empty until a magnet's metadata arrives.
    pub async fn files(&self, hash: InfoHash) -> Result<Vec<TorrentContent>> {
        let query = [("hash", hash.to_string())];
        let response = self
            .call(Method::GET, "torrents/files", |request| {
                request.query(&query)
            })
            .await?;
        json(response).await
    }

    /// `torrents/add`. `Ok(())` means qBittorrent accepted the request; the
    /// torrent shows up in `torrents/info` a moment later. A duplicate is
    /// [`QbittorrentError::Rejected`].
    pub async fn add(&self, torrent: &AddTorrent) -> Result<()> {
        let api = self.api_version().await?;
        let response = self
            .call(Method::POST, "torrents/add", |request| {
                request.multipart(add_form(torrent, api))
            })
            .await?;
        let body = text(response).await?;
        let refused = || {
            QbittorrentError::Rejected(
                "qBittorrent did not add the torrent (it may already be there)".to_owned(),
            )
        };
        match body.trim() {
            "Ok." | "" => Ok(()),
            "Fails." => Err(refused()),
            // 5.2+ answers with counts instead of `Ok.`/`Fails.`.
            json_body if json_body.starts_with('{') => {
                #[derive(serde::Deserialize)]
                struct Counts {
                    #[serde(default)]
                    success_count: u64,
                    #[serde(default)]
                    pending_count: u64,
                }
                let counts: Counts = serde_json::from_str(json_body).map_err(|error| {
                    QbittorrentError::Other(format!("torrents/add answered invalid JSON: {error}"))
                })?;
                if counts.success_count + counts.pending_count > 0 {
                    Ok(())
                } else {
                    Err(refused())
                }
            }
            other => Err(QbittorrentError::Other(format!(
                "torrents/add answered {:?}",
                other.chars().take(100).collect::<String>()
            ))),
        }
    }

    /// Applies `action` to the torrents `hashes` names, in one call.
    /// qBittorrent ignores hashes it does not list.
    pub async fn act(&self, hashes: &[InfoHash], action: &TorrentAction) -> Result<()> {
        let endpoint = action.endpoint(self.api_version().await?);
        let mut form = vec![("hashes", join_hashes(hashes))];
        form.extend(action.fields());
        self.post_form(endpoint, &form).await
    }

    /// Gives a torrent the name qBittorrent shows; an empty name is
    /// refused (409).
    pub async fn rename(&self, hash: InfoHash, name: &str) -> Result<()> {
        self.post_form(
            "torrents/rename",
            &[("hash", hash.to_string()), ("name", name.to_owned())],
        )
        .await
    }

    /// Gives the files at `indexes` of a torrent `priority`. An index the
    /// torrent does not have, or a torrent without metadata yet, is
    /// refused (409).
    pub async fn set_file_priority(
        &self,
        hash: InfoHash,
        indexes: &[i64],
        priority: FilePriority,
    ) -> Result<()> {
        let ids = indexes
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join("|");
        self.post_form(
            "torrents/filePrio",
            &[
                ("hash", hash.to_string()),
                ("id", ids),
                ("priority", priority.value().to_string()),
            ],
        )
        .await
    }

    /// Renames (or moves, within the torrent) a file or, with `folder`, a
    /// folder of a torrent; paths are relative to its save path. A path
    /// that does not exist or is taken is refused (409).
    pub async fn rename_path(
        &self,
        hash: InfoHash,
        old_path: &str,
        new_path: &str,
        folder: bool,
    ) -> Result<()> {
        let endpoint = if folder {
            "torrents/renameFolder"
        } else {
            "torrents/renameFile"
        };
        self.post_form(
            endpoint,
            &[
                ("hash", hash.to_string()),
                ("oldPath", old_path.to_owned()),
                ("newPath", new_path.to_owned()),
            ],
        )
        .await
    }

    /// A torrent's trackers, the DHT, PeX and LSD entries first.
    pub async fn trackers(&self, hash: InfoHash) -> Result<Vec<Tracker>> {
        let query = [("hash", hash.to_string())];
        let response = self
            .call(Method::GET, "torrents/trackers", |request| {
                request.query(&query)
            })
            .await?;
        json(response).await
    }

    /// Adds trackers to torrents (qBittorrent 4.5 takes one torrent per
    /// call; the URLs go in one).
    pub async fn add_trackers(&self, hash: InfoHash, urls: &[String]) -> Result<()> {
        self.post_form(
            "torrents/addTrackers",
            &[("hash", hash.to_string()), ("urls", urls.join("\n"))],
        )
        .await
    }

    /// Replaces a tracker's URL; an unknown `old_url`, or a `new_url` the
    /// torrent has already, is refused (409).
    pub async fn edit_tracker(&self, hash: InfoHash, old_url: &str, new_url: &str) -> Result<()> {
        self.post_form(
            "torrents/editTracker",
            &[
                ("hash", hash.to_string()),
                ("origUrl", old_url.to_owned()),
                ("newUrl", new_url.to_owned()),
            ],
        )
        .await
    }

    /// Removes trackers from a torrent; none of `urls` known is refused
    /// (409).
    pub async fn remove_trackers(&self, hash: InfoHash, urls: &[String]) -> Result<()> {
        self.post_form(
            "torrents/removeTrackers",
            &[("hash", hash.to_string()), ("urls", urls.join("|"))],
        )
        .await
    }

    /// Creates a category; one that exists already is refused (409).
    pub async fn create_category(&self, name: &str, save_path: Option<&str>) -> Result<()> {
        self.post_form(
            "torrents/createCategory",
            &[
                ("category", name.to_owned()),
                ("savePath", save_path.unwrap_or_default().to_owned()),
            ],
        )
        .await
    }

    /// Changes a category's save path (empty: the default save path); an
    /// unknown category is refused (409).
    pub async fn edit_category(&self, name: &str, save_path: &str) -> Result<()> {
        self.post_form(
            "torrents/editCategory",
            &[
                ("category", name.to_owned()),
                ("savePath", save_path.to_owned()),
            ],
        )
        .await
    }

    /// Removes categories; their torrents are left without one. Unknown
    /// names are ignored.
    pub async fn remove_categories(&self, names: &[String]) -> Result<()> {
        self.post_form(
            "torrents/removeCategories",
            &[("categories", names.join("\n"))],
        )
        .await
    }

    /// Every tag, sorted.
    pub async fn tags(&self) -> Result<Vec<String>> {
        let response = self
            .call(Method::GET, "torrents/tags", |request| request)
            .await?;
        let mut tags: Vec<String> = json(response).await?;
        tags.sort();
        Ok(tags)
    }

    /// Creates tags; existing ones are left as they are.
    pub async fn create_tags(&self, names: &[String]) -> Result<()> {
        self.post_form("torrents/createTags", &[("tags", names.join(","))])
            .await
    }

    /// Deletes tags, taking them off every torrent. Unknown names are
    /// ignored.
    pub async fn delete_tags(&self, names: &[String]) -> Result<()> {
        self.post_form("torrents/deleteTags", &[("tags", names.join(","))])
            .await
    }

    /// Every category, by name.
    pub async fn categories(&self) -> Result<Vec<Category>> {
        let response = self
            .call(Method::GET, "torrents/categories", |request| request)
            .await?;
        let by_name: std::collections::HashMap<String, Category> = json(response).await?;
        let mut categories: Vec<Category> = by_name.into_values().collect();
        categories.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(categories)
    }

    /// What changed since `rid` (0 for everything).
    pub async fn sync_maindata(&self, rid: i64) -> Result<MainData> {
        let query = [("rid", rid.to_string())];
        let response = self
            .call(Method::GET, "sync/maindata", |request| {
                request.query(&query)
            })
            .await?;
        json(response).await
    }

    /// A torrent's web seeds (HTTP sources), by URL.
    pub async fn web_seeds(&self, hash: InfoHash) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct WebSeed {
            url: String,
        }
        let query = [("hash", hash.to_string())];
        let response = self
            .call(Method::GET, "torrents/webseeds", |request| {
                request.query(&query)
            })
            .await?;
        let seeds: Vec<WebSeed> = json(response).await?;
        Ok(seeds.into_iter().map(|seed| seed.url).collect())
    }

    /// Each piece of a torrent: 0 not downloaded, 1 downloading, 2
    /// downloaded (empty until a magnet's metadata arrives).
    pub async fn piece_states(&self, hash: InfoHash) -> Result<Vec<u8>> {
        let query = [("hash", hash.to_string())];
        let response = self
            .call(Method::GET, "torrents/pieceStates", |request| {
                request.query(&query)
            })
            .await?;
        json(response).await
    }

    /// Bans peers by address, for every torrent (qBittorrent keeps the
    /// IPs in its preferences).
    pub async fn ban_peers(&self, peers: &[SocketAddr]) -> Result<()> {
        let peers = peers
            .iter()
            .map(SocketAddr::to_string)
            .collect::<Vec<_>>()
            .join("|");
        self.post_form("transfer/banPeers", &[("peers", peers)])
            .await
    }

    /// A torrent's peers changed since `rid` (0 for all of them).
    pub async fn torrent_peers(&self, hash: InfoHash, rid: i64) -> Result<PeerData> {
        let query = [("hash", hash.to_string()), ("rid", rid.to_string())];
        let response = self
            .call(Method::GET, "sync/torrentPeers", |request| {
                request.query(&query)
            })
            .await?;
        json(response).await
    }

    async fn post_form(&self, endpoint: &str, form: &[(&str, String)]) -> Result<()> {
        self.call(Method::POST, endpoint, |request| request.form(form))
            .await
            .map(drop)
    }

    /// Sends one call with the session, logging in first if needed and
    /// once more if qBittorrent answers 403, then checks the status.
    async fn call(
        &self,
        method: Method,
        endpoint: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response> {
        let session = self.session().await?;
        let response = self.send(&method, endpoint, &session, &build).await?;
        if response.status() == StatusCode::FORBIDDEN
            && matches!(self.credentials, Credentials::Password { .. })
        {
            tracing::debug!(endpoint, "qBittorrent answered 403; logging in again");
            let session = self.renew_session(session.id).await?;
            let response = self.send(&method, endpoint, &session, &build).await?;
            return check_status(response).await;
        }
        check_status(response).await
    }

    async fn send(
        &self,
        method: &Method,
        endpoint: &str,
        session: &Session,
        build: &impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response> {
        let mut request = build(self.http.request(method.clone(), self.endpoint(endpoint)));
        request = self.authenticate(request, session.cookie.as_ref());
        request.send().await.map_err(transport_error)
    }

    fn endpoint(&self, endpoint: &str) -> Url {
        self.base_url
            .join("api/v2/")
            .and_then(|api| api.join(endpoint))
            .expect("endpoint paths are static and valid")
    }

    fn authenticate(
        &self,
        request: RequestBuilder,
        cookie: Option<&SecretString>,
    ) -> RequestBuilder {
        match (&self.credentials, cookie) {
            (Credentials::ApiKey(key), _) => request.header(
                AUTHORIZATION,
                super::sensitive_header(&format!("Bearer {}", key.expose_secret())),
            ),
            (Credentials::Password { .. }, Some(cookie)) => {
                request.header(COOKIE, super::sensitive_header(cookie.expose_secret()))
            }
            (Credentials::Password { .. }, None) => request,
        }
    }

    async fn session(&self) -> Result<Session> {
        let mut slot = self.session.lock().await;
        if let Some(session) = &slot.current {
            return Ok(session.clone());
        }
        self.login(&mut slot).await
    }

    /// Logs in again unless another caller already replaced the session
    /// `stale_id`.
    async fn renew_session(&self, stale_id: u64) -> Result<Session> {
        let mut slot = self.session.lock().await;
        match &slot.current {
            Some(session) if session.id != stale_id => Ok(session.clone()),
            _ => {
                slot.current = None;
                self.login(&mut slot).await
            }
        }
    }

    async fn login(&self, slot: &mut SessionSlot) -> Result<Session> {
        if let Some((at, refused)) = slot.refused
            && let Some(refusal) = self.still_refused(at.elapsed(), refused)
        {
            return Err(QbittorrentError::Unauthorized(refusal));
        }
        let cookie = match &self.credentials {
            Credentials::ApiKey(_) => None,
            Credentials::Password { username, password } => {
                match self.password_login(username, password).await {
                    Err(QbittorrentError::Unauthorized(refusal)) => {
                        let refused = match refusal {
                            LoginRefusal::Banned { .. } => Refused::Banned,
                            _ => Refused::Credentials,
                        };
                        slot.refused = Some((Instant::now(), refused));
                        let refusal = self
                            .still_refused(Duration::ZERO, refused)
                            .unwrap_or(refusal);
                        tracing::warn!(%refusal, "qBittorrent refused the login");
                        return Err(QbittorrentError::Unauthorized(refusal));
                    }
                    other => other?,
                }
            }
        };
        slot.refused = None;
        let response = self
            .authenticate(
                self.http.get(self.endpoint("app/webapiVersion")),
                cookie.as_ref(),
            )
            .send()
            .await
            .map_err(transport_error)?;
        let response = check_status(response).await?;
        let body = text(response).await?;
        let api_version = ApiVersion::parse(&body).ok_or_else(|| {
            QbittorrentError::Other(format!("webapiVersion answered {:?}", body.trim()))
        })?;
        slot.next_id += 1;
        let session = Session {
            cookie,
            api_version,
            id: slot.next_id,
        };
        tracing::info!(api_version = %api_version, "logged in to qBittorrent");
        slot.current = Some(session.clone());
        Ok(session)
    }

    /// Why a login refused `elapsed` ago still stands, or `None` when it is
    /// time to try again.
    fn still_refused(&self, elapsed: Duration, refused: Refused) -> Option<LoginRefusal> {
        match refused {
            Refused::Credentials => Some(LoginRefusal::WrongCredentials),
            Refused::Banned => (elapsed < self.retry_after_ban).then(|| LoginRefusal::Banned {
                retry_in: self.retry_after_ban - elapsed,
            }),
        }
    }

    /// `auth/login`: 200 `Ok.` (before 5.2) or 204 (5.2+) is success; 200
    /// `Fails.` or 401 is bad credentials; 403 is a banned address.
    async fn password_login(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<Option<SecretString>> {
        let form = [
            ("username", username),
            ("password", password.expose_secret()),
        ];
        let response = self
            .http
            .post(self.endpoint("auth/login"))
            .form(&form)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let cookie = session_cookie(&response);
        match status {
            StatusCode::FORBIDDEN => {
                return Err(QbittorrentError::Unauthorized(LoginRefusal::Banned {
                    retry_in: self.retry_after_ban,
                }));
            }
            StatusCode::UNAUTHORIZED => {
                return Err(QbittorrentError::Unauthorized(
                    LoginRefusal::WrongCredentials,
                ));
            }
            _ => {}
        }
        let response = check_status(response).await?;
        match text(response).await?.trim() {
            "Ok." | "" => Ok(cookie),
            "Fails." => Err(QbittorrentError::Unauthorized(
                LoginRefusal::WrongCredentials,
            )),
            other => Err(QbittorrentError::Other(format!(
                "auth/login answered {other:?}"
            ))),
        }
    }
}

/// The session cookie qBittorrent sets at login: `SID` (before 5.2) or
/// `QBT_SID_<port>` (5.2+), else the first cookie (a proxy in between may
/// set its own too).
fn session_cookie(response: &Response) -> Option<SecretString> {
    let cookies: Vec<&str> = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .map(str::trim)
        .filter(|pair| pair.contains('=') && !pair.ends_with('='))
        .collect();
    let is_session = |pair: &&&str| pair.starts_with("SID=") || pair.starts_with("QBT_SID_");
    cookies
        .iter()
        .find(is_session)
        .or(cookies.first())
        .map(|pair| SecretString::from((*pair).to_owned()))
}

fn add_form(torrent: &AddTorrent, api: ApiVersion) -> reqwest::multipart::Form {
    use reqwest::multipart::{Form, Part};

    let mut form = match &torrent.source {
        AddSource::Magnets(magnets) => Form::new().text(
            "urls",
            magnets
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        AddSource::File(file) => Form::new().part(
            "torrents",
            Part::bytes(file.bytes().to_vec())
                .file_name(format!("{}.torrent", file.info_hash()))
                .mime_str("application/x-bittorrent")
                .expect("static MIME type is valid"),
        ),
    };
    if let Some(save_path) = &torrent.save_path {
        // With automatic torrent management on, qBittorrent would ignore the
        // path and use the category's.
        form = form
            .text("savepath", save_path.clone())
            .text("autoTMM", "false");
    }
    if let Some(category) = &torrent.category {
        form = form.text("category", category.clone());
    }
    if let Some(rename) = &torrent.rename {
        form = form.text("rename", rename.clone());
    }
    // 5.x ignores `paused` and 4.x ignores `stopped`; both are harmless.
    let paused = torrent.paused.to_string();
    form = form.text("paused", paused.clone()).text("stopped", paused);
    if torrent.stop_when_metadata_arrives {
        form = form.text("stopCondition", "MetadataReceived");
    }
    if api.uses_start_stop() {
        form = form.text("addToTopOfQueue", "false");
    }
    form
}

fn join_hashes(hashes: &[InfoHash]) -> String {
    hashes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("|")
}

/// Describes a transport failure without the URL reqwest puts in its text.
fn transport_error(error: reqwest::Error) -> QbittorrentError {
    let why = super::describe_transport_error(&error);
    if error.is_timeout() || error.is_connect() {
        return QbittorrentError::Unavailable(why.to_owned());
    }
    let cause = crate::text::upstream(&root_cause(&error));
    QbittorrentError::Unavailable(format!("{why} ({cause})"))
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// Whether `url` names this machine.
fn on_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

async fn check_status(response: Response) -> Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let detail = crate::text::upstream(&body);
    Err(match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            QbittorrentError::Unauthorized(LoginRefusal::Forbidden)
        }
        StatusCode::NOT_FOUND => QbittorrentError::NotFound,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            QbittorrentError::Rejected("not a valid torrent file".to_owned())
        }
        StatusCode::BAD_REQUEST | StatusCode::CONFLICT => {
            QbittorrentError::Rejected(if detail.is_empty() {
                status.to_string()
            } else {
                detail
            })
        }
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
            QbittorrentError::Unavailable(format!("answered {status}"))
        }
        _ => QbittorrentError::Other(format!("answered {status}")),
    })
}

async fn text(response: Response) -> Result<String> {
    response.text().await.map_err(transport_error)
}

async fn json<T: serde::de::DeserializeOwned>(response: Response) -> Result<T> {
    let bytes = response.bytes().await.map_err(transport_error)?;
    serde_json::from_slice(&bytes)
        .map_err(|error| QbittorrentError::Other(format!("invalid JSON: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_counts_as_loopback() {
        for url in [
            "http://127.0.0.1:8080/",
            "http://127.3.2.1/",
            "http://[::1]:8080/",
            "http://localhost:8080/",
            "http://LocalHost/qbt/",
        ] {
            assert!(on_loopback(&url.parse().unwrap()), "{url}");
        }
        for url in [
            "http://192.168.1.10:8080/",
            "http://[fe80::1]/",
            "http://nas.local:8080/",
            "http://localhost.example.com/",
        ] {
            assert!(!on_loopback(&url.parse().unwrap()), "{url}");
        }
    }
}
