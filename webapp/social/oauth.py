"""OAuth 2 sign-in with Meta (Facebook Login for Business) and TikTok (Login Kit v2) through Authlib's
Flask client: state kept in the session and checked on return, PKCE (S256) where the platform documents
it (Meta; TikTok's web flow does not), and one exact redirect URI per provider."""
from authlib.integrations.flask_client import OAuth
from flask import current_app, url_for

from webapp.social import meta, tiktok

PROVIDER_LABELS = {"meta": "Facebook and Instagram", "tiktok": "TikTok"}


def configured_providers(config=None):
    config = config or current_app.config
    providers = []
    if config.get("META_APP_ID") and config.get("META_APP_SECRET"):
        providers.append("meta")
    if config.get("TIKTOK_CLIENT_KEY") and config.get("TIKTOK_CLIENT_SECRET"):
        providers.append("tiktok")
    return providers


def init_app(app):
    # A registry of its own per app: Authlib's registry caches each client with the settings it was first
    # registered with, so a module-wide one would hand a second app the first app's URLs and keys.
    oauth = OAuth(app)
    config = app.config
    if "meta" in configured_providers(config):
        oauth.register(
            "meta", client_id=config["META_APP_ID"], client_secret=config["META_APP_SECRET"],
            authorize_url=f"{config['META_OAUTH_URL'].rstrip('/')}/dialog/oauth",
            access_token_url=f"{config['META_GRAPH_URL'].rstrip('/')}/oauth/access_token",
            client_kwargs={"scope": ",".join(meta.SCOPES), "code_challenge_method": "S256",
                           "token_endpoint_auth_method": "client_secret_post", "timeout": 30})
    if "tiktok" in configured_providers(config):
        key = config["TIKTOK_CLIENT_KEY"]
        scopes = tiktok.DIRECT_SCOPES if config.get("TIKTOK_DIRECT_POST") else tiktok.SCOPES
        oauth.register(
            "tiktok", client_id=key, client_secret=config["TIKTOK_CLIENT_SECRET"],
            authorize_url=config["TIKTOK_AUTH_URL"],
            access_token_url=f"{config['TIKTOK_API_URL'].rstrip('/')}/v2/oauth/token/",
            # TikTok names the client `client_key`, in the authorization request and the token request.
            authorize_params={"client_key": key}, access_token_params={"client_key": key},
            client_kwargs={"scope": ",".join(scopes), "token_endpoint_auth_method": "client_secret_post",
                           "timeout": 30})


def client(provider):
    return current_app.extensions["authlib.integrations.flask_client"].create_client(provider)


def redirect_uri(provider):
    """The callback URL registered at the platform: on PUBLIC_BASE_URL when set, so it is always the same."""
    path = url_for("social.callback", provider=provider)
    base = current_app.config.get("PUBLIC_BASE_URL")
    return f"{base}{path}" if base else url_for("social.callback", provider=provider, _external=True)
