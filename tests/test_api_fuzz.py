"""The API fuzzed from its own OpenAPI document (schemathesis, in process): every operation
gets bodies, queries and path values generated from its schema, valid and invalid ones, and
each answer must be no 5xx, a status the document lists, and a body its schema allows.

The app is real: SQLite, a tantivy index, a unit, letters (open and secret), and a token of
an administrator cleared for ลับที่สุด, so no route stops early at a 401/403 or a hidden
letter. Examples are bounded (``FUZZ_EXAMPLES`` an operation) and derandomized, so the test
takes about a minute and fails the same way twice; ``SARABAN_FUZZ_RANDOM=1`` explores new
examples on each run (and ``SARABAN_FUZZ_EXAMPLES=N`` more of them) when looking for bugs.
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from test_service_support import (
    add_unit,
    bearer,
    make_app,
    secret_letter,
    seed_letter,
    store_letter,
)

FUZZ_EXAMPLES = int(os.environ.get("SARABAN_FUZZ_EXAMPLES") or 25)
RANDOM = os.environ.get("SARABAN_FUZZ_RANDOM") == "1"
# Operations that may render a PDF, read an upload or start background work on a valid
# example: they get fewer examples, so the whole run stays near a minute on two cores.
SLOW = r"/(preview|issue|\{fmt\}|\{kind\}|imports|reindex)$"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    from saraban.service import close_app

    app = make_app(tmp_path_factory.mktemp("fuzz") / "home")
    add_unit(app)
    store = app.extensions["saraban_store"]
    admin = store.add_user("fuzzer", "correct horse battery", role="admin", clearance="ลับที่สุด")
    token, _info = store.create_token(admin.id, "fuzz")
    letters = [store_letter(app, seed_letter())]
    letters += [store_letter(app, secret_letter(level)) for level in ("ลับ", "ลับที่สุด")]
    draft = store.create_draft(admin.id, seed_letter(), unit=None)
    app.extensions["saraban_search"].sync_now()
    known = {
        "letter_id": letters[-1].id,
        "draft_id": draft.public_id,
        "name": "activity_schedule",
    }
    yield app, token, known
    close_app(app)


@pytest.fixture(scope="module")
def api_schema(fuzzed):
    app, _token, _known = fuzzed
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _operations() -> list[tuple[str, str]]:
    from saraban.service._openapi import openapi_document

    paths = openapi_document()["paths"]
    return [(method.upper(), path) for path in paths for method in paths[path]]


# schemathesis's WSGI client never closes a file answer (send_file), which Python reports
# as an unclosed file when it is collected: the harness's, not the service's.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    ("method", "path"), _operations(), ids=[f"{m} {p}" for m, p in _operations()]
)
def test_the_api_answers_every_generated_request_within_its_document(
    fuzzed, api_schema, method, path
):
    _app, token, known = fuzzed
    operation = api_schema[path][method]
    examples = max(3, FUZZ_EXAMPLES // 5) if re.search(SLOW, path) else FUZZ_EXAMPLES
    # Requests that fit the document, requests that do not, and (for a route that names a
    # letter, draft or form) ones that name one that exists, so they get past the 404.
    strategies = [operation.as_strategy(mode) for mode in GenerationMode]
    names = set(re.findall(r"\{(\w+)\}", path)) & set(known)
    if names:
        fixed = {name: known[name] for name in names}
        strategies.append(operation.as_strategy(path_parameters=fixed))

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is shown as found
        suppress_health_check=list(HealthCheck),
    )
    def answers_within_the_document(case):
        case.call_and_validate(headers=bearer(token), checks=CHECKS)

    answers_within_the_document()
