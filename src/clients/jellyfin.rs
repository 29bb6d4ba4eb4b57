//! Client for Jellyfin's HTTP API (10.8 to 12.0): libraries, the films and
//! episodes in them, "media updated" notices, and logging users in.
//!
//! Authentication uses `Authorization: MediaBrowser ...`, the one form
//! every version accepts (`X-Emby-Token` and `api_key` are deprecated and
//! off by default in 12.0). Jellyfin writes PascalCase JSON and omits null
//! fields, so every field but the name is optional. Jellyfin may sit under
//! a base path (`https://host/jellyfin/`).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use url::Url;

/// Why a Jellyfin call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JellyfinError {
    /// 401 to the API key: it is wrong or revoked.
    #[error("Jellyfin refused the API key")]
    BadApiKey,
    /// 403 to the API key: it lacks administrator rights.
    #[error("the Jellyfin API key lacks administrator rights")]
    NotAdminKey,
    /// 401 at login.
    #[error("wrong username or password")]
    BadCredentials,
    /// 403 at login.
    #[error("this Jellyfin user is disabled")]
    UserDisabled,
    /// 503 while Jellyfin loads.
    #[error("Jellyfin is starting up")]
    Starting,
    /// Could not connect, timed out, or another 5xx.
    #[error("Jellyfin is unavailable: {0}")]
    Unavailable(String),
    /// Anything else unexpected.
    #[error("unexpected answer from Jellyfin: {0}")]
    Other(String),
}

/// A library ("virtual folder") as Jellyfin lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VirtualFolder {
    /// The library's name.
    pub name: String,
    /// Folders, as Jellyfin sees them.
    #[serde(default)]
    pub locations: Vec<String>,
    /// `movies`, `tvshows`, `music`, ...; absent for mixed libraries.
    #[serde(default)]
    pub collection_type: Option<String>,
    /// Jellyfin's id of the library.
    #[serde(default)]
    pub item_id: Option<String>,
}

/// A film, series or episode in Jellyfin's libraries (`GET /Items`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LibraryItem {
    /// Jellyfin's id of the item.
    pub id: String,
    /// The film's, series' or episode's name.
    pub name: String,
    /// `Movie`, `Series` or `Episode`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The year it came out.
    #[serde(default)]
    pub production_year: Option<i32>,
    /// `Imdb`, `Tmdb`, `Tvdb`... to the id there; absent ones omitted.
    #[serde(default, deserialize_with = "provider_ids")]
    pub provider_ids: Vec<(String, String)>,
    /// For an episode: its series' id.
    #[serde(default)]
    pub series_id: Option<String>,
    /// For an episode: its series' name.
    #[serde(default)]
    pub series_name: Option<String>,
    /// For an episode: its season's number.
    #[serde(default)]
    pub parent_index_number: Option<u32>,
    /// For an episode: its number in the season.
    #[serde(default)]
    pub index_number: Option<u32>,
    /// For a file holding several episodes: the last one's number.
    #[serde(default)]
    pub index_number_end: Option<u32>,
    /// Where it is on Jellyfin's disk.
    #[serde(default)]
    pub path: Option<String>,
}

