"""Settings from FORMFLOW_* environment variables, with defaults for a checkout."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from formflow.outbound import parse_allow_hosts

#: The repository checkout this package runs from (editable install).
REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"FORMFLOW_{name}")
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalize_database_url(url: str) -> str:
    """Let people write postgresql:// and get the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key(instance_path: Path, given: str | None) -> str:
    """The given key, FORMFLOW_SECRET_KEY, or a key generated once into instance/secret_key."""
    configured = given or _env("SECRET_KEY")
    if configured:
        return configured
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two workers starting together must not write two different keys.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def instance_path() -> Path:
    """FORMFLOW_INSTANCE_DIR, else instance/ in the checkout."""
    return Path(_env("INSTANCE_DIR") or REPO_ROOT / "instance").resolve()


def settings_from_env(instance_path: Path, *, secret_key: str | None = None) -> dict:
    """Everything configurable, as Flask config keys."""
    database_url = _env("DATABASE_URL") or f"sqlite:///{instance_path / 'formflow.sqlite'}"
    return {
        "SECRET_KEY": _secret_key(instance_path, secret_key),
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
        "UPLOAD_FOLDER": _env("UPLOAD_DIR") or str(instance_path / "uploads"),
        "MAX_CONTENT_LENGTH": int(_env("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024))),
        # a form's fields may fill the body (the customer import's preview carries its file)
        "MAX_FORM_MEMORY_SIZE": int(_env("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024))),
        #: what one user's stored uploads may add up to (0: no quota)
        "UPLOAD_QUOTA_MB": int(_env("UPLOAD_QUOTA_MB", "200")),
        #: an upload that goes on no case (its form failed) is deleted by `tick` after this
        "UPLOAD_ORPHAN_HOURS": float(_env("UPLOAD_ORPHAN_HOURS", "24")),
        "PORT": int(_env("PORT", "5000")),
        "INSTANCE_DIR": str(instance_path),
        "TEMPLATE_DIR": _env("TEMPLATE_DIR") or str(REPO_ROOT / "templates"),
        "CONFIGS_DIR": _env("CONFIGS_DIR") or str(REPO_ROOT / "configs"),
        "MIGRATIONS_DIR": _env("MIGRATIONS_DIR") or str(REPO_ROOT / "migrations"),
        "LOGIN_MAX_ATTEMPTS": int(_env("LOGIN_MAX_ATTEMPTS", "5")),
        "LOGIN_LOCK_MINUTES": int(_env("LOGIN_LOCK_MINUTES", "15")),
        #: failed logins from one client address across all usernames before it is locked
        "LOGIN_MAX_ATTEMPTS_PER_ADDRESS": int(_env("LOGIN_MAX_ATTEMPTS_PER_ADDRESS", "20")),
        #: requests (pages and downloads) one self-service link, and one client address, may make
        #: per window (SELF_SERVICE_WINDOW_SECONDS); beyond them: a plain "too many requests" page
        "SELF_SERVICE_MAX_PER_LINK": int(_env("SELF_SERVICE_MAX_PER_LINK", "60")),
        "SELF_SERVICE_MAX_PER_ADDRESS": int(_env("SELF_SERVICE_MAX_PER_ADDRESS", "120")),
        "SELF_SERVICE_WINDOW_SECONDS": int(_env("SELF_SERVICE_WINDOW_SECONDS", "600")),
        "SESSION_COOKIE_SECURE": _env_bool("SECURE_COOKIES", False),
        "REMEMBER_COOKIE_SECURE": _env_bool("SECURE_COOKIES", False),
        "SMTP_HOST": _env("SMTP_HOST"),
        "SMTP_PORT": int(_env("SMTP_PORT", "25")),
        "SMTP_USER": _env("SMTP_USER"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_FROM": _env("SMTP_FROM", "formflow@localhost"),
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", False),
        #: signs outbound webhooks (X-Formflow-Signature); deliveries wait while it is unset
        "WEBHOOK_SECRET": _env("WEBHOOK_SECRET"),
        #: verifies inbound payment events (Formflow-Signature); unset: the endpoint refuses them
        "PAYMENT_WEBHOOK_SECRET": _env("PAYMENT_WEBHOOK_SECRET"),
        #: keys the audit hash chain (HMAC); unset: derived from SECRET_KEY, with a warning (audit/keying.py)
        "AUDIT_KEY": _env("AUDIT_KEY"),
        #: internal hosts webhooks may reach ("name", "name:port", comma separated; see outbound.py)
        "WEBHOOK_ALLOW_HOSTS": parse_allow_hosts(_env("WEBHOOK_ALLOW_HOSTS", "")),
        #: the CJK font PDF statements are set in (TTF/OTF); unset: the packaged Noto Sans SC
        "PDF_FONT": _env("PDF_FONT"),
    }


#: Fixed settings every deployment shares.
DEFAULTS = {
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    #: "remember me" lasts this long, on the server too (auth/sessions.py); a session without
    #: it ends with the browser, and on the server after BROWSER_SESSION_LIFETIME at most
    "REMEMBER_COOKIE_DURATION": timedelta(days=30),
    "BROWSER_SESSION_LIFETIME": timedelta(hours=12),
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": {"zh_CN": "中文", "en": "English"},
    "WTF_CSRF_TIME_LIMIT": None,
    "PAGE_SIZE": 50,
}
