// The public share page: segment playback (?t=START,END), Download, Copy link and Share.
import { ShareMenu } from './share-menu.js';

class SharePage {
  constructor($root) {
    if (!$root) throw new Error('share-page: no [data-module="share-page"] element');
    const { shareUrl, title, downloadUrl, segmentStart, segmentEnd } = $root.dataset;
    this.$player = $root.querySelector('.share-player');
    if (segmentStart !== undefined) this.playSegment(Number(segmentStart), Number(segmentEnd));
    const $actions = $root.querySelector('[data-share-actions]');
    if (downloadUrl) {
      const $download = document.createElement('a');
      $download.className = 'button button-primary';
      $download.href = downloadUrl;
      $download.setAttribute('download', '');
      $download.textContent = 'Download';
      $actions.append($download);
    }
    const menu = new ShareMenu({ getLink: () => Promise.resolve(shareUrl), title, downloadUrl,
      fileName: downloadUrl ? `${title}.mp4` : null });
    $actions.append(menu.$root);
  }

  // The #t=start,end media fragment starts there and pauses at the end; keep it inside on seeks too.
  playSegment(start, end) {
    const $player = this.$player;
    $player.addEventListener('timeupdate', () => {
      if ($player.currentTime >= end) {
        $player.pause();
        $player.currentTime = start;
      }
    });
    $player.addEventListener('loadedmetadata', () => { if ($player.currentTime < start) $player.currentTime = start; }, { once: true });
  }
}

new SharePage(document.querySelector('[data-module="share-page"]'));
