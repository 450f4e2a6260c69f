"""Pure registry rules: TLD labels, types, chambers, and parsing the IANA Root Zone Database CSV."""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import idna


class OrgKind(StrEnum):
    OPERATOR = "operator"
    IFM = "ifm"
    SO_AC = "so_ac"
    MEDIATION_PROVIDER = "mediation_provider"
    ARBITRATION_PROVIDER = "arbitration_provider"
    AUDIT_FIRM = "audit_firm"
    TECHNICAL_COMMUNITY = "technical_community"
    OTHER = "other"

    @property
    def label(self) -> str:
        return ORG_KIND_LABELS[self]


ORG_KIND_LABELS: dict[OrgKind, str] = {
    OrgKind.OPERATOR: "TLD registry operator",
    OrgKind.IFM: "IANA Functions Manager",
    OrgKind.SO_AC: "Supporting organisation / advisory committee",
    OrgKind.MEDIATION_PROVIDER: "Mediation provider",
    OrgKind.ARBITRATION_PROVIDER: "Arbitration provider",
    OrgKind.AUDIT_FIRM: "Audit firm",
    OrgKind.TECHNICAL_COMMUNITY: "Technical community",
    OrgKind.OTHER: "Other",
}


class TldType(StrEnum):
    GENERIC = "generic"
    COUNTRY_CODE = "country-code"
    SPONSORED = "sponsored"
    GENERIC_RESTRICTED = "generic-restricted"
    INFRASTRUCTURE = "infrastructure"
    TEST = "test"


class Chamber(StrEnum):
    CCTLD = "cctld"
    GTLD = "gtld"


# The chamber rule (R-ESC-1 electorate): country-code TLDs put their manager in the ccTLD
# chamber; generic, sponsored and generic-restricted TLDs are all gTLDs in ICANN's sense (they are
# run under registry agreements with ICANN) and put their manager in the gTLD chamber.
# Infrastructure (.arpa) and test TLDs make no one a naming customer.
CHAMBER_OF_TYPE: dict[TldType, Chamber | None] = {
    TldType.COUNTRY_CODE: Chamber.CCTLD,
    TldType.GENERIC: Chamber.GTLD,
    TldType.SPONSORED: Chamber.GTLD,
    TldType.GENERIC_RESTRICTED: Chamber.GTLD,
    TldType.INFRASTRUCTURE: None,
    TldType.TEST: None,
}

NOT_ASSIGNED = "Not assigned"
_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_BLANKS = re.compile(r"\s+")


def chambers_of(types: Iterable[TldType]) -> frozenset[Chamber]:
    """The chambers an operator belongs to, derived from the types of the TLDs it manages."""
    return frozenset(c for t in types if (c := CHAMBER_OF_TYPE[t]) is not None)


def clean_text(value: str) -> str:
    """Drop bidirectional marks; turn embedded newlines into ", " and collapse blanks."""
    value = value.translate(_BIDI_MARKS)
    lines = [_BLANKS.sub(" ", line).strip() for line in value.splitlines()]
    return ", ".join(line for line in lines if line)


def typed_label(value: str) -> str:
    """A TLD label as someone typed or pasted it, ready to look up: without bidirectional marks
    (a right-to-left name copied from a page carries them), blanks or a leading dot."""
    return value.translate(_BIDI_MARKS).strip().lstrip(".")


@dataclass(frozen=True)
class Labels:
    a_label: str
    u_label: str

    @property
    def is_idn(self) -> bool:
        return self.a_label != self.u_label


@functools.lru_cache(maxsize=4096)
def shown(a_label: str) -> Labels:
    """The labels of a stored (already validated) A-label, for showing it: its U-label too when it
    is an IDN (``xn--p1ai`` → ``рф``); the A-label twice if it cannot be decoded."""
    try:
        return Labels(a_label, idna.decode(a_label) if a_label.startswith("xn--") else a_label)
    except (idna.IDNAError, UnicodeError):
        return Labels(a_label, a_label)


