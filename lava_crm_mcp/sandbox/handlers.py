"""The route table of the API: one synchronous handler per (path, method), all generic over resources."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from .filters import read_query
from .records import Filter, Rows, Window
from .replies import Listing, Removed, Reply, Shown, Written
from .resources import RESOURCES, Resource
from .service import DEALS, Service
from .shapes import NameBody
from .validate import parse


@dataclass(frozen=True)
class Ctx:
    """One authenticated request, as a handler sees it."""

    service: Service
    org: str
    path: Mapping[str, str]
    query: Mapping[str, str]
    body: Mapping[str, object]
    window: Callable[[Mapping[str, str]], Window]
    """How the dialect reads a list's slice from the query (a page, or a limit and an offset)."""


Handler = Callable[[Ctx], Reply]


def list_records(res: Resource, ctx: Ctx) -> Reply:
    window, query = ctx.window(ctx.query), read_query(res.params, res.sorts, ctx.query)

    def fetch(where: Filter | None) -> Rows:
        return ctx.service.page(res, ctx.org, window, query, where)

    return Listing(res.name, window, fetch)


def create_record(res: Resource, ctx: Ctx) -> Reply:
    return Written(res.name, res.noun, "created", ctx.service.create(res, ctx.org, ctx.body))


def show_record(res: Resource, ctx: Ctx) -> Reply:
    return Shown(res.name, ctx.service.show(res, ctx.org, ctx.path["id"]))


def update_record(res: Resource, ctx: Ctx, *, partial: bool) -> Reply:
    record = ctx.service.update(res, ctx.org, ctx.path["id"], ctx.body, partial=partial)
    return Written(res.name, res.noun, "updated", record)


def delete_record(res: Resource, ctx: Ctx) -> Reply:
    ctx.service.delete(res, ctx.org, ctx.path["id"])
    return Removed(res.noun)


def list_pipelines(ctx: Ctx) -> Reply:
    window = ctx.window(ctx.query)
    items = ctx.service.boards.pipelines(ctx.org)
    rows = Rows(len(items), items[window.offset : window.offset + window.limit])
    return Listing("pipelines", window, lambda _where: rows)


def create_pipeline(ctx: Ctx) -> Reply:
    boards = ctx.service.boards
    ident = boards.create_pipeline(ctx.org, parse(NameBody, ctx.body).name)
    return Written("pipelines", "Pipeline", "created", boards.pipeline(ctx.org, ident))


def show_board(ctx: Ctx) -> Reply:
    return ctx.service.boards.board(ctx.org, ctx.query.get("pipeline_id") or None)


def add_stage(ctx: Ctx) -> Reply:
    pipeline_id = ctx.service.boards.head(ctx.org, ctx.path["pipeline_id"])["id"]
    stage = ctx.service.boards.add_stage(ctx.org, pipeline_id, parse(NameBody, ctx.body).name)
    return Written("stages", "Stage", "created", stage)


def rename_stage(ctx: Ctx) -> Reply:
    stage_id = ctx.service.boards.stage(ctx.org, ctx.path["stage_id"]).id
    stage = ctx.service.boards.rename_stage(ctx.org, stage_id, parse(NameBody, ctx.body).name)
    return Written("stages", "Stage", "updated", stage)


def delete_stage(ctx: Ctx) -> Reply:
    ctx.service.boards.delete_stage(ctx.org, ctx.path["stage_id"])
    return Removed("Stage")


def move_deal(ctx: Ctx) -> Reply:
    return Written(DEALS.name, DEALS.noun, "moved", ctx.service.move(ctx.org, ctx.path["deal_id"], ctx.body))


def _resource_routes(res: Resource) -> list[tuple[str, str, Handler]]:
    listing, detail = f"/api/{res.name}/", f"/api/{res.name}/{{id}}/"
    return [
        (listing, "GET", partial(list_records, res)),
        (listing, "POST", partial(create_record, res)),
        (detail, "GET", partial(show_record, res)),
        (detail, "PATCH", partial(update_record, res, partial=True)),
        (detail, "PUT", partial(update_record, res, partial=False)),
        (detail, "DELETE", partial(delete_record, res)),
    ]


PIPELINE_ROUTES: list[tuple[str, str, Handler]] = [
    ("/api/deal-pipelines/", "GET", list_pipelines),
    ("/api/deal-pipelines/", "POST", create_pipeline),
    ("/api/deal-pipelines/board/", "GET", show_board),
    ("/api/deal-pipelines/{pipeline_id}/stages/", "POST", add_stage),
    ("/api/deal-pipelines/stages/{stage_id}/", "PUT", rename_stage),
    ("/api/deal-pipelines/stages/{stage_id}/", "DELETE", delete_stage),
    ("/api/deal-pipelines/deals/{deal_id}/move/", "PATCH", move_deal),
]
ROUTES: list[tuple[str, str, Handler]] = [*PIPELINE_ROUTES, *(r for res in RESOURCES for r in _resource_routes(res))]
"""Every API route: (path, method, handler). The OpenAPI document is generated from the same table."""
