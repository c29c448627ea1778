"""Settings come from FORMFLOW_* environment variables."""

from __future__ import annotations

from formflow.app import create_app
from formflow.config import normalize_database_url, settings_from_env


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("FORMFLOW_SECRET_KEY", raising=False)
    first = settings_from_env(tmp_path)["SECRET_KEY"]
    second = settings_from_env(tmp_path)["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").read_text().strip() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_overrides_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMFLOW_SECRET_KEY", "from-env")
    monkeypatch.setenv("FORMFLOW_DATABASE_URL", "postgresql://db.example/formflow")
    monkeypatch.setenv("FORMFLOW_MAX_CONTENT_LENGTH", "1234")
    monkeypatch.setenv("FORMFLOW_UPLOAD_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("FORMFLOW_PORT", "8123")
    settings = settings_from_env(tmp_path)
    assert settings["SECRET_KEY"] == "from-env"
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db.example/formflow"
    assert settings["MAX_CONTENT_LENGTH"] == 1234
    assert settings["UPLOAD_FOLDER"] == str(tmp_path / "files")
    assert settings["PORT"] == 8123


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("FORMFLOW_DATABASE_URL", raising=False)
    monkeypatch.setenv("FORMFLOW_INSTANCE_DIR", str(tmp_path))
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'formflow.sqlite'}"
    assert app.instance_path == str(tmp_path)
    assert app.template_folder.endswith("templates")
    assert app.static_folder.endswith("platform/static")


def test_database_url_normalisation():
    assert normalize_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_database_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"
