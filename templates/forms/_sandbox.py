"""The Jinja environment that fills form templates, built for untrusted templates.

Clerks upload their own .docx templates, so a template is code from an unknown author. The
environment here is :class:`jinja2.sandbox.ImmutableSandboxedEnvironment` (no attribute
starting with ``_``, no mutation of lists and dicts) made stricter, so that a template can
neither reach Python internals nor exhaust the machine:

- **No internals.** Besides the sandbox's rules, only a short list of harmless methods may
  be called (``str.upper``, ``dict.items``, ``loop.cycle`` ...): ``str.format``,
  ``str.ljust(10**9)``, ``int.to_bytes`` and the like are refused. Globals are only
  ``range`` (capped) and ``dict``; ``cycler``, ``joiner``, ``lipsum`` and ``namespace`` are
  gone, filters are an allow-list, ``include``/``import``/``extends`` are refused.
- **Escaping.** Autoescape is on: a value's ``< & > " '`` are written as XML entities, so no
  value can break or inject document XML. The ``safe`` filter does not exist.
- **Bounded work.** Every ``for`` loop is wrapped (at compile time) in a guard that counts
  iterations; every call (macros, methods, ``range``) is counted; both check a deadline. The
  operators that can build a huge value in one step (``*``, ``**``, ``+`` on text, ``%``
  formatting) and the filters that can (``replace``, ``join``, ``batch``, ``slice``) check
  the size before they work; every filter's text result is size-checked after. All output
  is counted as it is joined. Any limit reached raises :class:`LimitExceeded`.

A new environment is made for each render (:func:`new_environment`), so counters and
deadlines never leak from one document to the next.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator
from jinja2.defaults import DEFAULT_FILTERS
from jinja2.runtime import LoopContext, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError


@dataclass(frozen=True)
class Limits:
    """How much one render may do. The defaults are documented in docs/forms.md."""

    max_range: int = 2_000  # items of one range()
    max_items: int = 2_000  # items of one list given as a value, or made by batch/slice
    max_iterations: int = 200_000  # loop iterations of one render, all loops together
    max_calls: int = 200_000  # calls (macros, methods, range) of one render
    max_string: int = 1_000_000  # characters of one computed value
    max_output: int = 40_000_000  # characters of one rendered part (document.xml, ...)
    seconds: float = 20.0  # wall-clock time of one render


DEFAULT_LIMITS = Limits()


class LimitExceeded(Exception):
    """A template went past one of the :class:`Limits` (a message in Thai and English)."""

    def __init__(self, en: str, th: str) -> None:
        super().__init__(en)
        self.en = en
        self.th = th


# Methods a template may call, by the type that owns them. Everything else callable that
# is reached through an attribute is refused (the sandbox refuses ``_`` names already).
_STR_METHODS = frozenset(
    {
        "upper",
        "lower",
        "title",
        "capitalize",
        "casefold",
        "swapcase",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "split",
        "rsplit",
        "splitlines",
        "count",
        "find",
        "rfind",
        "isdigit",
        "isalpha",
        "isalnum",
        "isspace",
        "isnumeric",
        "isdecimal",
        "removeprefix",
        "removesuffix",
        "partition",
        "rpartition",
    }
)
_SAFE_METHODS: tuple[tuple[type, frozenset[str]], ...] = (
    (str, _STR_METHODS),
    (dict, frozenset({"items", "keys", "values", "get"})),
    (list, frozenset({"index", "count"})),
    (tuple, frozenset({"index", "count"})),
    (LoopContext, frozenset({"cycle", "changed"})),
)

_FILTERS = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "filesizeformat",
    "first",
    "float",
    "groupby",
    "int",
    "items",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "select",
    "selectattr",
    "sort",
    "string",
    "striptags",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "wordcount",
    "batch",
    "slice",
)

_GUARD = "_saraban_loop_guard"
_CONCAT = "_saraban_concat"
_REFUSED_TAGS = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
    nodes.Extends: "extends",
}


class _SandboxUndefined(StrictUndefined):
    """Strict: a missing or refused value stops the render with its reason."""

    __slots__ = ()


class _GuardedCodeGenerator(CodeGenerator):
    """Rewrites the template tree before code generation.

    Every ``for`` iterates through the loop guard, every ``~`` concatenation goes through
    a size-checked join, and the tags that would load other templates are refused.
    """

    def visit_Template(self, node, frame=None):  # noqa: N802 (Jinja's visitor name)
        for tag, word in _REFUSED_TAGS.items():
            found = node.find(tag)
            if found is not None:
                self.fail(f"the {word!r} tag is not allowed in form templates", found.lineno)
        for loop in node.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _GUARD, [], [], None, None, lineno=loop.lineno)
        for concat in list(node.find_all(nodes.Concat)):
            items = nodes.List(concat.nodes, lineno=concat.lineno)
            concat.nodes = [nodes.Filter(items, _CONCAT, [], [], None, None, lineno=concat.lineno)]
        super().visit_Template(node, frame)


class FormEnvironment(ImmutableSandboxedEnvironment):
    """One render's environment: the sandbox plus counters (see the module docstring)."""

    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(autoescape=True, undefined=_SandboxUndefined, auto_reload=False)
        self.limits = limits
        self.iterations = 0
        self.calls = 0
        self.output = 0
        self._deadline = time.monotonic() + limits.seconds
        self.globals.clear()
        self.globals.update(range=self._range, dict=dict)
        self.filters = {name: _size_checked(self, DEFAULT_FILTERS[name]) for name in _FILTERS}
        self.filters.update(
            replace=_size_checked(self, self._replace, DEFAULT_FILTERS["replace"]),
            join=_size_checked(self, self._join, DEFAULT_FILTERS["join"]),
            batch=self._batch,
            slice=self._slice,
        )
        self.filters[_GUARD] = self._loop_guard
        self.filters[_CONCAT] = self._concat

    # ---- counters ----------------------------------------------------------------------

    def _tick(self) -> None:
        if time.monotonic() > self._deadline:
            raise LimitExceeded(
                f"the template took longer than {self.limits.seconds:g} seconds",
                f"แม่แบบใช้เวลาเกิน {self.limits.seconds:g} วินาที",
            )

    def _loop_guard(self, iterable):
        limit = self.limits.max_iterations
        for item in iterable:
            self.iterations += 1
            if self.iterations > limit:
                raise LimitExceeded(
                    f"the template's loops ran more than {limit:,} times",
                    f"ลูปในแม่แบบทำงานเกิน {limit:,} รอบ",
                )
            if not self.iterations % 256:
                self._tick()
            yield item

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        __self.calls += 1
        if __self.calls > __self.limits.max_calls:
            raise LimitExceeded(
                f"the template made more than {__self.limits.max_calls:,} calls",
                f"แม่แบบเรียกใช้ฟังก์ชันเกิน {__self.limits.max_calls:,} ครั้ง",
            )
        __self._tick()
        return super().call(__context, __obj, *args, **kwargs)

    def concat(self, chunks) -> str:  # every render, block and macro body is joined here
        parts = []
        size = 0
        for chunk in chunks:
            size += len(chunk)
            if size > self.limits.max_output:
                raise LimitExceeded(
                    f"the filled document would exceed {self.limits.max_output:,} characters",
                    f"เอกสารที่กรอกแล้วยาวเกิน {self.limits.max_output:,} ตัวอักษร",
                )
            parts.append(chunk)
        self.output += size
        self._tick()
        return "".join(parts)

    # ---- what a template may touch -----------------------------------------------------

    def is_safe_attribute(self, obj, attr, value) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if not callable(value):
            return True
        return any(isinstance(obj, owner) and attr in names for owner, names in _SAFE_METHODS)

    def wrap_str_format(self, value):
        """``str.format`` is refused outright (a format spec can pad to any width)."""
        return None

    def call_binop(self, context, operator, left, right):
        limit = self.limits.max_string
        if operator == "%" and isinstance(left, str):
            raise SecurityError("printf-style '%' formatting is not allowed in form templates")
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if abs(right) > 1000 or max(abs(left), 2).bit_length() * abs(right) > 64_000:
                raise LimitExceeded(
                    f"the number {left}**{right} is too large",
                    f"ตัวเลข {left}**{right} ใหญ่เกินไป",
                )
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                    # what it holds, not its length: [[1]*10**6]*10**6 printed for minutes
                    if _weight(seq, limit) * times > limit:
                        raise _too_long(limit)
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > 64_000
            ):
                raise LimitExceeded(
                    "a product in the template is too large a number",
                    "ผลคูณในแม่แบบเป็นตัวเลขใหญ่เกินไป",
                )
        if (
            operator == "+"
            and isinstance(left, (str, list, tuple))
            and isinstance(right, (str, list, tuple))
            and len(left) + len(right) > limit
        ):
            raise _too_long(limit)
        return super().call_binop(context, operator, left, right)

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        if len(numbers) > self.limits.max_range:
            raise LimitExceeded(
                f"range() of {len(numbers):,} items; at most {self.limits.max_range:,}",
                f"range() มี {len(numbers):,} รายการ เกินกว่า {self.limits.max_range:,}",
            )
        return numbers

    def _concat(self, items):
        strings = [str(item) for item in items]
        if sum(len(s) for s in strings) > self.limits.max_string:
            raise _too_long(self.limits.max_string)
        if any(hasattr(item, "__html__") for item in items):
            return markup_join(items)
        return str_join(items)

    def _replace(self, eval_ctx, value, old, new, count=None):
        text, old, new = str(value), str(old), str(new)
        hits = text.count(old) if old else len(text) + 1
        if count is not None:
            hits = min(hits, int(count))
        if len(text) + hits * (len(new) - len(old)) > self.limits.max_string:
            raise _too_long(self.limits.max_string)
        return DEFAULT_FILTERS["replace"](eval_ctx, value, old, new, count)

    def _join(self, eval_ctx, value, d="", attribute=None):
        items = list(value)
        if len(items) > self.limits.max_items * 10:
            raise _too_many(self.limits.max_items * 10)
        size = sum(len(str(item)) for item in items) + len(str(d)) * max(len(items) - 1, 0)
        if attribute is None and size > self.limits.max_string:
            raise _too_long(self.limits.max_string)
        return DEFAULT_FILTERS["join"](eval_ctx, items, d, attribute)

    def _batch(self, value, linecount, fill_with=None):
        if int(linecount) > self.limits.max_items:
            raise _too_many(self.limits.max_items)
        return DEFAULT_FILTERS["batch"](value, linecount, fill_with)

    def _slice(self, value, slices, fill_with=None):
        if int(slices) > self.limits.max_items:
            raise _too_many(self.limits.max_items)
        return DEFAULT_FILTERS["slice"](value, slices, fill_with)