/// `ProviderIds` with empty or null values left out (Jellyfin writes
/// `"Tmdb": ""` for an id that was cleared).
fn provider_ids<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, String)>, D::Error> {
    let ids: Option<std::collections::BTreeMap<String, Option<String>>> =
        Deserialize::deserialize(deserializer)?;
    Ok(ids
        .into_iter()
        .flatten()
        .filter_map(|(provider, id)| Some((provider, id.filter(|id| !id.trim().is_empty())?)))
        .collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ItemsAnswer {
    #[serde(default)]
    items: Vec<LibraryItem>,
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    /// The Jellyfin user name.
    pub user_name: String,
    /// Whether the user is a Jellyfin administrator.
    pub is_administrator: bool,
    /// The Jellyfin session's token; log it out when done.
    pub access_token: SecretString,
}

/// Identifies torrentql to Jellyfin at login (10.9+ answers 400 without
/// all four fields).
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    /// Stable per install.
    pub device_id: String,
    /// Jellyfin's version, e.g. `10.10.7`.
    pub version: String,
}

/// A client for one Jellyfin server.
pub struct JellyfinClient {
    http: reqwest::Client,
    /// Ends with `/`, so endpoint paths join under a base path.
    base_url: Url,
    api_key: SecretString,
    identity: ClientIdentity,
}

impl JellyfinClient {
    /// A client for the Jellyfin at `base_url`, calling with `api_key`.
    pub fn new(
        base_url: &Url,
        api_key: SecretString,
        timeout: Duration,
        identity: ClientIdentity,
    ) -> reqwest::Result<Self> {
        let mut base_url = base_url.clone();
        if !base_url.path().ends_with('/') {
            base_url.set_path(&format!("{}/", base_url.path()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("torrentql/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base_url,
            api_key,
            identity,
        })
    }

    /// `GET /Library/VirtualFolders`.
    pub async fn virtual_folders(&self) -> Result<Vec<VirtualFolder>, JellyfinError> {
        let body = self
            .get_with_key(self.endpoint("Library/VirtualFolders"))
            .await?;
        parse_virtual_folders(&body)
    }

    /// `GET /Items`: every film, series and episode, with the facts to
    /// match a release to them (provider ids, year, season and episode
    /// numbers, path) and nothing else (no images, no user data).
    /// Jellyfin 10.8 needs `userId` (an API key has no user); 10.9 and
    /// later take it too, and answer for that user's view.
    pub async fn library_items(&self, user_id: &str) -> Result<Vec<LibraryItem>, JellyfinError> {
        let mut url = self.endpoint("Items");
        url.query_pairs_mut()
            .append_pair("userId", user_id)
            .append_pair("Recursive", "true")
            .append_pair("IncludeItemTypes", "Movie,Series,Episode")
            .append_pair("Fields", "ProviderIds,Path")
            .append_pair("EnableImages", "false")
            .append_pair("EnableUserData", "false")
            .append_pair("EnableTotalRecordCount", "false");
        let body = self.get_with_key(url).await?;
        parse_items(&body)
    }

    /// `GET /Users`: the id of the first enabled administrator, whose view
    /// of the libraries is all of them.
    pub async fn administrator_id(&self) -> Result<String, JellyfinError> {
        let body = self.get_with_key(self.endpoint("Users")).await?;
        parse_administrator_id(&body)
    }

    /// `POST /Library/Media/Updated`: Jellyfin rescans the nearest folder
    /// it knows (after about a minute).
    pub async fn media_created(&self, path: &str) -> Result<(), JellyfinError> {
        let body = json!({ "Updates": [{ "Path": path, "UpdateType": "Created" }] });
        let response = self
            .http
            .post(self.endpoint("Library/Media/Updated"))
            .header(AUTHORIZATION, self.token_header(&self.api_key))
            .json(&body)
            .send()
            .await
            .map_err(|error| transport_error(&error))?;
        api_key_status(response).await.map(drop)
    }

    /// `POST /Users/AuthenticateByName`.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<LoggedIn, JellyfinError> {
        let body = json!({ "Username": username, "Pw": password.expose_secret() });
        let response = self
            .http
            .post(self.endpoint("Users/AuthenticateByName"))
            .header(AUTHORIZATION, self.client_header(None))
            .json(&body)
            .send()
            .await
            .map_err(|error| transport_error(&error))?;
        match response.status() {
            StatusCode::UNAUTHORIZED => return Err(JellyfinError::BadCredentials),
            StatusCode::FORBIDDEN => return Err(JellyfinError::UserDisabled),
            status if status == StatusCode::SERVICE_UNAVAILABLE => {
                return Err(JellyfinError::Starting);
            }
            status if status.is_server_error() => {
                return Err(JellyfinError::Unavailable(format!("answered {status}")));
            }
            status if !status.is_success() => {
                return Err(JellyfinError::Other(format!("login answered {status}")));
            }
            _ => {}
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| transport_error(&error))?;
        parse_login(&body)
    }

    /// `POST /Sessions/Logout` for a session from [`JellyfinClient::authenticate`].
    pub async fn logout(&self, access_token: &SecretString) -> Result<(), JellyfinError> {
        let response = self
            .http
            .post(self.endpoint("Sessions/Logout"))
            .header(AUTHORIZATION, self.client_header(Some(access_token)))
            .send()
            .await
            .map_err(|error| transport_error(&error))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(JellyfinError::Other(format!(
                "logout answered {}",
                response.status()
            )))
        }
    }

    /// `GET url` with the API key: the body of a success.
    async fn get_with_key(&self, url: Url) -> Result<bytes::Bytes, JellyfinError> {
        let response = self
            .http
            .get(url)
            .header(AUTHORIZATION, self.token_header(&self.api_key))
            .send()
            .await
            .map_err(|error| transport_error(&error))?;
        api_key_status(response)
            .await?
            .bytes()
            .await
            .map_err(|error| transport_error(&error))
    }

    fn endpoint(&self, path: &str) -> Url {
        self.base_url
            .join(path)
            .expect("endpoint paths are static and valid")
    }

    fn token_header(&self, token: &SecretString) -> HeaderValue {
        super::sensitive_header(&format!("MediaBrowser Token=\"{}\"", token.expose_secret()))
    }

    fn client_header(&self, token: Option<&SecretString>) -> HeaderValue {
        let mut value = format!(
            "MediaBrowser Client=\"torrentql\", Device=\"torrentql\", DeviceId=\"{}\", Version=\"{}\"",
            self.identity.device_id, self.identity.version
        );
        if let Some(token) = token {
            value.push_str(&format!(", Token=\"{}\"", token.expose_secret()));
        }
        super::sensitive_header(&value)
    }
}

/// Reads a `GET /Library/VirtualFolders` answer.
pub fn parse_virtual_folders(body: &[u8]) -> Result<Vec<VirtualFolder>, JellyfinError> {
    serde_json::from_slice(body)
        .map_err(|error| JellyfinError::Other(format!("libraries are not valid JSON: {error}")))
}

/// Reads a successful `POST /Users/AuthenticateByName` answer; a disabled
/// user is refused here too, whatever the status said.
pub fn parse_login(body: &[u8]) -> Result<LoggedIn, JellyfinError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        user: User,
        access_token: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct User {
        name: String,
        #[serde(default)]
        policy: Option<Policy>,
    }
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "PascalCase")]
    struct Policy {
        #[serde(default)]
        is_administrator: bool,
        #[serde(default)]
        is_disabled: bool,
    }

    let answer: Answer = serde_json::from_slice(body).map_err(|error| {
        JellyfinError::Other(format!("login answer is not valid JSON: {error}"))
    })?;
    let policy = answer.user.policy.unwrap_or_default();
    if policy.is_disabled {
        return Err(JellyfinError::UserDisabled);
    }
    Ok(LoggedIn {
        user_name: answer.user.name,
        is_administrator: policy.is_administrator,
        access_token: SecretString::from(answer.access_token),
    })
}

