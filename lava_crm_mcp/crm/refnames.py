"""Relations given a name, in filters and in writes: `account_id="Curie Biolabs"` is the one account of that name
(compared without case or accents), as stage names are resolved on the board. A value that is a record's id stays
an id; none or several records of that name is an error that lists them — never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from lava_crm_mcp.crm.errors import CrmInvalid, UnknownName
from lava_crm_mcp.crm.filters import RefIs
from lava_crm_mcp.crm.inputs import ID_PATTERN
from lava_crm_mcp.crm.names import Ref
from lava_crm_mcp.crm.noun import ResourceSpec
from lava_crm_mcp.crm.resources import resource
from lava_crm_mcp.crm.text import fold

__all__ = ["Named", "named", "one_named", "resolve_fields", "resolve_refs"]

NAME_READ = 20
SURELY_AN_ID = re.compile(r"^(?=[\w-]*\d)(?=[\w-]*[-_])[\w-]+$|^\d+$", re.ASCII)
"""A number, or digits and a hyphen or underscore in one word (a UUID, acc_42): no record is named so, and taking it
as an id costs no read. Another single word (Acme) is an id only if a record has it."""
Named = list[tuple[str, str]]
"""(id, name) of the records a value names."""
Search = Callable[[str, str], Awaitable[Named]]
"""(noun path, text) → (id, display name) of the records the CRM's search finds."""
Names = Callable[[list[Ref]], Awaitable[dict[Ref, str | None]]]


async def named(path: str, value: str, search: Search, names: Names) -> Named:
    """The records of `path` that `value` names: the record with this id, else every record so named."""
    value = value.strip()
    if SURELY_AN_ID.match(value):
        return [(value, value)]
    if re.fullmatch(ID_PATTERN, value) and (name := (await names([(path, value)])).get((path, value))) is not None:
        return [(value, name)]
    return [(record_id, name) for record_id, name in await search(path, value) if fold(name) == fold(value)]


async def one_named(label: str, path: str, value: str, search: Search, names: Names) -> str:
    """The id of the one record of `path` that `value` names (its id, or its name); none or several is an error."""
    value = value.strip()
    found = await named(path, value, search, names)
    if len(found) == 1:
        return found[0][0]
    other = resource(path)
    if not found:
        raise UnknownName(
            f"{label}: no {other.noun} has the id or name {value!r}. Find it with search_{other.plural}"
            f"(query={value!r}) and pass its id."
        )
    listed = ", ".join(f"{record_id} ({name})" for record_id, name in found)
    message = f"{label}: {len(found)} {other.plural} are named {value!r}: {listed}. Pass the id of the one you mean."
    raise CrmInvalid(message, fields={label: [message]})


async def resolve_refs(
    spec: ResourceSpec[Any, Any, Any], given: Mapping[str, Any], search: Search, names: Names
) -> dict[str, Any]:
    """The filters with each relation given by name replaced by the id of the one record of that name."""
    resolved = dict(given)
    for item in spec.filters:
        target = spec.relations.get(item.field) if isinstance(item, RefIs) else None
        if target is not None and item.name in given:
            resolved[item.name] = await one_named(item.name, target, str(given[item.name]), search, names)
    return resolved


async def resolve_fields(
    spec: ResourceSpec[Any, Any, Any], body: Mapping[str, Any], search: Search, names: Names
) -> dict[str, Any]:
    """A write's body with each link given by name (`account="Curie Biolabs"`, `contacts=["Ada Lovelace"]`)
    replaced by the id of the one record of that name; ids stay as they are, without a read."""
    resolved = dict(body)
    for field, target in spec.relations.items():
        value = body.get(field)
        if isinstance(value, str) and value.strip():
            resolved[field] = await one_named(field, target, value, search, names)
        elif isinstance(value, list):
            items = cast(list[Any], value)
            resolved[field] = [
                await one_named(field, target, item, search, names) if isinstance(item, str) else item for item in items
            ]
    return resolved
