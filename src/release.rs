//! Release names read as facts: what `Show.Name.S02E05.1080p.WEB-DL.DDP5.1.H.264-GROUP`
//! is (title, episode, resolution, source, codecs...), for ranking search
//! results and matching them to a library. Pure code, no I/O.
//!
//! [hunch](https://docs.rs/hunch) (a Rust port of guessit) reads the name;
//! this module maps its open vocabulary onto closed enums of our own, so
//! its types stay out of the schema, and adds the few facts it does not
//! tell apart: a `REPACK` from a `PROPER`, HLG, `HC` hard-coded subtitles,
//! a `Part Two` that belongs to the title, "The Final Cut" as an edition,
//! a tracker tag glued to the release group, and names that are no video
//! at all (an `.iso`).

use std::sync::LazyLock;

use hunch::{MediaType, Pipeline, Property};
use serde::Serialize;

/// One pipeline for the process: building it compiles every rule.
static PIPELINE: LazyLock<Pipeline> = LazyLock::new(Pipeline::new);

/// Containers and extensions that are not video: such a name is
/// [`ReleaseKind::Other`] whatever else it looks like.
const NOT_VIDEO: &[&str] = &[
    "iso", "exe", "dmg", "zip", "rar", "7z", "tar", "gz", "mp3", "flac", "m4a", "m4b", "ogg",
    "wav", "epub", "pdf", "mobi", "azw3", "cbr", "cbz", "apk", "deb", "rpm", "msi",
];

/// What a release is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseKind {
    /// A film.
    Movie,
    /// One or more episodes, or whole seasons, of a series.
    Episode,
    /// Not a video: the name ends in `.iso`, `.zip`, `.flac`, `.epub`...
    Other,
}

/// The picture height, in the steps people choose between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// Below 720 lines (480p, 576p...).
    Sd,
    /// 720p.
    Hd720p,
    /// 1080p or 1080i.
    Hd1080p,
    /// 1440p.
    Qhd1440p,
    /// 2160p ("4K").
    Uhd2160p,
    /// 4320p ("8K").
    Uhd4320p,
}

impl Resolution {
    /// Every resolution, lowest first.
    pub const ALL: [Self; 6] = [
        Self::Sd,
        Self::Hd720p,
        Self::Hd1080p,
        Self::Qhd1440p,
        Self::Uhd2160p,
        Self::Uhd4320p,
    ];

    /// The name used in the configuration and in the table of tests:
    /// `sd`, `720p`, `1080p`, `1440p`, `2160p`, `4320p`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sd => "sd",
            Self::Hd720p => "720p",
            Self::Hd1080p => "1080p",
            Self::Qhd1440p => "1440p",
            Self::Uhd2160p => "2160p",
            Self::Uhd4320p => "4320p",
        }
    }

    /// From a screen size such as `1080p`, `1080i`, `576p` or `4K`.
    fn of_screen_size(size: &str) -> Option<Self> {
        let size = size.to_ascii_lowercase();
        match size.as_str() {
            "4k" => return Some(Self::Uhd2160p),
            "8k" => return Some(Self::Uhd4320p),
            _ => {}
        }
        let lines: u32 = size
            .trim_end_matches(['p', 'i'])
            .rsplit('x')
            .next()?
            .parse()
            .ok()?;
        Some(match lines {
            0..700 => Self::Sd,
            700..1000 => Self::Hd720p,
            1000..1300 => Self::Hd1080p,
            1300..2000 => Self::Qhd1440p,
            2000..4000 => Self::Uhd2160p,
            _ => Self::Uhd4320p,
        })
    }
}

/// Where the picture comes from, roughly from worst to best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// From a DVD (DVDRip, DVD5, DVD9).
    Dvd,
    /// Recorded from television (HDTV, PDTV, satellite, pay-per-view).
    Hdtv,
    /// Re-encoded from a streaming service.
    Webrip,
    /// Downloaded untouched from a streaming service (WEB-DL, WEB).
    WebDl,
    /// Encoded from a Blu-ray (BluRay, BDRip, UHD BluRay).
    Bluray,
    /// The Blu-ray's own streams, untouched (Remux).
    Remux,
}

