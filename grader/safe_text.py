"""Text a student controls, made safe for where it goes: one function per kind of output.

A submission controls what its code prints, the messages of the exceptions it raises, the names
of its files and folders, and (through folder names, zip names and Gradescope's metadata) the
student's name. Any of it can reach an instructor's terminal, a CI log, an XML or JSON report, a
spreadsheet, or a Markdown or HTML page. Each output applies its function here at the one place
where such text enters it:

- :func:`terminal`: printed reports (``grade``, the Gradescope log, ``grade batch``'s lines);
- :func:`filename`: a file or folder name, or a student's name made from one;
- :func:`xml`: the JUnit report;
- :func:`json_text`: a JSON document that is printed (``grade --format json``);
- :func:`github_log`: text GitHub Actions prints where it cannot be fenced off;
- :func:`csv_cell`: a text cell of grades.csv or canvas.csv;
- :func:`markdown_inline`, :func:`markdown_code`, :func:`markdown_block`: feedback/*.md;
- HTML (feedback/*.html, report.html) is escaped by jinja2's autoescape (markupsafe), after
  :func:`terminal` (grader.batch.feedback, grader.batch.class_report).

Each leaves honest text alone: letters of any script, emoji, tabs and line breaks where the
output has lines. terminal, filename, xml, json_text, github_log and csv_cell change nothing when
applied twice, so an output may apply its own to text another has already passed; the Markdown
functions mark what they return, so that a template does not escape it again.

Why the standard library: what makes a control character harmless is to show it, and Python's own
``repr`` notation (``\\x1b``) is what a student sees of the same string in Python; the ``csv``
and ``json`` modules already quote and escape their syntax, so only spreadsheet formulas and a
few code points are left to handle here. ``xml.sax.saxutils`` and the XML writers escape
``<&>`` but pass control characters through into a document no parser accepts; packages that
handle terminal sequences strip them, where showing them tells the instructor what was tried.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# What a terminal obeys instead of showing, or shows out of order: C0 controls (ESC starts every
# CSI and OSC sequence; CR, BS, VT and FF move the cursor; BEL rings), DEL, the C1 controls
# U+0080-U+009F (U+009B is CSI and U+009D OSC on terminals that take 8-bit controls), the Unicode
# bidirectional embeddings, overrides and isolates (they reorder a line as it is displayed), lone
# surrogates (no encoder writes them: they stand for bytes that were not UTF-8) and the two
# noncharacters U+FFFE and U+FFFF (which XML forbids too), and the Unicode line and paragraph
# separators U+2028 and U+2029 (some viewers break a line there, to draw a line of their own).
# Tab and line feed are line structure.
# The bidirectional marks (U+200E, U+200F, U+061C) are kept: they reorder nothing but the
# punctuation beside them, and right-to-left text uses them.
_CONTROLS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff"
)
_SHOWN = re.compile(f"[{_CONTROLS}]")
_SHOWN_IN_ONE_LINE = re.compile(f"[{_CONTROLS}\t\n]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# os.fsdecode turns each byte of a name that is not UTF-8 into U+DC80-U+DCFF (surrogateescape).
_ESCAPED_BYTES = range(0xDC80, 0xDD00)


def _shown(match: re.Match[str]) -> str:
    """One control character as Python's repr writes it; a byte that was not UTF-8 as ``\\xff``."""
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code in _ESCAPED_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: str, one_line: bool = False) -> str:
    """``text`` as a terminal shows it without obeying any of it.

    Escape and control sequences are shown, never obeyed: ``"\\x1b[2J"`` (clear the screen)
    prints as the seven characters ``\\x1b[2J``, and so do OSC titles and hyperlinks, a CR that
    would overwrite a line, backspaces, C1 controls and bidirectional overrides (U+202A-U+202E,
    U+2066-U+2069), each written as Python's repr writes it. A byte that was not UTF-8 (in a file
    name) is shown as ``\\xff``, so the text can always be encoded. Tab and line feed are kept
    (CR LF becomes LF), unless ``one_line``: then they are shown too, for a value that must stay
    on its line (a name, a one-line message).
    """
    if one_line:
        return _SHOWN_IN_ONE_LINE.sub(_shown, text)
    return _SHOWN.sub(_shown, text.replace("\r\n", "\n"))


