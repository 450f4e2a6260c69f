"""Implementation plan content: sections, timeline, affected TLDs, versions and diffs.

A plan's body is written as plain text in which lines starting with ``## ``
open a section; comments may point at a section by its anchor. Each save of a
draft is a new version, and any two versions can be compared line by line
(difflib) in a form a page can render with escaping.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import idna

from steward.changes.domain import InvalidInput, Origin, Significance

MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 100_000
MAX_SECTIONS = 60
OVERVIEW_ANCHOR = "overview"


@dataclass(frozen=True)
class Section:
    """One section of a plan; ``anchor`` is stable across versions while the heading is."""

    anchor: str
    heading: str
    body: str


@dataclass(frozen=True)
class Milestone:
    """A dated step of the plan's timeline."""

    on: date
    label: str


@dataclass(frozen=True)
class AffectedTlds:
    """Either every TLD or a list of A-labels (sorted, without duplicates)."""

    all: bool
    tlds: tuple[str, ...] = ()

    def describe(self) -> str:
        """Human wording: ``all TLDs`` or the comma-separated list."""
        if self.all:
            return "all TLDs"
        return ", ".join(f".{t}" for t in self.tlds)


@dataclass(frozen=True)
class PlanContent:
    """What one version of a plan says."""

    title: str
    origin: Origin
    significance: Significance
    affected: AffectedTlds
    body: str
    timeline: tuple[Milestone, ...] = ()
    sections: tuple[Section, ...] = field(default=(), compare=False)

    @property
    def section_anchors(self) -> tuple[str, ...]:
        """Anchors a comment may point to."""
        return tuple(s.anchor for s in self.sections)


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

_HEADING_RE = re.compile(r"^##[ \t]+(?P<heading>\S.*?)[ \t#]*$")


def slugify(heading: str) -> str:
    """An ASCII anchor for a heading (``"Roll-out & timing"`` → ``"roll-out-timing"``)."""
    ascii_text = (
        unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii").lower()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug or "section"


def parse_sections(body: str) -> tuple[Section, ...]:
    """Split a plan body into sections at ``## `` headings.

    Text before the first heading becomes the "Overview" section. Anchors are
    unique within a plan (a repeated heading gets ``-2``, ``-3`` …).
    """
    sections: list[Section] = []
    used: set[str] = set()
    heading = "Overview"
    anchor = OVERVIEW_ANCHOR
    preamble = True
    lines: list[str] = []

    def flush() -> None:
        text = "\n".join(lines).strip("\n")
        # An empty preamble is not a section; an empty headed section still is.
        if text.strip() or not preamble:
            sections.append(Section(anchor=anchor, heading=heading, body=text))
            used.add(anchor)

    for raw in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        match = _HEADING_RE.match(raw)
        if match is None:
            lines.append(raw)
            continue
        flush()
        preamble = False
        heading = match.group("heading").strip()
        base = slugify(heading)
        anchor, n = base, 2
        while anchor in used:
            anchor = f"{base}-{n}"
            n += 1
        lines.clear()
    flush()
    return tuple(sections)


def parse_timeline(text: str) -> tuple[Milestone, ...]:
    """Parse ``YYYY-MM-DD: label`` lines (blank lines ignored), sorted by date.

    A bad line is refused with its line number.
    """
    milestones: list[Milestone] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        when, sep, label = line.partition(":")
        if not sep or not label.strip():
            raise InvalidInput("expected 'YYYY-MM-DD: what happens'", field="timeline", line=number)
        try:
            on = date.fromisoformat(when.strip())
        except ValueError:
            raise InvalidInput(
                f"{when.strip()!r} is not a date (YYYY-MM-DD)", field="timeline", line=number
            ) from None
        if len(label.strip()) > 300:
            raise InvalidInput("label is longer than 300 characters", field="timeline", line=number)
        milestones.append(Milestone(on=on, label=label.strip()))
    return tuple(sorted(milestones, key=lambda m: m.on))


def format_timeline(milestones: Iterable[Milestone]) -> str:
    """The inverse of :func:`parse_timeline`."""
    return "\n".join(f"{m.on.isoformat()}: {m.label}" for m in milestones)


def normalise_tld(label: str) -> str:
    """A TLD as its lower-case A-label, without the leading dot; refuses bad labels."""
    text = label.strip().strip("\u200e\u200f").lstrip(".").strip()
    if not text:
        raise ValueError("empty TLD")
    try:
        if text.isascii():
            a_label = text.lower()
            if a_label.startswith("xn--"):
                idna.decode(a_label)
            elif not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", a_label):
                raise ValueError(f"{label!r} is not a valid TLD")
        else:
            a_label = idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"{label!r} is not a valid TLD: {exc}") from None
    if "." in a_label or len(a_label) > 63:
        raise ValueError(f"{label!r} is not a single valid label")
    return a_label


def parse_affected(text: str) -> AffectedTlds:
    """``all`` (or empty) means every TLD; otherwise TLDs separated by commas or whitespace."""
    items = [part for part in re.split(r"[,\s]+", text.strip()) if part]
    if not items or (len(items) == 1 and items[0].lower() == "all"):
        return AffectedTlds(all=True)
    tlds: set[str] = set()
    for item in items:
        if item.lower() == "all":
            raise InvalidInput("'all' cannot be combined with a list of TLDs", field="affected")
        try:
            tlds.add(normalise_tld(item))
        except ValueError as exc:
            raise InvalidInput(str(exc), field="affected") from None
    return AffectedTlds(all=False, tlds=tuple(sorted(tlds)))