impl ReleaseSource {
    /// Every source.
    pub const ALL: [Self; 12] = [
        Self::Cam,
        Self::Telesync,
        Self::Telecine,
        Self::Workprint,
        Self::Screener,
        Self::Vhs,
        Self::Dvd,
        Self::Hdtv,
        Self::Webrip,
        Self::WebDl,
        Self::Bluray,
        Self::Remux,
    ];

    /// The name used in the configuration: `cam`, `web_dl`, `remux`...
    pub fn name(self) -> &'static str {
        match self {
            Self::Cam => "cam",
            Self::Telesync => "telesync",
            Self::Telecine => "telecine",
            Self::Workprint => "workprint",
            Self::Screener => "screener",
            Self::Vhs => "vhs",
            Self::Dvd => "dvd",
            Self::Hdtv => "hdtv",
            Self::Webrip => "webrip",
            Self::WebDl => "web_dl",
            Self::Bluray => "bluray",
            Self::Remux => "remux",
        }
    }
}

/// How the picture is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// H.264 / AVC (x264).
    H264,
    /// H.265 / HEVC (x265).
    H265,
    /// AV1.
    Av1,
    /// VP9.
    Vp9,
    /// Xvid.
    Xvid,
    /// DivX.
    Divx,
    /// MPEG-2.
    Mpeg2,
    /// VC-1.
    Vc1,
    /// Any other (H.263, VP8, RealVideo...).
    Other,
}

impl VideoCodec {
    /// Every codec.
    pub const ALL: [Self; 9] = [
        Self::H264,
        Self::H265,
        Self::Av1,
        Self::Vp9,
        Self::Xvid,
        Self::Divx,
        Self::Mpeg2,
        Self::Vc1,
        Self::Other,
    ];

    /// The name used in the configuration: `h264`, `h265`, `av1`...
    pub fn name(self) -> &'static str {
        match self {
            Self::H264 => "h264",
            Self::H265 => "h265",
            Self::Av1 => "av1",
            Self::Vp9 => "vp9",
            Self::Xvid => "xvid",
            Self::Divx => "divx",
            Self::Mpeg2 => "mpeg2",
            Self::Vc1 => "vc1",
            Self::Other => "other",
        }
    }
}

/// Resolutions, sources and codecs are written by their configuration
/// names (`1080p`, `web_dl`, `h265`), in the masked configuration and in
/// the facts the name table is held to.
macro_rules! serialize_by_name {
    ($($kind:ty),*) => {$(
        impl Serialize for $kind {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }
    )*};
}

serialize_by_name!(Resolution, ReleaseSource, VideoCodec);

/// A high-dynamic-range format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HdrFormat {
    /// HDR10 (also a bare `HDR`).
    Hdr10,
    /// HDR10+.
    Hdr10Plus,
    /// Dolby Vision (DV, DoVi).
    DolbyVision,
    /// Hybrid log-gamma (broadcast HDR).
    Hlg,
}

/// How the sound is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioCodec {
    /// AAC.
    Aac,
    /// Dolby Digital (AC3, DD).
    Ac3,
    /// Dolby Digital Plus (EAC3, DDP).
    Eac3,
    /// Dolby TrueHD.
    TrueHd,
    /// Dolby Atmos (on top of TrueHD or DD+).
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
    Mp3,
    /// Opus.
    Opus,
    /// Vorbis.
    Vorbis,
    /// Uncompressed (PCM, LPCM).
    Pcm,
    /// Any other (MP2...).
    Other,
}