def labels(name: str) -> Labels:
    """Validate a TLD given as A-label or U-label (with or without the leading dot).

    Raises ValueError with a reason when the name is not a valid IDNA 2008 label.
    """
    name = clean_text(name).strip().lstrip(".").strip()
    if not name:
        raise ValueError("the TLD name is empty")
    if "." in name:
        raise ValueError(f"'{name}' is not a single label")
    try:
        if name.isascii():
            a_label = name.lower()
            u_label = idna.decode(a_label) if a_label.startswith("xn--") else a_label
            if not a_label.startswith("xn--"):
                idna.encode(a_label)
        else:
            a_label = idna.encode(name).decode("ascii")
            u_label = idna.decode(a_label)
    except idna.IDNAError as exc:
        raise ValueError(f"'{name}' is not a valid IDNA label: {exc}") from None
    return Labels(a_label=a_label, u_label=u_label)


@dataclass(frozen=True)
class TldRow:
    line: int
    a_label: str
    u_label: str
    type: TldType
    manager: str | None


class RegistryFileError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


EXPECTED_HEADER = ["Domain", "Type", "TLD Manager"]


def parse_root_zone_csv(text: str) -> list[TldRow]:
    """Parse the IANA Root Zone Database CSV (``Domain,Type,TLD Manager`` + optional columns).

    The whole file is checked before anything is returned: the first problem raises
    :class:`RegistryFileError` with its physical line number.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise RegistryFileError(1, "the file is empty") from None
    except csv.Error as exc:
        raise RegistryFileError(1, f"unreadable CSV: {exc}") from None
    if [h.strip().lstrip("\ufeff") for h in header[:3]] != EXPECTED_HEADER:
        raise RegistryFileError(1, f"expected header {','.join(EXPECTED_HEADER)}, got {','.join(header)}")
    rows: list[TldRow] = []
    seen: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise RegistryFileError(line, f"unreadable CSV: {exc}") from None
        start, line = line, reader.line_num + 1
        if not any(field.strip() for field in record):
            continue
        if len(record) < 3:
            raise RegistryFileError(start, f"expected at least 3 columns, found {len(record)}")
        domain, type_, manager = record[0], record[1].strip(), clean_text(record[2])
        try:
            tld_labels = labels(domain)
        except ValueError as exc:
            raise RegistryFileError(start, f"Domain: {exc}") from None
        try:
            tld_type = TldType(type_)
        except ValueError:
            known = ", ".join(t.value for t in TldType)
            raise RegistryFileError(start, f"Type: unknown type '{type_}' (expected one of {known})") from None
        if not manager:
            raise RegistryFileError(start, "TLD Manager: is empty (use 'Not assigned')")
        if tld_labels.a_label in seen:
            raise RegistryFileError(
                start, f"Domain: .{tld_labels.u_label} already appears on line {seen[tld_labels.a_label]}"
            )
        seen[tld_labels.a_label] = start
        rows.append(
            TldRow(
                line=start,
                a_label=tld_labels.a_label,
                u_label=tld_labels.u_label,
                type=tld_type,
                manager=None if manager == NOT_ASSIGNED else manager,
            )
        )
    if not rows:
        raise RegistryFileError(line, "the file has no TLD rows")
    return rows


@dataclass(frozen=True)
class Current:
    type: TldType
    manager: str | None


@dataclass
class ImportPlan:
    added: list[TldRow]
    removed: list[str]
    reassigned: list[tuple[str, str | None, str | None]]
    retyped: list[tuple[str, TldType, TldType]]

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.reassigned or self.retyped)


def plan_import(current: dict[str, Current], rows: list[TldRow]) -> ImportPlan:
    """Compare the registry as it is with a parsed file: what is added, removed, re-assigned."""
    incoming = {row.a_label: row for row in rows}
    added = [row for row in rows if row.a_label not in current]
    removed = sorted(a for a in current if a not in incoming)
    reassigned = [
        (a, current[a].manager, row.manager)
        for a, row in incoming.items()
        if a in current and current[a].manager != row.manager
    ]
    retyped = [
        (a, current[a].type, row.type)
        for a, row in incoming.items()
        if a in current and current[a].type != row.type
    ]
    return ImportPlan(added=added, removed=removed, reassigned=sorted(reassigned), retyped=sorted(retyped))


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "org"
