"""One behavior-event record, accepted or rejected exactly as the streaming job's parser does.

The job (``flink-job``, ``io.seqrec.event.EventParser``) dead-letters every input record it cannot
serve, with a reason. Training data must not hold events the stream would never have served, so
:func:`parse_event` applies the same rules to the same bytes and names the same reason. Both sides
are checked against one file of cases, ``contracts/behavior-events.jsonl`` (see its README).

The job reads JSON with a streaming parser and stops at the first problem in document order: a
field with the wrong type is reported even if the record is truncated further on, and syntax
errors come before missing fields. So this module does not use :func:`json.loads` on the whole
record (it would also accept ``NaN``, duplicate keys and unbounded numbers): it walks the record
once, in the same order, with the same limits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from json.decoder import JSONDecodeError, scanstring
from typing import Callable, Optional, Tuple

#: The job's ``--max-record-bytes`` default: longer records are rejected unread.
MAX_RECORD_BYTES = 65536
#: The job's ``--max-field-length`` default: longest ``user_id``, ``item_id``, ``event_id``, in
#: UTF-16 code units (Java's ``String.length()``: a character outside the BMP counts twice).
MAX_FIELD_LENGTH = 256
EVENT_TYPES = ("view", "click", "cart", "purchase", "rate")
#: The ``event_type`` of a deletion request: the user asks to be forgotten. Not a behavior.
FORGET = "forget"

# The job's JSON limits (EventParser's StreamReadConstraints; the name limit is Jackson's default).
_MAX_NESTING_DEPTH = 16
_MAX_NUMBER_DIGITS = 32
_MAX_NAME_BYTES = 50000
_MAX_TS = 2**63 - 1  # ts must fit in a Java long

_WHITESPACE = " \t\n\r"
_SKIP_WHITESPACE = re.compile("[ \t\n\r]*")
# ASCII digits only: Python's \d would also match other scripts' digits, which JSON does not.
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# Characters Java's Character.isJavaIdentifierPart accepts: after a literal (true, false, null)
# one of these makes the job read one longer, unknown token ("truex") rather than the literal.
_IDENTIFIER_CATEGORIES = {"Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Nd", "Mn", "Mc", "Pc", "Sc", "Cf"}
# Java's String.isBlank: Character.isWhitespace is true for U+0009..U+000D, U+001C..U+001F and
# the space, line and paragraph separators except the no-break ones (U+00A0, U+2007, U+202F).
_BLANK = re.compile("[\t-\r\x1c-\x1f \u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]*")
# What an id may not hold: C0 and C1 controls, DEL, and surrogates (in a Python str from JSON,
# a surrogate is always unpaired: an escaped pair decodes to one character).
_INVALID_ID_CHAR = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Event:
    """A record the job accepts. ``event_id`` is None when the record carries none (the job then
    derives ``topic-partition-offset``, unique per record). A deletion request (``event_type``
    :data:`FORGET`) has no ``item_id`` (one in the record is checked, then ignored) and its ``ts``
    is None when absent."""

    user_id: str
    item_id: Optional[str]
    event_type: str
    ts: Optional[int]
    event_id: Optional[str]


class InvalidEvent(ValueError):
    """A record the job dead-letters; ``reason`` is the job's wire name (``invalid_timestamp``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_event(value: bytes) -> Event:
    """The event in one record, or :class:`InvalidEvent` with the reason the job would give.

    Applies every rule the job decides from the record's bytes alone, with the job's default
    limits. Rules that need the stream (``future_timestamp`` against the Kafka timestamp, ``late``
    and ``duplicate_event_id`` against the user's earlier events) are not decided here.
    """
    if not value:
        raise InvalidEvent("empty_value", "record has no value")
    if len(value) > MAX_RECORD_BYTES:
        raise InvalidEvent(
            "record_too_large", f"record is {len(value)} bytes, limit {MAX_RECORD_BYTES}"
        )
    try:
        # Python's strict UTF-8 decoder rejects what the job's check rejects: overlong forms,
        # encoded surrogates, code points above U+10FFFF and truncated sequences.
        text = value.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidEvent("invalid_utf8", f"invalid UTF-8 at byte {e.start}") from None
    if text.startswith("\ufeff"):
        raise InvalidEvent("invalid_json", "record starts with a byte order mark")
    return _Record(text).parse()