/// What a release name says about the release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseFacts {
    /// The film's or series' title, words separated by spaces.
    pub title: Option<String>,
    /// The film's year (or, for a series, the year the name gives).
    pub year: Option<i32>,
    /// What it is.
    pub kind: ReleaseKind,
    /// Season numbers: one for an episode, several for a multi-season pack.
    pub seasons: Vec<u32>,
    /// Episode numbers; without a season, anime-style absolute numbers.
    pub episodes: Vec<u32>,
    /// Whole seasons with no episode named (`S02`, `Season 2 Complete`).
    pub season_pack: bool,
    /// The picture's resolution.
    pub resolution: Option<Resolution>,
    /// Where the picture comes from.
    pub source: Option<ReleaseSource>,
    /// The video codec.
    pub video_codec: Option<VideoCodec>,
    /// High-dynamic-range formats (a Dolby Vision release often has HDR10 too).
    pub hdr: Vec<HdrFormat>,
    /// Audio codecs (TrueHD with Atmos is two).
    pub audio_codecs: Vec<AudioCodec>,
    /// Audio channels: `2.0`, `5.1`, `7.1`.
    pub audio_channels: Option<String>,
    /// Spoken languages named in it, in English (`French`), `Multi` for `MULTi`.
    pub languages: Vec<String>,
    /// Subtitle languages named in it, in English.
    pub subtitle_languages: Vec<String>,
    /// Who made the release.
    pub release_group: Option<String>,
    /// `Extended`, `Director's Cut`, `Final Cut`, `IMAX`...
    pub edition: Option<String>,
    /// A PROPER: a fix of another group's release.
    pub proper: bool,
    /// A REPACK: the group's own fix of its release.
    pub repack: bool,
    /// Stereoscopic 3D.
    pub three_d: bool,
    /// A sample, not the release.
    pub sample: bool,
    /// Subtitles burnt into the picture (HC, HCSUB, KORSUB).
    pub hardcoded_subtitles: bool,
}

impl ReleaseFacts {
    /// Reads a release name. Never fails: what cannot be read stays unset.
    pub fn parse(name: &str) -> Self {
        let parsed = PIPELINE.run(name);
        let tokens = Tokens::of(name);
        let all = |property| parsed.all(property);
        let other = all(Property::Other);
        let has_other = |flag: &str| other.contains(&flag);

        let seasons: Vec<u32> = numbers(&all(Property::Season));
        let episodes: Vec<u32> = numbers(&all(Property::Episode));
        let season_pack = !seasons.is_empty() && episodes.is_empty();
        let resolution = parsed
            .first(Property::ScreenSize)
            .and_then(Resolution::of_screen_size)
            .or_else(|| has_other("Ultra HD").then_some(Resolution::Uhd2160p));
        let source = source(parsed.first(Property::Source), &other);
        let video_codec = parsed.first(Property::VideoCodec).map(video_codec);
        let year = parsed.year();
        let container = parsed.first(Property::Container);

        let mut hdr: Vec<HdrFormat> = other
            .iter()
            .filter_map(|flag| match *flag {
                "HDR10" => Some(HdrFormat::Hdr10),
                "HDR10+" => Some(HdrFormat::Hdr10Plus),
                "Dolby Vision" => Some(HdrFormat::DolbyVision),
                _ => None,
            })
            .collect();
        if tokens.has("hlg") {
            hdr.push(HdrFormat::Hlg);
        }

        let repack =
            tokens.any(|token| is_numbered(token, "repack") || is_numbered(token, "rerip"));
        let proper = tokens.has("proper") || (has_other("Proper") && !repack);

        // hunch knows video containers; the rest are read off the name.
        let extension = container.or_else(|| name.rsplit_once('.').map(|(_, extension)| extension));
        let kind = if extension
            .is_some_and(|extension| NOT_VIDEO.contains(&extension.to_ascii_lowercase().as_str()))
        {
            ReleaseKind::Other
        } else if !seasons.is_empty()
            || !episodes.is_empty()
            || parsed.media_type() == Some(MediaType::Episode)
        {
            ReleaseKind::Episode
        } else {
            ReleaseKind::Movie
        };

        let edition = if tokens.has_run(&["final", "cut"]) {
            Some("Final Cut".to_owned())
        } else {
            parsed.edition().map(str::to_owned)
        };

        Self {
            title: parsed.title().map(|title| match kind {
                ReleaseKind::Movie => with_part(title, parsed.part(), &tokens),
                _ => title.to_owned(),
            }),
            year,
            kind,
            seasons,
            episodes,
            season_pack,
            resolution,
            source,
            video_codec,
            hdr,
            audio_codecs: dedup(all(Property::AudioCodec).into_iter().map(audio_codec)),
            audio_channels: parsed.audio_channels().map(str::to_owned),
            languages: languages(&all(Property::Language)),
            subtitle_languages: languages(&all(Property::SubtitleLanguage)),
            release_group: parsed.release_group().and_then(release_group),
            edition,
            proper,
            repack,
            three_d: has_other("3D"),
            sample: has_other("Sample"),
            hardcoded_subtitles: has_other("Hardcoded Subtitles")
                || tokens.has_exact("HC")
                || tokens.has("korsub"),
        }
    }
}

