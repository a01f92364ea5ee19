"""What a noun of the table declares: its columns, related lists, sort orders, and the resource spec itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from lava_crm_mcp.crm.filters import FilterSpec
from lava_crm_mcp.crm.inputs import Body
from lava_crm_mcp.crm.models import Record

__all__ = ["Column", "Members", "Related", "ResourceSpec", "Sort"]

R = TypeVar("R", bound=Record)
C = TypeVar("C", bound=Body)
U = TypeVar("U", bound=Body)

Path = tuple[str, ...]


@dataclass(frozen=True)
class Column:
    """One column of a compact row: a header and the fields it shows, joined by a space.

    A `first_of` column shows only the first of its (reference) fields that is set, with its kind: a task's parent.
    """

    header: str
    fields: tuple[str, ...]
    first_of: bool = False


@dataclass(frozen=True)
class Related:
    """Records of another noun that point at this one, listed (capped) with this one's full record."""

    label: str
    path: str
    via: str
    preset: Mapping[str, str] = field(default_factory=dict[str, str])
    sort: str | None = None
    timeline: bool = False
    """Timeline entries (tasks this server wrote), shown as entries: when, who, what."""


@dataclass(frozen=True)
class Members:
    """Records of another noun that point at this one through `field`, edited from this one (an account's
    contacts): its update tool takes `add_<arg>` / `remove_<arg>`."""

    arg: str
    path: str
    field: str


@dataclass(frozen=True)
class Sort:
    """An order a search may ask for: the argument value, the field, and the CRM's `ordering` value."""

    value: str
    field: str
    descending: bool = False
    sent: bool = True
    """False for an order the CRM cannot know (`last_activity`): never asked of it, always applied here."""

    @property
    def ordering(self) -> str:
        return f"-{self.field}" if self.descending else self.field


@dataclass(frozen=True)
class ResourceSpec(Generic[R, C, U]):
    """A record resource: its URL segment, models, and how it is searched, filtered, linked and shown."""

    path: str
    noun: str
    plural: str
    model: type[R]
    create: type[C]
    update: type[U]
    label: tuple[str, ...]
    """The fields that make a record's display name."""
    search: tuple[str, ...]
    """The fields the CRM's `search` matches (every word must be found in one of them)."""
    matches: str
    """The same, as words for a tool description."""
    columns: tuple[Column, ...]
    filters: tuple[FilterSpec, ...] = ()
    relations: Mapping[str, str] = field(default_factory=dict[str, str])
    """Reference field -> the path of the resource it names."""
    related: tuple[Related, ...] = ()
    sorts: tuple[Sort, ...] = ()
    long_text: tuple[str, ...] = ("description",)
    natural_key: str | None = None
    """A field that identifies a record to people (an email, a company name): creating a second is checked."""
    phones: tuple[str, ...] = ()
    """Phone fields: a query that is a phone number is compared with them by its digits, in any format."""
    crm_unique: bool = False
    """The CRM itself refuses a second record with the natural key (so no tool offers to insist)."""
    twins: tuple[str, ...] = ()
    """Fields that make two open records the same (a task: title, due date and parent): a second is refused."""
    members: tuple[Members, ...] = ()
    on_board: bool = False
    completion: bool = False
    """Tasks: this server marks when one was completed (`history.completion`), shown as `completed_on`."""
    write_aliases: Mapping[str, str] = field(default_factory=dict[str, str])
    """Field -> the name the other API generation of the family uses for it; a write refused for want of the
    other name, or read back without the field, is sent once more with it (`records.py`, `writes.py`)."""
    detail_keys: tuple[str, ...] = ()
    list_paths: tuple[Path, ...] = ()
    count_paths: tuple[Path, ...] = ()

    def display(self, record: Record) -> str | None:
        parts = [str(value) for name in self.label if (value := getattr(record, name, None)) not in (None, "")]
        return " ".join(parts) or None

    @property
    def article(self) -> str:
        """The noun with its indefinite article ("a contact", "an account")."""
        return f"{'an' if self.noun[0] in 'aeiou' else 'a'} {self.noun}"