class _Record:
    """One pass over a record's JSON text, raising at the first problem the job would report."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.user_id: Optional[str] = None
        self.item_id: Optional[str] = None
        self.event_type = "view"
        self.ts: Optional[int] = None
        self.event_id: Optional[str] = None

    def parse(self) -> Event:
        self._skip_whitespace()
        if self._peek() != "{":
            if self.pos < len(self.text):
                self._root_scalar()
            raise InvalidEvent("not_an_object", "value is not a JSON object")
        self._object(self._top_level_field)
        self._skip_whitespace()
        if self.pos < len(self.text):
            self._root_scalar()
            raise InvalidEvent("invalid_json", "trailing content after the object")
        if self.user_id is None:
            raise _missing("user_id")
        if self.event_type == FORGET:
            return Event(self.user_id, None, FORGET, self.ts, self.event_id)
        if self.item_id is None:
            raise _missing("item_id")
        if self.ts is None:
            raise _missing("ts")
        return Event(self.user_id, self.item_id, self.event_type, self.ts, self.event_id)

    # ---------------------------------------------------------------- the five known fields

    def _top_level_field(self, name: str) -> None:
        if name == "ts":
            self._skip_whitespace()
            if self._peek() == '"':
                # The job rejects a string ts without reading the string, malformed or not.
                raise InvalidEvent("wrong_type", "field 'ts' must be a number, got string")
        kind, value = self._value(name)
        if name == "user_id":
            self.user_id = _checked_id(name, kind, value, required=True)
        elif name == "item_id":
            self.item_id = _checked_id(name, kind, value, required=True)
        elif name == "event_id":
            self.event_id = _checked_id(name, kind, value, required=False)
        elif name == "event_type":
            if kind == "null":
                return
            if kind != "string":
                raise InvalidEvent("wrong_type", f"field 'event_type' must be a string, got {kind}")
            if value not in EVENT_TYPES and value != FORGET:
                raise InvalidEvent(
                    "unknown_event_type",
                    f"field 'event_type' is {value!r}, not one of "
                    f"{'|'.join(EVENT_TYPES + (FORGET,))}",
                )
            self.event_type = str(value)
        elif name == "ts":
            self.ts = _checked_ts(kind, value)

    # ---------------------------------------------------------------- JSON, as the job reads it

    def _value(self, name: Optional[str]) -> Tuple[str, object]:
        """Reads one value; returns its kind (``string``, ``integer``, ``float``, ``boolean``,
        ``null``, ``object``, ``array``) and, for strings and numbers, its text."""
        self._skip_whitespace()
        c = self._peek()
        if c == "{":
            self._object(self._nested_field)
            return "object", None
        if c == "[":
            self._array()
            return "array", None
        if c == '"':
            return "string", self._string()
        if c == "-" or _is_digit(c):
            return self._number(name, root=False)
        for literal, kind in (("true", "boolean"), ("false", "boolean"), ("null", "null")):
            if self.text.startswith(literal, self.pos):
                self.pos += len(literal)
                self._literal_end(literal)
                return kind, None
        raise self._syntax("expected a value")

    def _nested_field(self, name: str) -> None:
        self._value(name)

    def _object(self, on_field: Callable[[str], None]) -> None:
        if self._open("}"):
            return
        seen = set()
        while True:
            self._skip_whitespace()
            if self._peek() != '"':
                raise self._syntax("expected a field name")
            name = self._string()
            size = len(name.encode("utf-8", "surrogatepass"))
            if size > _MAX_NAME_BYTES:
                raise InvalidEvent(
                    "field_too_long", f"field name of {size} bytes, limit {_MAX_NAME_BYTES}"
                )
            if name in seen:
                raise InvalidEvent("duplicate_field", f"duplicate field {name!r}")
            seen.add(name)
            self._skip_whitespace()
            if self._peek() != ":":
                raise self._syntax("expected ':'")
            self.pos += 1
            on_field(name)
            if self._after_member("}"):
                return

    def _array(self) -> None:
        if self._open("]"):
            return
        while True:
            self._value(None)  # an element has no field name, even inside "ts"
            if self._after_member("]"):
                return

    def _after_member(self, close: str) -> bool:
        """Consumes ',' (False: another member follows) or the closing bracket (True)."""
        self._skip_whitespace()
        c = self._peek()
        if c not in (",", close):
            raise self._syntax(f"expected ',' or '{close}'")
        self.pos += 1
        if c == ",":
            return False
        self.depth -= 1
        return True

    def _open(self, close: str) -> bool:
        """Enters an object or array; True when it is empty (and so already closed again)."""
        self.pos += 1
        self.depth += 1
        if self.depth > _MAX_NESTING_DEPTH:
            raise InvalidEvent(
                "too_deeply_nested", f"nested deeper than {_MAX_NESTING_DEPTH} levels"
            )
        self._skip_whitespace()
        if self._peek() != close:
            return False
        self.pos += 1
        self.depth -= 1
        return True

    def _string(self) -> str:
        try:
            s, self.pos = scanstring(self.text, self.pos + 1, True)
        except JSONDecodeError as e:
            raise InvalidEvent(
                "invalid_json", f"invalid JSON ({e.msg} at column {e.colno})"
            ) from None
        return s

    def _number(self, name: Optional[str], root: bool) -> Tuple[str, str]:
        m = _NUMBER.match(self.text, self.pos)
        if m is None:
            raise self._syntax("expected a digit")
        integer, fraction, exponent = m.groups()
        self.pos = m.end()
        after = self._peek()
        if (
            (fraction is None and exponent is None and after == ".")
            or (exponent is None and after in ("e", "E"))
            or (integer.lstrip("-") == "0" and fraction is None and _is_digit(after))
        ):
            raise self._syntax("malformed number")
        if root and after != "" and after not in _WHITESPACE:
            raise self._syntax("expected whitespace after a number")
        digits = len(integer.lstrip("-"))
        digits += len(fraction) - 1 if fraction else 0
        digits += len(exponent.lstrip("eE+-")) if exponent else 0
        if digits > _MAX_NUMBER_DIGITS:
            # The job blames the field the number is the value of; only "ts" has its own reason.
            raise InvalidEvent(
                "invalid_timestamp" if name == "ts" else "field_too_long",
                f"number of {digits} digits, limit {_MAX_NUMBER_DIGITS}",
            )
        return ("integer" if fraction is None and exponent is None else "float"), m.group(0)

    def _literal_end(self, literal: str) -> None:
        after = self._peek()
        if after >= "0" and after not in "]}" and _identifier_part(after):
            raise self._syntax(f"unrecognized token after {literal!r}")

    def _root_scalar(self) -> None:
        """Reads the token at the top level that is not the record's object, to fail as the job
        does on a malformed one; strings and arrays the job does not read any further."""
        c = self._peek()
        if c in ('"', "[", "{"):
            return
        if c == "-" or _is_digit(c):
            self._number(None, root=True)
        else:
            self._value(None)

    def _skip_whitespace(self) -> None:
        self.pos = _SKIP_WHITESPACE.match(self.text, self.pos).end()

    def _peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def _syntax(self, what: str) -> InvalidEvent:
        return InvalidEvent("invalid_json", f"invalid JSON ({what} at column {self.pos + 1})")


def _missing(name: str) -> InvalidEvent:
    return InvalidEvent("missing_field", f"field {name!r} is missing or null")


def _is_digit(c: str) -> bool:
    return c != "" and c in "0123456789"


def _identifier_part(c: str) -> bool:
    return unicodedata.category(c) in _IDENTIFIER_CATEGORIES or "\x7f" <= c <= "\x9f"


def _checked_id(name: str, kind: str, value: object, required: bool) -> Optional[str]:
    if kind == "null":
        if required:
            raise _missing(name)
        return None
    if kind != "string":
        raise InvalidEvent("wrong_type", f"field {name!r} must be a string, got {kind}")
    s = str(value)
    if _BLANK.fullmatch(s):
        raise InvalidEvent("empty_field", f"field {name!r} is empty or blank")
    length = len(s.encode("utf-16-le", "surrogatepass")) // 2
    if length > MAX_FIELD_LENGTH:
        raise InvalidEvent(
            "field_too_long",
            f"field {name!r} has {length} UTF-16 code units, limit {MAX_FIELD_LENGTH}",
        )
    bad = _INVALID_ID_CHAR.search(s)
    if bad:
        # An unpaired surrogate (an escaped U+D800 alone) is valid JSON but no character: the id
        # could not be written back as UTF-8.
        code = ord(bad.group())
        what = "unpaired surrogate" if code >= 0xD800 else "control character"
        raise InvalidEvent("invalid_characters", f"field {name!r} contains {what} U+{code:04X}")
    return s


def _checked_ts(kind: str, value: object) -> Optional[int]:
    if kind == "null":
        return None
    if kind == "float":
        raise InvalidEvent(
            "invalid_timestamp", f"field 'ts' must be whole epoch milliseconds, got {value}"
        )
    if kind != "integer":
        raise InvalidEvent("wrong_type", f"field 'ts' must be a number, got {kind}")
    ts = int(str(value))
    if ts <= 0 or ts > _MAX_TS:
        raise InvalidEvent(
            "invalid_timestamp", f"field 'ts' must be positive and fit in 64 bits, got {ts}"
        )
    return ts