/// The words of a name, split at the separators release names use.
struct Tokens<'a>(Vec<&'a str>);

impl<'a> Tokens<'a> {
    fn of(name: &'a str) -> Self {
        Self(
            name.split(['.', ' ', '_', '-', '[', ']', '(', ')', '+', '{', '}'])
                .filter(|token| !token.is_empty())
                .collect(),
        )
    }

    fn any(&self, test: impl Fn(&str) -> bool) -> bool {
        self.0.iter().any(|token| test(token))
    }

    /// A word, in any case.
    fn has(&self, word: &str) -> bool {
        self.any(|token| token.eq_ignore_ascii_case(word))
    }

    /// A word in exactly this case (`HC`, not the `hc` of a title).
    fn has_exact(&self, word: &str) -> bool {
        self.any(|token| token == word)
    }

    /// Words one after the other, in any case.
    fn has_run(&self, words: &[&str]) -> bool {
        self.0.windows(words.len()).any(|window| {
            window
                .iter()
                .zip(words)
                .all(|(token, word)| token.eq_ignore_ascii_case(word))
        })
    }

    /// The word after `title`'s last words and `Part`, as in `Dune Part Two`.
    fn part_after(&self, title: &str) -> Option<&'a str> {
        let title: Vec<&str> = title.split_whitespace().collect();
        let needed = title.len() + 2;
        self.0.windows(needed).find_map(|window| {
            let (words, rest) = window.split_at(title.len());
            (words
                .iter()
                .zip(&title)
                .all(|(token, word)| token.eq_ignore_ascii_case(word))
                && rest[0].eq_ignore_ascii_case("part"))
            .then_some(rest[1])
        })
    }
}

/// `REPACK`, `REPACK2`...
fn is_numbered(token: &str, word: &str) -> bool {
    token
        .get(..word.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(word))
        && token[word.len()..]
            .bytes()
            .all(|byte| byte.is_ascii_digit())
}

/// hunch reads `Dune.Part.Two` as the film "Dune", part 2; for a film the
/// part is the title's (Jellyfin calls it "Dune: Part Two", as TMDB does).
fn with_part(title: &str, part: Option<i32>, tokens: &Tokens<'_>) -> String {
    match part.and(tokens.part_after(title)) {
        Some(which) => format!("{title} Part {which}"),
        None => title.to_owned(),
    }
}

fn numbers(values: &[&str]) -> Vec<u32> {
    let mut numbers: Vec<u32> = values
        .iter()
        .filter_map(|value| value.parse().ok())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

fn dedup<T: PartialEq>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut kept = Vec::new();
    for value in values {
        if !kept.contains(&value) {
            kept.push(value);
        }
    }
    kept
}

