//! Logging in with a Jellyfin account: an administrator gets a torrentql
//! admin token. Attempts are rate limited per client address and per
//! username, and the Jellyfin session is logged out again at once.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use secrecy::SecretString;

use super::ServiceError;
use crate::auth::{ADMIN_ROLE, Authenticator, Claims};
use crate::clients::jellyfin::JellyfinClient;

/// Login attempts allowed per minute per client address.
pub const ATTEMPTS_PER_MINUTE: u32 = 5;

/// Attempts per username before waiting: below Jellyfin's own lockout (3
/// failures for a user), then one every five minutes.
const USERNAME_BURST: u32 = 2;
const USERNAME_REFILL: std::time::Duration = std::time::Duration::from_secs(300);

/// A token issued at login.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The signed JWT.
    pub token: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// What it says.
    pub claims: Claims,
}

/// Turns a Jellyfin administrator's log-in into a torrentql token.
pub struct LoginService {
    jellyfin: Option<Arc<JellyfinClient>>,
    auth: Arc<Authenticator>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_username: DefaultKeyedRateLimiter<String>,
}

impl LoginService {
    /// Log-ins against `jellyfin` (none when not configured), tokens from `auth`.
    pub fn new(jellyfin: Option<Arc<JellyfinClient>>, auth: Arc<Authenticator>) -> Self {
        let per_address =
            Quota::per_minute(NonZeroU32::new(ATTEMPTS_PER_MINUTE).expect("not zero"));
        let per_username = Quota::with_period(USERNAME_REFILL)
            .expect("not zero")
            .allow_burst(NonZeroU32::new(USERNAME_BURST).expect("not zero"));
        Self {
            jellyfin,
            auth,
            by_address: RateLimiter::keyed(per_address),
            by_username: RateLimiter::keyed(per_username),
        }
    }

    /// Checks the credentials with Jellyfin and issues an admin token to an
    /// administrator.
    pub async fn login(
        &self,
        username: &str,
        password: SecretString,
        client: Option<IpAddr>,
    ) -> Result<IssuedToken, ServiceError> {
        let Some(jellyfin) = &self.jellyfin else {
            return Err(ServiceError::NotConfigured(
                "login needs Jellyfin: set jellyfin.url and jellyfin.api_key".to_owned(),
            ));
        };
        let username = username.trim();
        if username.is_empty() {
            return Err(ServiceError::InvalidInput(
                "username must not be empty".to_owned(),
            ));
        }
        // Forget idle keys so the limiters' memory stays bounded.
        self.by_address.retain_recent();
        self.by_username.retain_recent();
        // The username budget is only spent by attempts the address budget
        // lets through.
        let allowed = client.is_none_or(|address| self.by_address.check_key(&address).is_ok())
            && self.by_username.check_key(&username.to_lowercase()).is_ok();
        if !allowed {
            tracing::warn!(client = ?client, "login attempts rate limited");
            return Err(ServiceError::RateLimited(
                "too many login attempts; try again in a few minutes".to_owned(),
            ));
        }

        let logged_in = jellyfin.authenticate(username, &password).await;
        let logged_in = match logged_in {
            Ok(logged_in) => logged_in,
            Err(error) => {
                tracing::info!(%error, client = ?client, "Jellyfin login failed");
                return Err(error.into());
            }
        };
        let jellyfin_session = logged_in.access_token.clone();
        let client_for_logout = Arc::clone(jellyfin);
        tokio::spawn(async move {
            if let Err(error) = client_for_logout.logout(&jellyfin_session).await {
                tracing::warn!(%error, "cannot log the Jellyfin session out");
            }
        });
        if !logged_in.is_administrator {
            return Err(ServiceError::NotAdministrator(logged_in.user_name));
        }
        let (token, expires_at) = self
            .auth
            .issue(&logged_in.user_name, &[ADMIN_ROLE.to_owned()], None)
            .map_err(|error| ServiceError::NotConfigured(format!("{error:#}")))?;
        let claims = self
            .auth
            .verify(&token)
            .map_err(|_| ServiceError::NotConfigured("cannot verify an issued token".to_owned()))?;
        tracing::info!(user = %logged_in.user_name, "issued an admin token after a Jellyfin login");
        Ok(IssuedToken {
            token,
            expires_at,
            claims,
        })
    }
}
