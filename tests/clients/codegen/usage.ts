// Code a frontend writes against the generated types: it must type-check
// (`tsc --noEmit` in ../codegen.mjs), so the types say what the API sends.
import type {
  AddMagnetMutation,
  AddMagnetMutationVariables,
  PauseMutation,
  ProgressSubscription,
  TorrentListQuery,
  TorrentState,
  UploadTorrentMutationVariables,
} from './generated/operations';

export function nextPage(list: TorrentListQuery): string | null {
  const { hasNextPage, endCursor } = list.torrents.pageInfo;
  const total: number = list.torrents.totalCount;
  return hasNextPage && total > 0 ? (endCursor ?? null) : null;
}

export function summary(list: TorrentListQuery): string[] {
  return list.torrents.nodes.map((torrent) => {
    const sizeInGiB: number = torrent.size / 2 ** 30;
    const added: string | null | undefined = torrent.addedAt;
    const state: TorrentState = torrent.state;
    return `${torrent.id} ${torrent.name}: ${state} ${(torrent.progress * 100).toFixed(1)}% of ${sizeInGiB} GiB, added ${added ?? 'never'}`;
  });
}

export const add: AddMagnetMutationVariables = { magnet: 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567' };

export function added(answer: AddMagnetMutation): string {
  return answer.addTorrent.duplicate ? `already had ${answer.addTorrent.hash}` : answer.addTorrent.torrent.name;
}

export function isPaused(answer: PauseMutation): boolean {
  return answer.pauseTorrent.state === 'PAUSED_DOWNLOADING' || answer.pauseTorrent.state === 'PAUSED_SEEDING';
}

export function changed(event: ProgressSubscription): string[] {
  const { snapshot, torrents, removed } = event.torrentProgress;
  return snapshot ? torrents.map((torrent) => torrent.id) : [...torrents.map((torrent) => torrent.id), ...removed];
}

export function upload(file: File): UploadTorrentMutationVariables {
  return { file };
}