fn source(source: Option<&str>, other: &[&str]) -> Option<ReleaseSource> {
    let ripped = other.contains(&"Rip");
    Some(match source? {
        "Camera" | "HD Camera" => ReleaseSource::Cam,
        "Telesync" | "HD Telesync" => ReleaseSource::Telesync,
        "Telecine" | "HD Telecine" => ReleaseSource::Telecine,
        "Workprint" => ReleaseSource::Workprint,
        "VHS" => ReleaseSource::Vhs,
        _ if other.contains(&"Screener") => ReleaseSource::Screener,
        "DVD" | "HD-DVD" => ReleaseSource::Dvd,
        "HDTV" | "Ultra HDTV" | "Analog HDTV" | "Digital TV" | "TV" | "Satellite"
        | "Pay-per-view" => ReleaseSource::Hdtv,
        "Web" if ripped => ReleaseSource::Webrip,
        "Web" | "Video on Demand" => ReleaseSource::WebDl,
        "Blu-ray" | "Ultra HD Blu-ray" if other.contains(&"Remux") => ReleaseSource::Remux,
        "Blu-ray" | "Ultra HD Blu-ray" => ReleaseSource::Bluray,
        _ => return None,
    })
}

fn video_codec(codec: &str) -> VideoCodec {
    match codec {
        "H.264" => VideoCodec::H264,
        "H.265" => VideoCodec::H265,
        "AV1" => VideoCodec::Av1,
        "VP9" => VideoCodec::Vp9,
        "Xvid" => VideoCodec::Xvid,
        "DivX" => VideoCodec::Divx,
        "MPEG-2" => VideoCodec::Mpeg2,
        "VC-1" => VideoCodec::Vc1,
        _ => VideoCodec::Other,
    }
}

fn audio_codec(codec: &str) -> AudioCodec {
    match codec {
        "AAC" => AudioCodec::Aac,
        "Dolby Digital" => AudioCodec::Ac3,
        "Dolby Digital Plus" => AudioCodec::Eac3,
        "Dolby TrueHD" => AudioCodec::TrueHd,
        "Dolby Atmos" => AudioCodec::Atmos,
        "DTS" => AudioCodec::Dts,
        "DTS-HD" => AudioCodec::DtsHd,
        "DTS:X" => AudioCodec::DtsX,
        "FLAC" => AudioCodec::Flac,
        "MP3" => AudioCodec::Mp3,
        "Opus" => AudioCodec::Opus,
        "Vorbis" => AudioCodec::Vorbis,
        "PCM" | "LPCM" => AudioCodec::Pcm,
        _ => AudioCodec::Other,
    }
}

/// Languages by their English names: hunch names spoken languages but
/// gives subtitle languages as ISO 639-1 codes (`fr`); `mul` is `Multi`,
/// the undetermined `und` is left out.
fn languages(values: &[&str]) -> Vec<String> {
    dedup(values.iter().filter(|value| **value != "und").map(|value| {
        let code = value
            .split('-')
            .next()
            .unwrap_or(value)
            .to_ascii_lowercase();
        match LANGUAGE_NAMES.iter().find(|(known, _)| *known == code) {
            Some((_, name)) => (*name).to_owned(),
            None if code == "mul" => "Multi".to_owned(),
            None => (*value).to_owned(),
        }
    }))
}

