"""OBO flat files (format 1.2 / 1.4) read as a stream of terms, one stanza at a time.

Why not pronto/fastobo: both reject the real Sequence Ontology release 2024-11-18 at line 8859
(``xref: http://ecoliwiki.net/…/Category\\:Cryptic_Prophage.w`` — an escaped colon inside a URL
xref, which OBO 1.4 allows), so a small line parser reads what the loaders need instead. It
streams (one stanza in memory), reports every error with its exact line, and follows the OBO 1.4
syntax guide (https://owlcollab.github.io/oboformat/doc/obo-syntax.html) where it matters:

* a stanza starts with ``[Term]``, ``[Typedef]`` or ``[Instance]``; only ``[Term]`` is returned;
  lines before the first stanza are the header;
* every other non-blank line is ``tag: value``; a line that is not is an error;
* ``!`` preceded by whitespace starts a comment, ``{…}`` at the end of a value are trailing
  modifiers, ``\\`` escapes the next character (``\\n`` newline, ``\\t`` tab, ``\\W`` space);
* ``def:`` and ``synonym:`` values are a quoted string followed by a ``[…]`` dbxref list;
  synonym scope is EXACT, RELATED (the default), BROAD or NARROW. EXACT synonyms are other names
  of the term itself; the other scopes are not, so they are kept apart (``other_synonyms``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.loaders.errors import SourceFormatError
from kg.loaders.sourcefile import checked_first, date_in, open_text, read_errors

_TAG_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_\-]*):(?:[ \t]+(.*?))?[ \t]*$")
_STANZAS = ("[Term]", "[Typedef]", "[Instance]")
_SCOPES = ("EXACT", "RELATED", "BROAD", "NARROW")
_LEGACY_SYNONYM_TAGS = {
    "exact_synonym": "EXACT",
    "related_synonym": "RELATED",
    "broad_synonym": "BROAD",
    "narrow_synonym": "NARROW",
}
_ESCAPES = {"n": "\n", "t": "\t", "W": " "}
_EXACT_MATCH = ("exactMatch", "skos:exactMatch")


@dataclass
class OboTerm:
    id: str
    line: int  # where the stanza starts
    name: str | None = None
    definition: str | None = None
    synonyms: list[str] = field(default_factory=list)  # EXACT
    other_synonyms: list[str] = field(default_factory=list)  # RELATED, BROAD, NARROW
    xrefs: list[str] = field(default_factory=list)
    exact_matches: list[str] = field(default_factory=list)  # property_value: exactMatch "MESH:…"
    alt_ids: list[str] = field(default_factory=list)
    subsets: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)  # is_a targets
    obsolete: bool = False
    replaced_by: list[str] = field(default_factory=list)
    consider: list[str] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        """The row the ontology loaders' Cypher reads; obsolete terms stay out of the IS_A hierarchy."""
        return {
            "id": self.id,
            "name": self.name,
            "definition": self.definition,
            "synonyms": self.synonyms,
            "otherSynonyms": self.other_synonyms,
            "xrefs": self.xrefs,
            "altIds": self.alt_ids,
            "subsets": self.subsets,
            "parents": [] if self.obsolete else self.parents,
            "obsolete": self.obsolete,
            "replacedBy": self.replaced_by[0] if self.replaced_by else None,
            "replacements": self.replaced_by,
            "consider": self.consider,
        }


class _Line:
    """One physical line being parsed, so errors can say where and what."""

    def __init__(self, path: Path, number: int, text: str) -> None:
        self.path, self.number, self.text = path, number, text

    def error(self, expected: str) -> SourceFormatError:
        return SourceFormatError(self.path, self.number, expected, self.text[:200])


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"(.*)$', re.DOTALL)
_TOKEN = re.compile(r"(?:[^\s\\]|\\.)+")
_ESCAPE = re.compile(r"\\(.?)")


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def _quoted(value: str, line: _Line) -> tuple[str, str]:
    """``"text" rest`` -> (text, rest), honouring backslash escapes."""
    if not value.startswith('"'):
        raise line.error('a quoted string ("…")')
    match = _QUOTED.match(value)
    if match is None:
        raise line.error('a closing quote (")')
    return _unescape(match.group(1)), match.group(2).strip()