def build_content(
    *,
    title: str,
    origin: str,
    significance: str,
    affected: str,
    body: str,
    timeline: str,
) -> PlanContent:
    """Validate raw form/CLI/API input into a :class:`PlanContent`, naming the bad field."""
    clean_title = " ".join(title.split())
    if not clean_title:
        raise InvalidInput("must not be empty", field="title")
    if len(clean_title) > MAX_TITLE_CHARS:
        raise InvalidInput(f"is longer than {MAX_TITLE_CHARS} characters", field="title")
    try:
        chosen_origin = Origin(origin)
    except ValueError:
        raise InvalidInput("must be 'policy' or 'operational'", field="origin") from None
    try:
        chosen_significance = Significance(significance)
    except ValueError:
        allowed = ", ".join(s.value for s in Significance)
        raise InvalidInput(f"must be one of: {allowed}", field="significance") from None
    text = body.replace("\r\n", "\n").strip("\n")
    if not text.strip():
        raise InvalidInput("must not be empty", field="body")
    if len(text) > MAX_BODY_CHARS:
        raise InvalidInput(f"is longer than {MAX_BODY_CHARS} characters", field="body")
    sections = parse_sections(text)
    if len(sections) > MAX_SECTIONS:
        raise InvalidInput(f"has more than {MAX_SECTIONS} sections", field="body")
    return PlanContent(
        title=clean_title,
        origin=chosen_origin,
        significance=chosen_significance,
        affected=parse_affected(affected),
        body=text,
        timeline=parse_timeline(timeline),
        sections=sections,
    )


# ---------------------------------------------------------------------------
# Versions and diffs
# ---------------------------------------------------------------------------


def render_text(content: PlanContent) -> list[str]:
    """The canonical text of a version, the thing diffs compare."""
    lines = [
        f"Title: {content.title}",
        f"Origin: {content.origin.label}",
        f"Significance: {content.significance.value}",
        f"Affected: {content.affected.describe()}",
        "Timeline:",
        *(f"  {m.on.isoformat()}: {m.label}" for m in content.timeline),
        "",
        *content.body.split("\n"),
    ]
    return lines


DiffKind = Literal["hunk", "context", "added", "removed"]


@dataclass(frozen=True)
class DiffLine:
    """One line of a rendered diff; ``old``/``new`` are 1-based line numbers or None."""

    kind: DiffKind
    text: str
    old: int | None = None
    new: int | None = None


@dataclass(frozen=True)
class VersionDiff:
    """The difference between two versions of a plan."""

    old_version: int
    new_version: int
    lines: tuple[DiffLine, ...]
    changed_fields: tuple[str, ...]
    sections_added: tuple[str, ...]
    sections_removed: tuple[str, ...]
    sections_changed: tuple[str, ...]

    @property
    def unchanged(self) -> bool:
        """True when the two versions say the same thing."""
        return not self.lines

    def unified(self) -> str:
        """Plain ``diff -u``-style text for the CLI and the API."""
        out: list[str] = [f"--- version {self.old_version}", f"+++ version {self.new_version}"]
        prefix = {"hunk": "", "context": " ", "added": "+", "removed": "-"}
        out.extend(prefix[line.kind] + line.text for line in self.lines)
        return "\n".join(out) if self.lines else ""


_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def diff_versions(
    old: PlanContent, new: PlanContent, *, old_version: int, new_version: int, context: int = 3
) -> VersionDiff:
    """Compare two versions: a line diff plus a summary of fields and sections changed."""
    a, b = render_text(old), render_text(new)
    lines: list[DiffLine] = []
    old_no = new_no = 0
    for raw in difflib.unified_diff(a, b, lineterm="", n=context):
        if raw.startswith(("---", "+++")) and not lines:
            continue
        hunk = _HUNK_RE.match(raw)
        if hunk:
            old_no, new_no = int(hunk.group(1)), int(hunk.group(2))
            lines.append(DiffLine("hunk", raw, old=old_no, new=new_no))
        elif raw.startswith("+"):
            lines.append(DiffLine("added", raw[1:], new=new_no))
            new_no += 1
        elif raw.startswith("-"):
            lines.append(DiffLine("removed", raw[1:], old=old_no))
            old_no += 1
        else:
            lines.append(DiffLine("context", raw[1:], old=old_no, new=new_no))
            old_no += 1
            new_no += 1
    changed = tuple(
        name
        for name, differs in (
            ("title", old.title != new.title),
            ("origin", old.origin != new.origin),
            ("significance", old.significance != new.significance),
            ("affected", old.affected != new.affected),
            ("timeline", old.timeline != new.timeline),
            ("body", old.body != new.body),
        )
        if differs
    )
    old_sections = {s.anchor: s for s in old.sections}
    new_sections = {s.anchor: s for s in new.sections}
    return VersionDiff(
        old_version=old_version,
        new_version=new_version,
        lines=tuple(lines),
        changed_fields=changed,
        sections_added=tuple(a for a in new_sections if a not in old_sections),
        sections_removed=tuple(a for a in old_sections if a not in new_sections),
        sections_changed=tuple(
            a for a in new_sections if a in old_sections and old_sections[a] != new_sections[a]
        ),
    )


def next_version_number(existing: Sequence[int]) -> int:
    """Versions are numbered 1, 2, 3 … without gaps."""
    return max(existing, default=0) + 1
