// The public share page: segment playback (?t=START,END), Download, Copy link and Share.
import { downloadLink } from './download-link.js';
import { ShareMenu } from './share-menu.js';

class SharePage {
  constructor($root) {
    if (!$root) throw new Error('share-page: no [data-module="share-page"] element');
    const { shareUrl, title, fileName, downloadUrl, segmentStart, segmentEnd } = $root.dataset;
    this.$player = $root.querySelector('.share-player');
    this.resumeWhenTheUrlRunsOut();
    if (segmentStart !== undefined) this.playSegment(Number(segmentStart), Number(segmentEnd));
    const $actions = $root.querySelector('[data-share-actions]');
    if (downloadUrl) $actions.append(downloadLink(downloadUrl, 'button button-primary'));
    const menu = new ShareMenu({ getLink: () => Promise.resolve(shareUrl), title, downloadUrl,
      fileName: downloadUrl ? fileName : null });
    $actions.append(menu.$root);
  }

  // The signed URL behind /s/<token>/media lives a minute (a revoked link stops within one); when the
  // player's copy has run out, ask the stable link again and carry on where it was. Not in a loop:
  // a link revoked meanwhile fails again, and then the error stays.
  resumeWhenTheUrlRunsOut() {
    const $player = this.$player;
    const src = $player.getAttribute('src');
    let lastRetry = 0;
    $player.addEventListener('error', () => {
      if (Date.now() - lastRetry < 10000) return;
      lastRetry = Date.now();
      const at = $player.currentTime;
      const wasPlaying = !$player.paused || $player.dataset.playing === 'true';
      $player.addEventListener('loadedmetadata', () => {
        $player.currentTime = at;
        if (wasPlaying) $player.play().catch(() => {});
      }, { once: true });
      $player.src = src;
      $player.load();
    });
    $player.addEventListener('playing', () => { $player.dataset.playing = 'true'; });
    $player.addEventListener('pause', () => { $player.dataset.playing = 'false'; });
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
