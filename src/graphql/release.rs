//! `ReleaseFacts`: what a release name says (title, episode, resolution,
//! source, codecs...), on search results and torrents alike.

use async_graphql::{Enum, SimpleObject};

use crate::release;

/// What a release is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "release::ReleaseKind")]
pub enum ReleaseKind {
    /// A film.
    Movie,
    /// One or more episodes, or whole seasons, of a series.
    Episode,
    /// Not a video: software, music, books (by the name's extension, or
    /// for a search result by the indexer's category).
    Other,
}

/// The picture's resolution, in the steps people choose between.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "release::Resolution")]
pub enum Resolution {
    /// Below 720 lines (480p, 576p...).
    Sd,
    /// 720p.
    #[graphql(name = "HD_720P")]
    Hd720p,
    /// 1080p or 1080i.
    #[graphql(name = "HD_1080P")]
    Hd1080p,
    /// 1440p.
    #[graphql(name = "QHD_1440P")]
    Qhd1440p,
    /// 2160p ("4K").
    #[graphql(name = "UHD_2160P")]
    Uhd2160p,
    /// 4320p ("8K").
    #[graphql(name = "UHD_4320P")]
    Uhd4320p,
}

/// Where the picture comes from.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "release::ReleaseSource")]
pub enum ReleaseSource {
    /// Filmed in a cinema (CAM, HDCAM).
    Cam,
    /// Filmed in a cinema with the sound taken directly (TS, HDTS).
    Telesync,
    /// Copied from the film reel (TC).
    Telecine,
    /// An unfinished version (WORKPRINT).
    Workprint,
    /// A copy sent to reviewers (SCR, DVDSCR).
    Screener,
    /// From a video tape.
    Vhs,
    /// From a DVD.
    Dvd,
    /// Recorded from television (HDTV, PDTV, satellite).
    Hdtv,
    /// Re-encoded from a streaming service.
    Webrip,
    /// Downloaded untouched from a streaming service (WEB-DL, WEB).
    WebDl,
    /// Encoded from a Blu-ray (BluRay, BDRip, UHD BluRay).
    Bluray,
    /// The Blu-ray's own streams, untouched.
    Remux,
}

/// How the picture is compressed.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "release::VideoCodec")]
pub enum VideoCodec {
    /// H.264 / AVC (x264).
    H264,
    /// H.265 / HEVC (x265).
    H265,
    /// AV1.
    #[graphql(name = "AV1")]
    Av1,
    /// VP9.
    #[graphql(name = "VP9")]
    Vp9,
    /// Xvid.
    Xvid,
    /// DivX.
    Divx,
    /// MPEG-2.
    #[graphql(name = "MPEG2")]
    Mpeg2,
    /// VC-1.
    #[graphql(name = "VC1")]
    Vc1,
    /// Any other (H.263, VP8, RealVideo...).
    Other,
}

/// A high-dynamic-range format.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "release::HdrFormat")]
pub enum HdrFormat {
    /// HDR10 (also a bare `HDR`).
    #[graphql(name = "HDR10")]
    Hdr10,
    /// HDR10+.
    #[graphql(name = "HDR10_PLUS")]
    Hdr10Plus,
    /// Dolby Vision (DV, DoVi).
    DolbyVision,
    /// Hybrid log-gamma.
    Hlg,
}

/// How the sound is compressed.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "release::AudioCodec")]
pub enum AudioCodec {
    /// AAC.
    Aac,
    /// Dolby Digital (AC3, DD).
    #[graphql(name = "AC3")]
    Ac3,
    /// Dolby Digital Plus (EAC3, DDP).
    #[graphql(name = "EAC3")]
    Eac3,
    /// Dolby TrueHD.
    TrueHd,
    /// Dolby Atmos.
    Atmos,
    /// DTS.
    Dts,
    /// DTS-HD (High Resolution or Master Audio).
    DtsHd,
    /// DTS:X.
    DtsX,
    /// FLAC.
    Flac,
    /// MP3.
    #[graphql(name = "MP3")]
    Mp3,
    /// Opus.
    Opus,
    /// Vorbis.
    Vorbis,
    /// Uncompressed (PCM, LPCM).
    Pcm,
    /// Any other.
    Other,
}

/// What a release name says about the release, read by torrentql (with
/// hunch, a port of guessit). Unknown facts are null or empty.
#[derive(SimpleObject, Clone)]
pub struct ReleaseFacts {
    /// The film's or series' title, words separated by spaces.
    pub(super) title: Option<String>,
    /// The year the name gives.
    pub(super) year: Option<i32>,
    /// What it is.
    kind: ReleaseKind,
    /// Season numbers: one for an episode, several for a multi-season pack.
    pub(super) seasons: Vec<i32>,
    /// Episode numbers; without a season, anime-style absolute numbers.
    pub(super) episodes: Vec<i32>,
    /// Whole seasons with no episode named (`S02`, `Season 2 Complete`).
    season_pack: bool,
    /// The picture's resolution.
    resolution: Option<Resolution>,
    /// Where the picture comes from.
    source: Option<ReleaseSource>,
    /// The video codec.
    video_codec: Option<VideoCodec>,
    /// High-dynamic-range formats; a Dolby Vision release often has HDR10 too.
    hdr: Vec<HdrFormat>,
    /// Audio codecs (TrueHD with Atmos is two).
    audio_codecs: Vec<AudioCodec>,
    /// Audio channels: `2.0`, `5.1`, `7.1`.
    audio_channels: Option<String>,
    /// Spoken languages named in it, in English (`French`); `Multi` for `MULTi`.
    languages: Vec<String>,
    /// Subtitle languages named in it, in English.
    subtitle_languages: Vec<String>,
    /// Who made the release.
    release_group: Option<String>,
    /// `Extended`, `Director's Cut`, `Final Cut`, `IMAX`...
    edition: Option<String>,
    /// A PROPER: another group's fix of a release.
    proper: bool,
    /// A REPACK: the group's own fix of its release.
    repack: bool,
    /// Stereoscopic 3D.
    three_d: bool,
    /// A sample, not the release.
    sample: bool,
    /// Subtitles burnt into the picture (HC, HCSUB, KORSUB).
    hardcoded_subtitles: bool,
}

impl From<release::ReleaseFacts> for ReleaseFacts {
    fn from(facts: release::ReleaseFacts) -> Self {
        let numbers = |numbers: Vec<u32>| {
            numbers
                .into_iter()
                .map(|number| i32::try_from(number).unwrap_or(i32::MAX))
                .collect()
        };
        Self {
            title: facts.title,
            year: facts.year,
            kind: facts.kind.into(),
            seasons: numbers(facts.seasons),
            episodes: numbers(facts.episodes),
            season_pack: facts.season_pack,
            resolution: facts.resolution.map(Into::into),
            source: facts.source.map(Into::into),
            video_codec: facts.video_codec.map(Into::into),
            hdr: facts.hdr.into_iter().map(Into::into).collect(),
            audio_codecs: facts.audio_codecs.into_iter().map(Into::into).collect(),
            audio_channels: facts.audio_channels,
            languages: facts.languages,
            subtitle_languages: facts.subtitle_languages,
            release_group: facts.release_group,
            edition: facts.edition,
            proper: facts.proper,
            repack: facts.repack,
            three_d: facts.three_d,
            sample: facts.sample,
            hardcoded_subtitles: facts.hardcoded_subtitles,
        }
    }
}