def _token(value: str, line: _Line) -> str:
    """The first whitespace-delimited token (an identifier), unescaped (``\\:`` -> ``:``)."""
    match = _TOKEN.match(value)
    if match is None or value.startswith(("!", "{")):
        raise line.error("an identifier")
    token = match.group(0)
    return _ESCAPE.sub(lambda m: m.group(1), token) if "\\" in token else token


def _plain(value: str) -> str:
    """An unquoted text value without its trailing comment and modifiers."""
    if "!" not in value and "\\" not in value and not value.endswith("}"):
        return value
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\":
            index += 2
            continue
        if char == "!" and (index == 0 or value[index - 1] in " \t"):
            value = value[:index]
            break
        index += 1
    value = value.rstrip()
    if value.endswith("}") and " {" in value:
        value = value[: value.rindex(" {")].rstrip()
    return _unescape(value)


def _dbxref_list_follows(rest: str, line: _Line) -> None:
    if not rest.startswith("["):
        raise line.error("a [dbxref list] after the quoted text")
    if "]" not in rest:
        raise line.error("a closing ] of the dbxref list")


def _append_unique(values: list[str], value: str) -> None:
    if value not in values:
        values.append(value)


def _apply(term: OboTerm, tag: str, value: str, line: _Line) -> None:
    """Record one clause of a [Term] stanza."""
    if tag == "id":
        raise line.error("one id: per stanza")
    if tag == "name":
        term.name = _plain(value)
    elif tag == "def":
        text, rest = _quoted(value, line)
        _dbxref_list_follows(rest, line)
        term.definition = text
    elif tag == "synonym" or tag in _LEGACY_SYNONYM_TAGS:
        text, rest = _quoted(value, line)
        scope = _LEGACY_SYNONYM_TAGS.get(tag, "RELATED")
        words = rest.split(None, 1)
        if words and words[0] in _SCOPES:
            scope = words[0]
            rest = words[1] if len(words) > 1 else ""
        elif words and not words[0].startswith("["):
            raise line.error("a synonym scope (EXACT, RELATED, BROAD or NARROW)")
        if "[" not in rest:
            raise line.error("a [dbxref list] after the synonym")
        _append_unique(term.synonyms if scope == "EXACT" else term.other_synonyms, text)
    elif tag == "xref":
        _append_unique(term.xrefs, _token(value, line))
    elif tag == "alt_id":
        _append_unique(term.alt_ids, _token(value, line))
    elif tag == "subset":
        _append_unique(term.subsets, _token(value, line))
    elif tag == "is_a":
        _append_unique(term.parents, _token(value, line))
    elif tag == "is_obsolete":
        flag = _plain(value)
        if flag not in ("true", "false"):
            raise line.error("is_obsolete: true or false")
        term.obsolete = flag == "true"
    elif tag == "replaced_by":
        _append_unique(term.replaced_by, _token(value, line))
    elif tag == "consider":
        _append_unique(term.consider, _token(value, line))
    elif tag == "property_value":
        relation = _token(value, line)
        rest = value[len(relation) :].strip()
        if relation in _EXACT_MATCH and rest:
            target = _quoted(rest, line)[0] if rest.startswith('"') else _token(rest, line)
            _append_unique(term.exact_matches, target)
    # other tags (comment, relationship, intersection_of, created_by, …) are not used


