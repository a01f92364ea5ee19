"""CRUD over one record resource, driven by its ResourceSpec: the same code for all seven."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar, cast

from pydantic import BaseModel

from lava_crm_mcp.crm.envelopes import Ack, read_page, read_record, read_write
from lava_crm_mcp.crm.errors import CrmError, CrmInvalid, StageChangeRefused
from lava_crm_mcp.crm.ids import check_id, validate_body
from lava_crm_mcp.crm.inputs import Body
from lava_crm_mcp.crm.models import Created, Page, Record
from lava_crm_mcp.crm.names import Labels
from lava_crm_mcp.crm.paging import PAGE_SIZE, slice_params
from lava_crm_mcp.crm.resources import ResourceSpec
from lava_crm_mcp.crm.writes import WriteNames, missing

__all__ = ["Records", "Send"]

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=Record)
C = TypeVar("C", bound=Body)
U = TypeVar("U", bound=Body)

STAGE_FIELDS = ("stage", "pipeline_stage", "pipeline")


class Send(Protocol):
    """The client's single HTTP choke point."""

    async def __call__(
        self, method: str, path: str, *, what: str, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any: ...


def refuse_stage_write(noun: str, data: object) -> None:
    """The stage-move rule: a deal's stage never changes through a record write."""
    if isinstance(data, BaseModel):
        keys = set(data.model_dump(exclude_none=True))
    elif isinstance(data, Mapping):
        keys = {str(key) for key in cast(Mapping[Any, Any], data)}
    else:
        keys = set[str]()
    touched = sorted(keys & set(STAGE_FIELDS))
    if noun == "deal" and touched:
        raise StageChangeRefused(
            f"A deal's stage cannot be changed by updating the deal (got {', '.join(touched)}): the legacy stage "
            "field does not move it on the pipeline board. Use move_deal (PATCH deal-pipelines/deals/<id>/move/) "
            "with a stage id or name from the pipeline board instead.",
            fields={name: ["Use move_deal to change a deal's stage."] for name in touched},
        )


class Records(Generic[R, C, U]):
    """list / get / create / update / replace / delete for one resource.

    `complete`, when set, finishes records before anyone sees them (deals: their place on the boards, when their
    records do not say); `created` is told of each create (deals: the cached seats no longer hold every deal).
    """

    def __init__(
        self, spec: ResourceSpec[R, C, U], send: Send, labels: Labels | None = None, names: WriteNames | None = None
    ) -> None:
        self.spec = spec
        self._send = send
        self._labels = labels
        self._names = names or WriteNames({}, "")
        self._unchecked = frozenset(STAGE_FIELDS) if spec.on_board else frozenset[str]()
        self.complete: Callable[[Sequence[R]], Awaitable[None]] | None = None
        self.created: Callable[[], None] | None = None

    async def _completed(self, records: Sequence[R]) -> None:
        if self.complete is not None and records:
            await self.complete(records)

    def _seen(self, record: R) -> R:
        """Keep the name cache in step with what was just read or written."""
        if self._labels is not None:
            self._labels.remember((self.spec.path, record.id), self.spec.display(record))
        return record

    def _detail(self, record_id: str) -> str:
        return f"{self.spec.path}/{check_id(record_id, f'{self.spec.noun}_id')}/"

    def _what(self, record_id: str) -> str:
        return f"{self.spec.noun} {record_id!r}"

    async def list(self, *, page: int = 1, search: str | None = None) -> Page[R]:
        if page < 1:
            raise CrmInvalid(f"page {page} is not valid: pages start at 1.", fields={"page": ["Must be 1 or more."]})
        return await self.slice((page - 1) * PAGE_SIZE, {"search": search} if search else {})

    async def slice(self, start: int, params: Mapping[str, str]) -> Page[R]:
        """The slice of the list from row `start`, with query parameters (search, filters, ordering) as given."""
        query = {**slice_params(start), **params}
        what = f"the {self.spec.path} list (from row {start + 1})"
        body = await self._send("GET", f"{self.spec.path}/", what=what, params=query)
        spec = self.spec
        page = read_page(body, spec.model, start=start, list_paths=spec.list_paths, count_paths=spec.count_paths)
        await self._completed(page.items)
        return page

    async def get(self, record_id: str) -> R:
        body = await self._send("GET", self._detail(record_id), what=self._what(record_id))
        record = self._read(body, record_id)
        await self._completed([record])
        return self._seen(record)

    async def create(self, data: C | Mapping[str, Any]) -> Created[R]:
        body = validate_body(self.spec.create, data, f"new {self.spec.noun}")
        payload = body.model_dump(mode="json", exclude_none=True)
        answer = await self._written("POST", f"{self.spec.path}/", f"the new {self.spec.noun}", payload)
        if self.created is not None:
            self.created()
        if not isinstance(answer, Ack):
            return Created[R](record=await self._stored(await self._back(answer, "new"), payload))
        if answer.id is None:  # some creates answer without an id: the record cannot be read back, and is not invented
            return Created[R](record=None, message=answer.message)
        return Created[R](record=await self._stored(await self.get(answer.id), payload), message=answer.message)

    async def update(self, record_id: str, data: U | Mapping[str, Any]) -> R:
        """Partial update (PATCH): only the fields given are sent."""
        return await self._write("PATCH", record_id, self.spec.update, data, "update")

    async def replace(self, record_id: str, data: C | Mapping[str, Any]) -> R:
        """Full update (PUT): required fields must be present."""
        return await self._write("PUT", record_id, self.spec.create, data, "replacement")

    async def delete(self, record_id: str) -> None:
        await self._send("DELETE", self._detail(record_id), what=self._what(record_id))
        if self._labels is not None:
            self._labels.remember((self.spec.path, record_id), None)

    async def _write(
        self, method: str, record_id: str, model: type[Body], data: Body | Mapping[str, Any], label: str
    ) -> R:
        """PATCH/PUT a record: stage rule and validation first, then the request, then the record back."""
        refuse_stage_write(self.spec.noun, data)
        path = self._detail(record_id)
        body = validate_body(model, data, f"{self.spec.noun} {label}")
        partial = method == "PATCH"
        payload = body.model_dump(mode="json", exclude_unset=partial, exclude_none=not partial)
        answer = await self._written(method, path, self._what(record_id), payload)
        return await self._stored(await self._back(answer, record_id), payload)

    async def _back(self, answer: dict[str, Any] | Ack, record_id: str) -> R:
        """The record a write answered, or (an acknowledgement) read back by its id; finished and remembered."""
        if isinstance(answer, Ack):
            return await self.get(record_id)
        record = self._read(answer, record_id)
        await self._completed([record])
        return self._seen(record)

    async def _written(self, method: str, path: str, what: str, payload: dict[str, Any]) -> dict[str, Any] | Ack:
        """Send a write under the names learned for this credential. A refusal asking for a field by its other name
        (an invoice's `account_id` for `account`) is sent once more under that name: the refused write changed
        nothing; the name that worked is remembered."""
        noun, aliases = self.spec.path, self.spec.write_aliases
        try:
            return read_write(await self._send(method, path, what=what, json=self._names.outgoing(noun, payload)))
        except CrmInvalid as refused:
            wanted = {
                ours: other for ours in aliases if (other := self._names.other(noun, ours, aliases)) in refused.fields
            }
            if not wanted.keys() & payload.keys():
                raise _in_our_names(refused, wanted) from None
            logger.info("%s was refused for want of %s; sending it again under those names", what, sorted(wanted))
            renamed = {wanted.get(key) or self._names.name(noun, key): value for key, value in payload.items()}
            try:
                answer = read_write(await self._send(method, path, what=what, json=renamed))
            except CrmInvalid as again:
                raise _in_our_names(again, wanted) from None
            self._names.learn(noun, {ours: name for ours, name in wanted.items() if ours in payload})
            return answer

    async def _stored(self, record: R, payload: Mapping[str, Any]) -> R:
        """The record, checked against what was sent: fields it lacks are sent once more under their other name
        (remembered when that stores them); what is still missing is named in `record.dropped`."""
        noun, aliases = self.spec.path, self.spec.write_aliases
        lacking = missing(record, payload, self._unchecked)
        retry = {ours: other for ours in lacking if (other := self._names.other(noun, ours, aliases))}
        if retry:
            logger.info(
                "%s did not store %s; sending them again as %s", self.spec.noun, lacking, sorted(retry.values())
            )
            try:
                body = {other: payload[ours] for ours, other in retry.items()}
                answer = read_write(
                    await self._send("PATCH", self._detail(record.id), what=self._what(record.id), json=body)
                )
                record = await self._back(answer, record.id)
            except CrmError as exc:  # the write itself is done: say what is missing rather than fail it
                logger.warning("resending %s under other names failed: %s", sorted(retry), type(exc).__name__)
            lacking = missing(record, payload, self._unchecked)
            self._names.learn(noun, {ours: other for ours, other in retry.items() if ours not in lacking})
        record._dropped = lacking  # pyright: ignore[reportPrivateUsage]
        return record

    def _read(self, data: Any, label: str) -> R:
        spec = self.spec
        return read_record(data, spec.model, detail_keys=spec.detail_keys, what=self._what(label), lenient=True)


def _in_our_names(error: CrmInvalid, wanted: Mapping[str, str]) -> CrmInvalid:
    """A refusal that names fields by the CRM's other names, told in the tool's argument names."""
    if not wanted:
        return error
    ours = {theirs: name for name, theirs in wanted.items()}
    said = ", ".join(f"{theirs} is the `{name}` argument" for name, theirs in wanted.items() if theirs != name)
    if not said:
        return error
    fields = {ours.get(name, name): messages for name, messages in error.fields.items()}
    return CrmInvalid(f"{error} (Here {said}.)", fields=fields, status=error.status)
