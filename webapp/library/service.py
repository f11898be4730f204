"""What a person's library shows: a page of recordings, each with its clips, in two queries."""
from webapp.clips import service as clips
from webapp.recordings import service as recordings


def recordings_with_clips(user, source_type, limit, cursor, q=None):
    """({recording JSON with its "clips"}, next_cursor) for one page of the list, newest first."""
    rows, next_cursor = recordings.list_recordings(user, source_type, limit, cursor, q)
    by_recording = clips.clips_by_recording(source_type, [recording.id for recording, _email in rows])
    items = [{**recordings.serialize_recording(recording, email),
              "clips": [clips.serialize_clip(clip) for clip in by_recording.get(recording.id, [])]}
             for recording, email in rows]
    return items, next_cursor