def _clauses(path: Path) -> Iterator[tuple[str | None, _Line, str, str]]:
    """(stanza header or None for the file header, line, tag, value) for every clause, plus
    ``("", line, "", "")`` at each stanza start so the caller sees empty stanzas too."""
    number = 0
    handle = open_text(path)
    with handle, read_errors(path, lambda: number + 1):
        stanza: str | None = None
        for number, raw in enumerate(handle, start=1):
            text = raw.rstrip("\r\n")
            stripped = text.strip()
            if not stripped or stripped.startswith("!"):
                continue
            if stripped.startswith("["):
                if stripped not in _STANZAS:
                    raise _Line(path, number, text).error("a stanza header ([Term], [Typedef] or [Instance])")
                stanza = stripped
                yield stanza, _Line(path, number, text), "", ""
                continue
            match = _TAG_LINE.match(text)
            if not match or match.group(2) is None:
                raise _Line(path, number, text).error("a 'tag: value' line")
            yield stanza, _Line(path, number, text), match.group(1), match.group(2)


def read_header(path: Path) -> dict[str, list[str]]:
    """The header clauses (``format-version``, ``data-version``, ``ontology``…), tag -> values."""
    header: dict[str, list[str]] = {}
    for stanza, _line, tag, value in _clauses(path):
        if stanza is not None:
            break
        header.setdefault(tag, []).append(value)
    if "format-version" not in header and "ontology" not in header:
        raise SourceFormatError(path, 1, "an OBO header (format-version:, ontology:)", "")
    return header


def release_version(path: Path) -> str:
    """The release an OBO file says it is: the date in ``data-version`` (else its whole value),
    else the date in the file name."""
    header = read_header(path)
    data_version = (header.get("data-version") or [""])[0]
    version = date_in(data_version) or data_version or date_in(path.name)
    if not version:
        raise SourceFormatError(path, 1, "a data-version header line or a dated file name", path.name)
    return version


def read_terms(path: Path) -> Iterator[OboTerm]:
    """Every ``[Term]`` stanza of ``path`` (``.obo`` or ``.obo.gz``), in file order.

    Each term must have exactly one ``id:``, ids must be unique, and a live term needs a name.
    """
    seen: set[str] = set()
    term: OboTerm | None = None
    start: _Line | None = None
    in_term = False

    def finished() -> OboTerm | None:
        if not in_term:
            return None
        if term is None:
            raise start.error("an id: line in this [Term] stanza")  # type: ignore[union-attr]
        if not term.name and not term.obsolete:
            raise start.error(f"a name: line for {term.id}")  # type: ignore[union-attr]
        return term

    for stanza, line, tag, value in _clauses(path):
        if stanza is None:
            continue
        if not tag:  # a new stanza begins
            if (done := finished()) is not None:
                yield done
            in_term, term, start = stanza == "[Term]", None, line
            continue
        if not in_term:
            continue
        if term is None:
            if tag != "id":
                raise line.error("id: as the first line of a [Term] stanza")
            term_id = _token(value, line)
            if term_id in seen:
                raise line.error(f"a unique term id ({term_id} already defined)")
            seen.add(term_id)
            term = OboTerm(term_id, line.number)
            continue
        _apply(term, tag, value, line)
    if (done := finished()) is not None:
        yield done


class TermEdges:
    """The IS_A and REPLACED_BY rows (``{id, parents}`` / ``{id, replacements}``), gathered while the
    terms stage streams the file, so the later stages need not parse it again (a few hundred kB
    for DOID's 14,000 terms; the terms themselves are not kept)."""

    def __init__(self) -> None:
        self.parents: list[dict[str, Any]] = []
        self.replacements: list[dict[str, Any]] = []

    def rows(
        self, terms: Callable[[], Iterable[OboTerm]], row: Callable[[OboTerm], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """``row(term)`` for each term of a validated read (kg.loaders.sourcefile.checked_first)."""
        self.parents.clear()
        self.replacements.clear()
        for term in checked_first(terms):
            if term.parents and not term.obsolete:
                self.parents.append({"id": term.id, "parents": term.parents})
            if term.obsolete and term.replaced_by:
                self.replacements.append({"id": term.id, "replacements": term.replaced_by})
            yield row(term)