/// Reads a `GET /Users` answer: the first enabled administrator's id.
pub fn parse_administrator_id(body: &[u8]) -> Result<String, JellyfinError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct User {
        id: String,
        #[serde(default)]
        policy: Option<Policy>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Policy {
        #[serde(default)]
        is_administrator: bool,
        #[serde(default)]
        is_disabled: bool,
    }
    let users: Vec<User> = serde_json::from_slice(body)
        .map_err(|error| JellyfinError::Other(format!("users are not valid JSON: {error}")))?;
    users
        .into_iter()
        .find(|user| {
            user.policy
                .as_ref()
                .is_some_and(|policy| policy.is_administrator && !policy.is_disabled)
        })
        .map(|user| user.id)
        .ok_or_else(|| JellyfinError::Other("Jellyfin lists no enabled administrator".to_owned()))
}

/// Reads a `GET /Items` answer.
pub fn parse_items(body: &[u8]) -> Result<Vec<LibraryItem>, JellyfinError> {
    serde_json::from_slice::<ItemsAnswer>(body)
        .map(|answer| answer.items)
        .map_err(|error| JellyfinError::Other(format!("library items are not valid JSON: {error}")))
}

/// Maps the status of a call made with the API key.
async fn api_key_status(response: reqwest::Response) -> Result<reqwest::Response, JellyfinError> {
    match response.status() {
        status if status.is_success() => Ok(response),
        StatusCode::UNAUTHORIZED => Err(JellyfinError::BadApiKey),
        StatusCode::FORBIDDEN => Err(JellyfinError::NotAdminKey),
        StatusCode::SERVICE_UNAVAILABLE => Err(JellyfinError::Starting),
        status if status.is_server_error() => {
            Err(JellyfinError::Unavailable(format!("answered {status}")))
        }
        status => Err(JellyfinError::Other(format!("answered {status}"))),
    }
}

fn transport_error(error: &reqwest::Error) -> JellyfinError {
    JellyfinError::Unavailable(super::describe_transport_error(error).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_virtual_folders_with_omitted_fields() {
        let folders = parse_virtual_folders(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/upstream/jellyfin-virtualfolders-10.8-four-libraries.json"
        )))
        .unwrap();
        assert_eq!(folders.len(), 4);
        assert_eq!(folders[1].name, "Movies");
        assert_eq!(folders[1].locations, ["/media/movies"]);
        assert_eq!(folders[3].collection_type.as_deref(), Some("homevideos"));
        let bare = parse_virtual_folders(br#"[{"Name":"Mixed"}]"#).unwrap();
        assert_eq!(bare[0].collection_type, None);
        assert!(bare[0].locations.is_empty());
    }

    #[test]
    fn reads_a_login_for_a_user_and_for_an_administrator() {
        let user = parse_login(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/upstream/jellyfin-authenticatebyname.json"
        )))
        .unwrap();
        assert_eq!(user.user_name, "demo");
        assert!(!user.is_administrator);
        assert_eq!(
            user.access_token.expose_secret(),
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
        );
        let admin = parse_login(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/upstream/jellyfin-authenticatebyname-admin-10.11-constructed.json"
        )))
        .unwrap();
        assert!(admin.is_administrator);
    }

    #[test]
    fn a_login_answer_for_a_disabled_user_is_refused() {
        let body = br#"{"User":{"Name":"x","Policy":{"IsDisabled":true}},"AccessToken":"t"}"#;
        assert_eq!(parse_login(body).unwrap_err(), JellyfinError::UserDisabled);
    }

    #[test]
    fn a_login_answer_without_a_policy_is_a_plain_user() {
        let login = parse_login(br#"{"User":{"Name":"x"},"AccessToken":"t"}"#).unwrap();
        assert!(!login.is_administrator);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for body in [&b""[..], b"Error processing request.", b"{}", b"[{}]"] {
            assert!(matches!(
                parse_virtual_folders(body),
                Err(JellyfinError::Other(_))
            ));
            assert!(matches!(parse_login(body), Err(JellyfinError::Other(_))));
        }
    }
}