def filename(name: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    """A file or folder name (or path) as every report shows it: on one line, printable, UTF-8.

    On Linux a name is bytes; one that is not UTF-8 decodes (``os.fsdecode``) with surrogate
    escapes, which crash ``print`` and every encoder at the moment they are written out. Here
    each such byte is shown as ``\\xff`` (what ``backslashreplace`` shows of the raw bytes), and
    a control character in the name (ESC, CR, a line feed) as :func:`terminal` shows it.
    """
    return terminal(os.fsdecode(name), one_line=True)


def xml(text: str) -> str:
    """``text`` for an XML document (the JUnit report), which must stay well-formed.

    XML 1.0 allows no control character but tab, LF and CR, no lone surrogate and neither
    U+FFFE nor U+FFFF; one of them in a message (``raise ValueError("\\x1b\\x00")``) makes the
    whole file unreadable to CI. The XML writers escape ``<``, ``&`` and quotes but not these.
    Every character XML forbids is among those :func:`terminal` shows, and CI tools print these
    messages into logs, so the terminal's rule serves both.
    """
    return terminal(text)


# What json.dumps(ensure_ascii=False) leaves raw that a terminal or a log must not get: DEL, the
# C1 controls, bidirectional controls, lone surrogates, noncharacters; and the "#" of "#[", since
# GitHub's runner obeys its older command syntax "##[name]..." anywhere in a line.
_JSON_SHOWN = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]|#(?=\\[)")


def json_text(document: str) -> str:
    """A JSON document's text (from ``json.dumps``) made safe to print; it parses to the same data.

    JSON writes C0 controls as ``\\u001b``; the characters it leaves raw that a terminal obeys
    (C1 controls, DEL, bidirectional overrides) and that cannot be encoded (lone surrogates) are
    written as ``\\uXXXX`` escapes too, and so is the ``#`` before a ``[``, which GitHub Actions
    would otherwise read, inside a student's string, as the start of a workflow command. Those
    characters only occur inside JSON strings, where an escape means the same character.
    """
    return _JSON_SHOWN.sub(lambda match: f"\\u{ord(match.group()):04x}", document)


# GitHub's runner reads a line as a workflow command when it starts (after spaces) with "::name"
# or holds "##[name" anywhere (actions/runner ActionCommand.TryParseV2 and TryParse).
_COMMAND_AT_START = re.compile(r"^([^\S\n]*)::", re.MULTILINE)
_OLD_COMMAND = "##["


def github_log(text: str) -> str:
    """``text`` for a GitHub Actions log where it cannot be fenced off: shown, never obeyed.

    ``grade`` puts its report between ``::stop-commands::`` markers, but GitHub Classroom's
    reporter prints each check's message itself. Here the message is made terminal-safe
    (:func:`terminal`), a line starting with ``::`` gets a backslash before it (``\\::add-mask::``)
    and ``##[`` becomes ``##\\[``, so that no ``::error::``, ``::add-mask::`` or
    ``::stop-commands::`` a student prints is obeyed.
    """
    shown = _COMMAND_AT_START.sub(r"\1\\::", terminal(text))
    return shown.replace(_OLD_COMMAND, "##\\[")


# A cell a spreadsheet reads as a formula: OWASP's list (= + - @, tab, CR), and their fullwidth
# forms, which some spreadsheets take for the ASCII ones.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(text: str) -> str:
    """A text cell of a CSV file (a student's name, a roster's column), never run as a formula.

    Excel, LibreOffice and Google Sheets run a cell starting with ``=``, ``+``, ``-``, ``@``, tab
    or CR as a formula (``=HYPERLINK(...)``, ``=cmd|...``); such a cell gets a leading single
    quote, as OWASP advises, which shows the text as text. Control characters are shown as
    :func:`terminal` shows them (a CSV is also read with ``cat``). Quoting commas and quotes is
    the ``csv`` module's work. Only text goes through here: the numbers the grader writes (a
    score, even a negative one) are numbers, not formulas, and are written as they are.
    """
    shown = terminal(text)
    return "'" + shown if shown.startswith(_FORMULA_START) else shown


