// Post to… on a clip or recording row: the button (once the server says a platform is configured that
// takes a video this long), its dialog, and the row's posts with their status.
import { button } from './dom.js';
import { PostDialog, socialSetup } from './post-dialog.js';
import { PublicationList } from './publication-list.js';
import { durationProblem } from './social-rules.js';

export class PostTo {
  // target: { targetType: clip | meet | voice, targetId, title, seconds }
  constructor(target) {
    this.target = target;
    this.$button = button('Post to…', () => this.open());
    this.$button.hidden = true;
    this.$button.setAttribute('aria-haspopup', 'dialog');
    this.posts = new PublicationList(target);
    this.$status = this.posts.$root;
    socialSetup().then(({ platforms }) => {
      if (!platforms.length) return;  // posting is off here: the row stays as it was
      this.posts.load();
      this.$button.hidden = !platforms.some((platform) => !durationProblem(platform, target.seconds));
    }, () => {});
  }

  open() {
    new PostDialog(this.target, { onPosted: (publication) => this.posts.show(publication), $opener: this.$button });
  }
}
