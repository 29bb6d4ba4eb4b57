//! A torrent's share limits, as the schema shows and takes them: each
//! limit is qBittorrent's global one, none, or a value of its own.

use async_graphql::{Enum, InputObject, SimpleObject};

use crate::clients::qbittorrent::{self, ShareLimit};
use crate::error::AppError;

/// Which limit applies.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ShareLimitMode {
    /// qBittorrent's global limit (its preferences).
    Global,
    /// No limit.
    Unlimited,
    /// The torrent's own value.
    Limited,
}

/// When qBittorrent stops seeding a torrent (or does what its
/// preferences say on reaching a limit).
#[derive(SimpleObject)]
pub struct ShareLimits {
    /// Uploaded over downloaded.
    ratio: RatioLimit,
    /// Minutes of seeding.
    seeding_time: TimeLimit,
    /// Minutes of seeding without any upload; null on qBittorrent before
    /// 4.6, which has no such limit.
    inactive_seeding_time: Option<TimeLimit>,
}

/// A ratio limit.
#[derive(SimpleObject)]
pub struct RatioLimit {
    /// Which limit applies.
    mode: ShareLimitMode,
    /// The limit, when `mode` is `LIMITED`.
    ratio: Option<f64>,
}

/// A time limit.
#[derive(SimpleObject)]
pub struct TimeLimit {
    /// Which limit applies.
    mode: ShareLimitMode,
    /// The limit, when `mode` is `LIMITED`.
    minutes: Option<i64>,
}

/// New share limits. qBittorrent sets all of them at once: a limit left
/// out becomes `GLOBAL`.
#[derive(InputObject)]
pub struct ShareLimitsInput {
    /// Uploaded over downloaded: 0 to 9998.
    ratio: Option<RatioLimitInput>,
    /// Minutes of seeding: 0 to 525600 (a year).
    seeding_time: Option<TimeLimitInput>,
    /// Minutes of seeding without any upload: 0 to 525600. Only on
    /// qBittorrent 4.6 and later; leave it out before.
    inactive_seeding_time: Option<TimeLimitInput>,
}

/// A ratio limit to set.
#[derive(InputObject)]
pub struct RatioLimitInput {
    /// Which limit applies.
    mode: ShareLimitMode,
    /// Required with `LIMITED`, refused otherwise.
    ratio: Option<f64>,
}

/// A time limit to set.
#[derive(InputObject)]
pub struct TimeLimitInput {
    /// Which limit applies.
    mode: ShareLimitMode,
    /// Required with `LIMITED`, refused otherwise.
    minutes: Option<i64>,
}

impl ShareLimits {
    pub fn of(torrent: &qbittorrent::Torrent) -> Self {
        Self {
            ratio: RatioLimit::from(ShareLimit::from_ratio(torrent.ratio_limit)),
            seeding_time: TimeLimit::from(ShareLimit::from_minutes(torrent.seeding_time_limit)),
            inactive_seeding_time: torrent
                .inactive_seeding_time_limit
                .map(|minutes| TimeLimit::from(ShareLimit::from_minutes(minutes))),
        }
    }
}

impl From<ShareLimit<f64>> for RatioLimit {
    fn from(limit: ShareLimit<f64>) -> Self {
        let (mode, ratio) = split(limit);
        Self { mode, ratio }
    }
}

impl From<ShareLimit<i64>> for TimeLimit {
    fn from(limit: ShareLimit<i64>) -> Self {
        let (mode, minutes) = split(limit);
        Self { mode, minutes }
    }
}

/// The three limits asked for, `GLOBAL` where left out.
pub struct RequestedShareLimits {
    pub ratio: ShareLimit<f64>,
    pub seeding_minutes: ShareLimit<i64>,
    pub inactive_seeding_minutes: ShareLimit<i64>,
}

impl TryFrom<ShareLimitsInput> for RequestedShareLimits {
    type Error = AppError;

    fn try_from(input: ShareLimitsInput) -> Result<Self, AppError> {
        let time = |limit: Option<TimeLimitInput>, field| match limit {
            Some(limit) => join(limit.mode, limit.minutes, field),
            None => Ok(ShareLimit::Global),
        };
        Ok(Self {
            ratio: match input.ratio {
                Some(limit) => join(limit.mode, limit.ratio, "ratio.ratio")?,
                None => ShareLimit::Global,
            },
            seeding_minutes: time(input.seeding_time, "seedingTime.minutes")?,
            inactive_seeding_minutes: time(
                input.inactive_seeding_time,
                "inactiveSeedingTime.minutes",
            )?,
        })
    }
}

fn split<T>(limit: ShareLimit<T>) -> (ShareLimitMode, Option<T>) {
    match limit {
        ShareLimit::Global => (ShareLimitMode::Global, None),
        ShareLimit::Unlimited => (ShareLimitMode::Unlimited, None),
        ShareLimit::Limited(value) => (ShareLimitMode::Limited, Some(value)),
    }
}

fn join<T>(mode: ShareLimitMode, value: Option<T>, field: &str) -> Result<ShareLimit<T>, AppError> {
    match (mode, value) {
        (ShareLimitMode::Global, None) => Ok(ShareLimit::Global),
        (ShareLimitMode::Unlimited, None) => Ok(ShareLimit::Unlimited),
        (ShareLimitMode::Limited, Some(value)) => Ok(ShareLimit::Limited(value)),
        (ShareLimitMode::Limited, None) => Err(AppError::BadUserInput(format!(
            "{field} is required with mode LIMITED"
        ))),
        (_, Some(_)) => Err(AppError::BadUserInput(format!(
            "{field} goes only with mode LIMITED"
        ))),
    }
}
