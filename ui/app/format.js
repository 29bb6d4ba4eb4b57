// How values read in the UI: sizes, speeds, durations, dates, states,
// release facts.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(count) {
  if (count == null) return '–';
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${UNITS[unit]}`;
}

export function speed(perSecond) {
  return perSecond ? `${bytes(perSecond)}/s` : '–';
}

export function percent(fraction) {
  return `${Math.floor(fraction * 1000) / 10}%`;
}

/** Seconds as the two largest units: `3h 20m`, `45s`; `∞` for none. */
export function duration(seconds) {
  if (seconds == null) return '∞';
  const parts = [
    [Math.floor(seconds / 86400), 'd'],
    [Math.floor((seconds % 86400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ];
  const first = parts.findIndex(([value]) => value > 0);
  if (first === -1) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value}${unit}`)
    .join(' ');
}

/** How long ago an RFC 3339 time was, roughly. */
export function age(time) {
  if (!time) return '–';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(time)) / 1000));
  return seconds < 60 ? 'just now' : `${duration(seconds).split(' ')[0]} ago`;
}

export function dateTime(time) {
  return time ? new Date(time).toLocaleString() : '–';
}

const STATES = {
  DOWNLOADING: 'Downloading',
  FORCED_DOWNLOADING: 'Downloading (forced)',
  FETCHING_METADATA: 'Fetching metadata',
  FORCED_FETCHING_METADATA: 'Fetching metadata (forced)',
  STALLED_DOWNLOADING: 'Stalled',
  QUEUED_DOWNLOADING: 'Queued',
  CHECKING_DOWNLOADING: 'Checking',
  PAUSED_DOWNLOADING: 'Stopped',
  SEEDING: 'Seeding',
  FORCED_SEEDING: 'Seeding (forced)',
  STALLED_SEEDING: 'Seeding (idle)',
  QUEUED_SEEDING: 'Queued to seed',
  CHECKING_SEEDING: 'Checking',
  PAUSED_SEEDING: 'Completed',
  CHECKING_RESUME_DATA: 'Starting up',
  ALLOCATING: 'Allocating',
  MOVING: 'Moving',
  MISSING_FILES: 'Missing files',
  ERROR: 'Error',
  UNKNOWN: 'Unknown',
};

export function state(value) {
  return STATES[value] ?? value;
}

/** The look of a state: `active`, `done`, `stopped`, `waiting` or `error`. */
export function stateKind(value) {
  if (value === 'ERROR' || value === 'MISSING_FILES') return 'error';
  if (value.startsWith('PAUSED')) return value === 'PAUSED_SEEDING' ? 'done' : 'stopped';
  if (value.includes('SEEDING')) return 'done';
  if (value.includes('METADATA') || value.startsWith('QUEUED') || value.startsWith('CHECKING') || value === 'STALLED_DOWNLOADING') return 'waiting';
  return 'active';
}

export function isStopped(value) {
  return value.startsWith('PAUSED');
}

const RESOLUTIONS = { SD: 'SD', HD_720P: '720p', HD_1080P: '1080p', QHD_1440P: '1440p', UHD_2160P: '2160p', UHD_4320P: '4320p' };

/** A release's facts as short labels: `S01E02`, `2008`, `1080p`, `WEB-DL`, `x265`... */
export function releaseFacts(release) {
  const facts = [];
  if (release.seasons.length > 0) {
    const season = release.seasons.map((number) => `S${String(number).padStart(2, '0')}`).join('-');
    const episodes = release.episodes.map((number) => `E${String(number).padStart(2, '0')}`).join('');
    facts.push(release.seasonPack ? `${season} pack` : `${season}${episodes}`);
  }
  if (release.year) facts.push(String(release.year));
  if (release.resolution) facts.push(RESOLUTIONS[release.resolution] ?? release.resolution.replace(/^[A-Z]+_/, '').toLowerCase());
  if (release.source) facts.push(release.source.replaceAll('_', '-'));
  if (release.videoCodec) facts.push(release.videoCodec);
  facts.push(...release.hdr);
  facts.push(...release.audioCodecs);
  if (release.releaseGroup) facts.push(release.releaseGroup);
  return facts;
}
