"""Every model, imported in one place so that Alembic sees the whole schema."""
from webapp.auth.models import User
from webapp.clips.models import RecordingClip
from webapp.recordings.models import RECORDING_MODELS, MeetRoom, VoiceCall
from webapp.shares.models import ShareLink
from webapp.social.models import Publication, SocialConnection, SocialDestination, SocialExport

__all__ = ["User", "MeetRoom", "VoiceCall", "RECORDING_MODELS", "RecordingClip", "ShareLink", "SocialConnection",
           "SocialDestination", "SocialExport", "Publication"]