class Markdown(str):
    """Text already made safe as Markdown (a code span or block): not escaped again."""


# Characters that start inline Markdown (CommonMark, and GitHub's tables and strikethrough):
# code spans, emphasis, links and images, raw HTML and autolinks, entity references. An
# underscore between two letters or digits (numerical_derivative) starts nothing and is kept.
_MARKDOWN_INLINE = re.compile(r"[\\`*\[\]<>&|~#]|(?<![^\W_])_|_(?![^\W_])")
# What starts a block at the beginning of a line (besides # and >): a list item, a setext
# underline, an ordered list item.
_MARKDOWN_BULLET = re.compile(r"^([+=-])")
_MARKDOWN_NUMBER = re.compile(r"^(\d+)([.)])")


def _backslashed(match: re.Match[str]) -> str:
    return "\\" + match.group()


def markdown_inline(text: str) -> Markdown:
    """``text`` inside a line of Markdown, shown as the characters it is.

    Every character that would start emphasis, a code span, a link or image, raw HTML, an entity
    or a table cell gets a backslash (CommonMark's escape for any ASCII punctuation), a leading
    list or heading marker too, and line breaks become spaces (as Markdown renders a single line
    break in a paragraph), so a student's text cannot add a heading, a link or a script.
    """
    if isinstance(text, Markdown):
        return text
    escaped = _MARKDOWN_INLINE.sub(_backslashed, terminal(text).replace("\n", " "))
    escaped = _MARKDOWN_NUMBER.sub(r"\1\\\2", _MARKDOWN_BULLET.sub(r"\\\1", escaped))
    return Markdown(escaped)


def _fence_for(text: str, least: int) -> str:
    """A run of backticks longer than any in ``text``, and at least ``least`` long."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    return "`" * max(least, longest + 1)


def markdown_code(text: str) -> Markdown:
    """``text`` (a file name) as a Markdown code span, whatever backticks it holds.

    The span is delimited by a backtick run longer than any inside it, padded with a space when
    the text starts or ends with a backtick or space (CommonMark strips one space each side).
    """
    shown = terminal(text, one_line=True)
    fence = _fence_for(shown, 1)
    pad = " " if shown[:1] in ("`", " ") or shown[-1:] in ("`", " ") else ""
    return Markdown(f"{fence}{pad}{shown}{pad}{fence}")


def markdown_block(text: str, info: str = "text", indent: str = "") -> Markdown:
    """``text`` (what a student's code printed, a message) as a fenced Markdown code block.

    The fence is longer than the longest run of backticks in the text, so no line of it can
    close the block early: a student's ```` ``` ```` cannot end the block and go on as Markdown
    (a fake heading, a link, HTML). ``indent`` goes before every line, to keep the block inside
    a list item.
    """
    shown = terminal(text)
    fence = _fence_for(shown, 3)
    lines = [fence + info, *shown.split("\n"), fence]
    return Markdown("\n".join(indent + line if line else line for line in lines))


def each_text(value: T, clean: Callable[[str], str]) -> T:
    """``value`` with ``clean`` applied to every string in it: in a result (a dataclass, such as
    grader.results.ExerciseResult), a list, a tuple or a dict's values. ``value`` is not changed.
    """
    return _each_text(value, clean)


def _each_text(value: Any, clean: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list | tuple):
        return type(value)(_each_text(item, clean) for item in value)
    if isinstance(value, dict):
        return {key: _each_text(item, clean) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changed = {
            field.name: _each_text(getattr(value, field.name), clean)
            for field in dataclasses.fields(value)
            if field.init
        }
        return dataclasses.replace(value, **changed)
    return value
