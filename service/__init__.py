"""The Flask web service: the clerk's pages (in Thai) and the JSON API over the archive,
the letter renderers, the search index and the importer.

The only package that imports Flask. Views stay thin: they parse the request, call
``archive``, ``templates``, ``indexer`` or ``saraban.letter``, and render.

>>> from saraban.service import create_app
>>> app = create_app({"SARABAN_HOME": "/tmp/instance"})
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from flask import Flask, abort, request, send_from_directory
from markupsafe import Markup
from werkzeug.routing import IntegerConverter

from saraban import archive as archive_package
from saraban.fonts import SARABUN_DIR
from saraban.service import _config, _web
from saraban.service._jobs import Jobs
from saraban.service._letter_links import (
    DraftConverter,
    LetterConverter,
    ReceivedConverter,
    letter_url,
    received_url,
)
from saraban.service._mailer import MailSender
from saraban.service._searching import SearchService
from saraban.service._store import Store
from saraban.settings import CONFIG_FILE, Settings
from saraban.thai import to_thai_digits
from saraban.usecases import recovery
from saraban.usecases.previews import Previews
from saraban.usecases.verifying import Checker

__all__ = ["create_app"]
logger = logging.getLogger("saraban.service")

_JSON_TWINS = ("deliveries.acknowledge_json", "deliveries.reply_json")
_FONTS = ("Sarabun-Regular.ttf", "Sarabun-Bold.ttf", "Sarabun-Italic.ttf", "Sarabun-SemiBold.ttf")
_BLUEPRINTS = (
    "auth",
    "letters",
    "search",
    "registers",
    "received",
    "imports",
    "forms",
    "admin",
    "jobs",
    "api",
    "verify",
    "deliveries",
    "circulars",
    "circulars_api",
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The application: the settings (defaults, the instance folder's ``config.py``, the
    environment; or ``test_config`` over the defaults), then the archive, the service's
    store, the search index, and one blueprint per task."""
    settings = Settings.load() if test_config is None else Settings.from_mapping(test_config)
    _config.check_instance(settings.home)
    app = Flask(__name__, instance_path=str(settings.home), instance_relative_config=True)
    if test_config is None:
        app.config.from_pyfile(CONFIG_FILE, silent=True)  # Flask's own keys, if any
    else:
        app.config.update(test_config)
    app.config.update(_config.flask_config(settings))
    app.config["SECRET_KEY"] = _config.secret_key(settings.home, settings.secret_key)
    _web.install_text_safety(app)
    app.extensions["saraban_settings"] = settings

    opened = archive_package.init_app(app, settings)
    store = Store(opened, password_method=app.config.get("PASSWORD_HASH_METHOD"))
    app.extensions["saraban_store"] = store
    for line in recovery.on_open(opened, store):
        logger.warning("repaired after a crash: %s", line)
    app.extensions["saraban_search"] = SearchService(
        opened,
        settings.home,
        backend=settings.search_backend,
        database_url=settings.database_url,
        engine=settings.tokenizer,
    )
    app.extensions["saraban_jobs"] = Jobs(settings.home / "jobs")
    app.extensions["saraban_previews"] = Previews(
        settings.preview_seconds, emblem=settings.garuda_image, digits=settings.letter_digits
    )
    app.extensions["saraban_mail"] = MailSender(opened, settings)
    app.extensions["saraban_checker"] = Checker(opened)

    _web.register_error_handlers(app)
    app.url_map.converters["int"] = RowIdConverter
    app.url_map.converters["letter"] = LetterConverter
    app.url_map.converters["received"] = ReceivedConverter
    app.url_map.converters["draft"] = DraftConverter
    _install_hooks(app)
    _install_template_helpers(app)
    for name in _BLUEPRINTS:
        app.register_blueprint(importlib.import_module(f"saraban.service.{name}").bp)
    app.add_url_rule("/fonts/<name>", "font", _font)
    return app


class RowIdConverter(IntegerConverter):
    """``<int:...>`` takes at most nine digits: a database INTEGER ends at 2**31 - 1, so a
    longer number names no row. Refusing it in the path answers 404 for every method,
    instead of an overflow in the database driver (500) or, with ``max``, a 405."""

    regex = r"\d{1,9}"


def close_app(app: Flask) -> None:
    """Stop background work and close the databases (tests, and ``saraban serve`` on exit)."""
    if "saraban_login_audit" in app.extensions:  # the failed logins counted, not yet written
        app.extensions["saraban_login_audit"].flush(app.extensions["archive"], force=True)
    app.extensions["saraban_previews"].close()
    app.extensions["saraban_checker"].close()
    app.extensions["saraban_mail"].close()
    app.extensions["saraban_search"].close()
    app.extensions["saraban_store"].close()
    app.extensions["archive"].close()
    leader_lock = app.extensions.pop("saraban_leader_lock", None)  # saraban serve's leader
    if leader_lock is not None:
        os.close(leader_lock)


def _font(name: str) -> Any:
    """The Sarabun font from the fontpkg-sarabun package: offices run offline, no CDN."""
    if name not in _FONTS:
        abort(404)
    response = send_from_directory(SARABUN_DIR, name, mimetype="font/ttf", max_age=86400 * 30)
    return response


def _install_hooks(app: Flask) -> None:
    @app.before_request
    def _who_and_csrf() -> None:
        if request.endpoint in ("static", "font"):
            return
        _web.load_user()
        # verify: public and changes nothing, nothing to forge; the delivery links' JSON
        # twins: no cookie is their credential, the token in the address is
        # (service/deliveries.py).
        if request.blueprint != "verify" and request.endpoint not in _JSON_TWINS:
            _web.check_csrf()
        _web.check_text_input()

    app.after_request(_web.security_headers)


def _install_template_helpers(app: Flask) -> None:
    from saraban.service._clerk_text import be_datetime, event_details, event_name
    from saraban.service._letter_form import field_label, show_be_date
    from saraban.vocabulary import kind_label

    app.jinja_env.filters["be_date"] = show_be_date
    app.jinja_env.filters["be_datetime"] = be_datetime
    app.jinja_env.filters["thai_digits"] = lambda v: to_thai_digits(str(v)) if v is not None else ""
    app.jinja_env.filters["kind_name"] = kind_label
    app.jinja_env.filters["status_name"] = lambda s: STATUS_NAMES.get(s, s or "")
    app.jinja_env.filters["number"] = lambda n: to_thai_digits(f"{int(n):,}")
    app.jinja_env.filters["event_name"] = event_name
    app.jinja_env.filters["event_details"] = event_details
    app.jinja_env.globals["csrf_token"] = _web.csrf_token
    app.jinja_env.globals["current_user"] = _web.current_user
    app.jinja_env.globals["mark_safe_snippet"] = _safe_snippet
    app.jinja_env.globals["field_label"] = field_label
    app.jinja_env.globals["letter_url"] = letter_url
    app.jinja_env.globals["received_url"] = received_url
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


STATUS_NAMES = {
    "issued": "ออกเลขแล้ว",
    "cancelled": "ยกเลิก",
    "stored": "นำเข้า",
    "reserved": "จองเลข",
    "pending": "กำลังออกเลข",
    "unused": "ไม่ได้ใช้เลข",
}


def _safe_snippet(snippet: str | None) -> Markup:
    """A search snippet as HTML: the indexer escapes the text and adds only ``<mark>``;
    anything else found in it is escaped again rather than trusted."""
    if not snippet:
        return Markup("")
    stripped = snippet.replace("<mark>", "").replace("</mark>", "")
    if "<" in stripped or ">" in stripped:
        return Markup.escape(snippet)
    return Markup(snippet)