def _size_checked(env: FormEnvironment, function, like=None):
    """A filter whose text result may not exceed ``max_string`` characters."""

    @functools.wraps(like or function)
    def checked(*args, **kwargs):
        # the clock is read around each filter too: filters are no calls, and thirty
        # chained over a million items ran 78 s past a 20 s limit
        env._tick()
        result = function(*args, **kwargs)
        env._tick()
        if isinstance(result, str) and len(result) > env.limits.max_string:
            raise _too_long(env.limits.max_string)
        return result

    return checked


def _weight(value: object, budget: int) -> int:
    """How many items and characters ``value`` holds, nested lists included, counted up to
    just past ``budget`` (a list of one list a million times is counted in a million
    steps, not a trillion)."""
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, (list, tuple)):
        return 1
    total = len(value)
    for item in value:
        if total > budget:
            break
        if isinstance(item, (str, list, tuple)):
            total += _weight(item, budget - total)
    return total


def _too_long(limit: int) -> LimitExceeded:
    return LimitExceeded(
        f"a value in the template would exceed {limit:,} characters",
        f"ค่าในแม่แบบยาวเกิน {limit:,} ตัวอักษร",
    )


def _too_many(limit: int) -> LimitExceeded:
    return LimitExceeded(
        f"a list in the template would exceed {limit:,} items",
        f"รายการในแม่แบบเกิน {limit:,} รายการ",
    )


def new_environment(limits: Limits = DEFAULT_LIMITS, filters: dict | None = None):
    """A fresh environment for one render; ``filters`` adds the caller's own filters."""
    env = FormEnvironment(limits)
    if filters:
        env.filters.update({name: _size_checked(env, f) for name, f in filters.items()})
    return env


__all__ = ["DEFAULT_LIMITS", "FormEnvironment", "LimitExceeded", "Limits", "new_environment"]
