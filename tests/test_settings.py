"""One settings object: defaults, then the instance folder's config.py, then the
environment; built once by the service and every command, and passed down to the archive,
the renderer and the index (no library reads the environment itself)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from conftest import make_letter
from PIL import Image

from saraban.settings import SETTINGS, ConfigError, Settings


def _png(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (40, 40), colour).save(path, format="PNG")
    return path


def _docx_images(data: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        return [docx.read(n) for n in docx.namelist() if n.startswith("word/media/")]


def test_every_setting_has_a_field_and_a_default():
    defaults = Settings.from_mapping({})
    assert set(defaults.as_mapping()) == {s.name for s in SETTINGS}
    assert defaults.garuda_image is None
    assert defaults.database_url is None
    assert defaults.threads == 8 and defaults.search_backend == "tantivy"


def test_instance_config_then_environment(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.py").write_text(
        'SARABAN_GARUDA_IMAGE = "/srv/garuda.png"\nSARABAN_THREADS = 3\n'
        'SARABAN_SESSION_HOURS = "5"\nOTHER = 1\n',
        "utf-8",
    )
    loaded = Settings.load({"SARABAN_HOME": str(home), "SARABAN_THREADS": "4"})
    assert loaded.home == home.resolve()
    assert loaded.garuda_image == Path("/srv/garuda.png")  # from config.py
    assert loaded.session_hours == 5
    assert loaded.threads == 4  # the environment wins over config.py


def test_a_bad_value_in_the_instance_config_names_the_variable(tmp_path):
    (tmp_path / "config.py").write_text("SARABAN_SECURE_COOKIES = 'maybe'\n", "utf-8")
    with pytest.raises(ConfigError, match="SARABAN_SECURE_COOKIES"):
        Settings.load({"SARABAN_HOME": str(tmp_path)})
    (tmp_path / "config.py").write_text("this is not python\n", "utf-8")
    with pytest.raises(ConfigError, match="config.py"):
        Settings.load({"SARABAN_HOME": str(tmp_path)})


def test_the_emblem_of_the_instance_config_is_printed(tmp_path, monkeypatch):
    """SARABAN_GARUDA_IMAGE set in the instance's config.py reaches the archive's renderer
    (it was read from the environment only, so the web service ignored it)."""
    from saraban.service import close_app, create_app

    home = tmp_path / "home"
    home.mkdir()
    emblem = _png(tmp_path / "garuda.png", (200, 30, 30))
    (home / "config.py").write_text(f"SARABAN_GARUDA_IMAGE = {str(emblem)!r}\n", "utf-8")
    monkeypatch.setenv("SARABAN_HOME", str(home))
    monkeypatch.delenv("SARABAN_GARUDA_IMAGE", raising=False)
    monkeypatch.delenv("SARABAN_DATABASE_URL", raising=False)
    app = create_app()
    try:
        docx = app.extensions["archive"].renderer.render_docx(make_letter())
        assert emblem.read_bytes() in _docx_images(docx)
    finally:
        close_app(app)


def test_the_emblem_must_be_png_or_jpeg_as_documented(tmp_path):
    """settings.py promised SVG, which the renderer refuses: the documentation says what
    the renderer takes."""
    from saraban.templates import EmblemError, render_docx

    help_text = next(s.help for s in SETTINGS if s.name == "SARABAN_GARUDA_IMAGE")
    assert "PNG or JPEG" in help_text and "SVG" not in help_text
    svg = tmp_path / "garuda.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', "utf-8")
    with pytest.raises(EmblemError, match="PNG หรือ JPEG"):
        render_docx(make_letter(), emblem=svg)
    placeholder = render_docx(make_letter())
    own = render_docx(make_letter(), emblem=_png(tmp_path / "g.png", (0, 0, 0)))
    assert _docx_images(placeholder) != _docx_images(own)