/// ISO 639-1 codes of the languages release names mention.
const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("ar", "Arabic"),
    ("bg", "Bulgarian"),
    ("ca", "Catalan"),
    ("cs", "Czech"),
    ("da", "Danish"),
    ("de", "German"),
    ("el", "Greek"),
    ("en", "English"),
    ("es", "Spanish"),
    ("et", "Estonian"),
    ("fa", "Persian"),
    ("fi", "Finnish"),
    ("fr", "French"),
    ("he", "Hebrew"),
    ("hi", "Hindi"),
    ("hr", "Croatian"),
    ("hu", "Hungarian"),
    ("id", "Indonesian"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("ko", "Korean"),
    ("lt", "Lithuanian"),
    ("lv", "Latvian"),
    ("nl", "Dutch"),
    ("no", "Norwegian"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("ro", "Romanian"),
    ("ru", "Russian"),
    ("sk", "Slovak"),
    ("sl", "Slovenian"),
    ("sr", "Serbian"),
    ("sv", "Swedish"),
    ("ta", "Tamil"),
    ("te", "Telugu"),
    ("th", "Thai"),
    ("tr", "Turkish"),
    ("uk", "Ukrainian"),
    ("vi", "Vietnamese"),
    ("zh", "Chinese"),
];

/// hunch keeps a tracker tag glued on (`Xclusive [eztv]`): the group is
/// what comes before it.
fn release_group(group: &str) -> Option<String> {
    let group = group.split('[').next().unwrap_or(group).trim();
    (!group.is_empty()).then(|| group.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_episode_name_is_read_whole() {
        let facts = ReleaseFacts::parse("Show.Name.S02E05.1080p.WEB-DL.DDP5.1.H.264-GROUP");
        assert_eq!(facts.title.as_deref(), Some("Show Name"));
        assert_eq!(facts.kind, ReleaseKind::Episode);
        assert_eq!((facts.seasons, facts.episodes), (vec![2], vec![5]));
        assert_eq!(facts.resolution, Some(Resolution::Hd1080p));
        assert_eq!(facts.source, Some(ReleaseSource::WebDl));
        assert_eq!(facts.video_codec, Some(VideoCodec::H264));
        assert_eq!(facts.audio_codecs, vec![AudioCodec::Eac3]);
        assert_eq!(facts.audio_channels.as_deref(), Some("5.1"));
        assert_eq!(facts.release_group.as_deref(), Some("GROUP"));
        assert!(!facts.season_pack);
    }

    #[test]
    fn screen_sizes_fall_into_steps() {
        for (size, resolution) in [
            ("480p", Resolution::Sd),
            ("576i", Resolution::Sd),
            ("720p", Resolution::Hd720p),
            ("1080i", Resolution::Hd1080p),
            ("1440p", Resolution::Qhd1440p),
            ("4K", Resolution::Uhd2160p),
            ("3840x2160", Resolution::Uhd2160p),
            ("4320p", Resolution::Uhd4320p),
        ] {
            assert_eq!(Resolution::of_screen_size(size), Some(resolution), "{size}");
        }
        assert_eq!(Resolution::of_screen_size("big"), None);
    }

    #[test]
    fn a_repack_is_not_a_proper() {
        let repack = ReleaseFacts::parse("Inception.2010.REPACK.1080p.BluRay.x264-SPARKS");
        assert!(repack.repack && !repack.proper, "{repack:?}");
        let proper = ReleaseFacts::parse("The.Matrix.1999.PROPER.720p.BluRay.x264-GROUP");
        assert!(proper.proper && !proper.repack, "{proper:?}");
    }

    #[test]
    fn an_iso_is_no_film() {
        let facts = ReleaseFacts::parse("ubuntu-22.04.3-desktop-amd64.iso");
        assert_eq!(facts.kind, ReleaseKind::Other);
    }

    #[test]
    fn a_word_cut_inside_a_character_is_no_repack() {
        let facts = ReleaseFacts::parse("Free!：Iwatobi.Swim.Club.S01E01.720p");
        assert!(!facts.repack);
    }

    #[test]
    fn the_tracker_tag_is_not_the_group() {
        let facts = ReleaseFacts::parse("Series.Title.S05E02.HDTV.x264-Xclusive.[eztv]");
        assert_eq!(facts.release_group.as_deref(), Some("Xclusive"));
    }
}
