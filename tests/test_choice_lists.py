"""The adapter and the sandbox keep their own copies of the CRM's choice lists (the sandbox imports nothing from the
package): every choice field of every noun must offer the same values in both, in the same order."""

from __future__ import annotations

from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from lava_crm_mcp.crm.resources import RESOURCES
from lava_crm_mcp.sandbox import models as sandbox_models


def choices(annotation: Any) -> tuple[Any, ...] | None:
    """The values of the Literal inside an annotation (`Literal[...] | None`, `Annotated[...]`), if there is one."""
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    if get_origin(annotation) in (Union, UnionType):
        found = [values for member in get_args(annotation) if (values := choices(member)) is not None]
        return found[0] if found else None
    return None


def choice_fields(model: type[BaseModel]) -> dict[str, tuple[Any, ...]]:
    return {
        name: values for name, info in model.model_fields.items() if (values := choices(info.annotation)) is not None
    }


@pytest.mark.parametrize("spec", RESOURCES, ids=[spec.path for spec in RESOURCES])
def test_every_choice_list_of_a_noun_is_the_same_in_the_adapter_and_the_sandbox(spec: Any) -> None:
    ours = choice_fields(spec.create)
    theirs = choice_fields(getattr(sandbox_models, spec.model.__name__))

    assert ours == theirs


def test_the_check_sees_the_choice_lists_that_matter() -> None:
    """A guard on the guard: the comparison reads the lists the issue named, so an empty match cannot pass it."""
    by_noun = {spec.path: choice_fields(spec.create) for spec in RESOURCES}

    assert "industry" in by_noun["accounts"]
    assert "stage" in by_noun["opportunities"]
    assert {"status", "source"} <= by_noun["leads"].keys()
    assert sum(len(fields) for fields in by_noun.values()) >= 11
