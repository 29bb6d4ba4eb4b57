// The status bar: transfer speeds and totals, free space, the connection
// to qBittorrent and to Jellyfin's libraries, and the switch for the
// alternative speed limits. Live from `transferUpdates`.
import { useEffect, useState } from '../vendor/preact-hooks.mjs';
import { graphql, subscribe } from '../api.js';
import { ErrorNote, html, useAction } from '../components.js';
import * as format from '../format.js';

const TRANSFER_FIELDS = 'downloadSpeed uploadSpeed sessionDownloaded sessionUploaded freeDiskSpace connectionStatus downloadLimit uploadLimit alternativeSpeedLimits';

const STATUS = `{
  transfer { ${TRANSFER_FIELDS} }
  qbittorrent { connected version error }
  libraries { name source staleness }
}`;

const UPDATES = `subscription StatusBar { transferUpdates { transfer { ${TRANSFER_FIELDS} } } }`;

const HEALTH_MS = 10000;

export function StatusBar() {
  const [status, setStatus] = useState(null);
  const [transfer, setTransfer] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let current = true;
    const load = () => graphql(STATUS)
      .then((data) => {
        if (!current) return;
        setStatus(data);
        // The poll keeps the figures current should live updates stall.
        setTransfer(data.transfer);
        setError(null);
      })
      .catch((failure) => current && setError(failure));
    load();
    const timer = setInterval(load, HEALTH_MS);
    const unsubscribe = subscribe(UPDATES, {}, ({ transferUpdates }) => setTransfer(transferUpdates.transfer), setError);
    return () => {
      current = false;
      clearInterval(timer);
      unsubscribe();
    };
  }, []);
  const [toggle, runToggle] = useAction(async (enabled) => {
    const { setAlternativeSpeedLimits } = await graphql(
      `mutation($on: Boolean!) { setAlternativeSpeedLimits(enabled: $on) { ${TRANSFER_FIELDS} } }`, { on: enabled });
    setTransfer(setAlternativeSpeedLimits);
    return true;
  });

  const qbittorrent = status?.qbittorrent;
  const jellyfin = (status?.libraries ?? []).filter((library) => library.source === 'JELLYFIN');
  const jellyfinStale = jellyfin.find((library) => library.staleness);
  return html`<footer class="status" aria-label="Transfer status">
    ${transfer && html`
      <span title="Download speed">↓ ${format.speed(transfer.downloadSpeed)}${transfer.downloadLimit ? html` <span class="subtle">/ ${format.speed(transfer.downloadLimit)}</span>` : ''}</span>
      <span title="Upload speed">↑ ${format.speed(transfer.uploadSpeed)}${transfer.uploadLimit ? html` <span class="subtle">/ ${format.speed(transfer.uploadLimit)}</span>` : ''}</span>
      <span class="session" title="This session">Session ${format.bytes(transfer.sessionDownloaded)} ↓ ${format.bytes(transfer.sessionUploaded)} ↑</span>
      <span>Free ${format.bytes(transfer.freeDiskSpace)}</span>
      <label class="inline switch"><input type="checkbox" checked=${transfer.alternativeSpeedLimits === true} disabled=${toggle.busy}
        onChange=${(event) => runToggle(event.target.checked)} /> Alternative speed limits</label>`}
    ${qbittorrent && html`<span class=${`link ${qbittorrent.connected ? 'ok' : 'bad'}`} title=${qbittorrent.error ?? ''}>
      qBittorrent ${qbittorrent.connected ? `${qbittorrent.version ?? ''} ${transfer?.connectionStatus === 'DISCONNECTED' ? '(no network)' : ''}` : `unreachable${qbittorrent.error ? `: ${qbittorrent.error}` : ''}`}</span>`}
    ${status && html`<span class=${`link ${jellyfin.length === 0 ? '' : jellyfinStale ? 'bad' : 'ok'}`} title=${jellyfinStale?.staleness ?? ''}>
      ${jellyfin.length === 0 ? 'No Jellyfin libraries' : jellyfinStale ? `Jellyfin: ${jellyfinStale.staleness}` : `Jellyfin: ${jellyfin.length} librar${jellyfin.length === 1 ? 'y' : 'ies'}`}</span>`}
    <${ErrorNote} error=${toggle.error ?? error} />
  </footer>`;
}
