"""HTTP adapters for the runs table, a run, its curves, the report (``run_views``) and the loops (``loop_views``).

Mounted by :func:`jupyter_mlexp.frontdoors.server.handlers.setup_handlers` beside the other routes.
"""

from __future__ import annotations

from pathlib import Path

import tornado.web

from jupyter_mlexp.frontdoors.server import loop_views, run_views
from jupyter_mlexp.frontdoors.server.base import SEG, BadRequest, MlexpHandler


class _ServerRootMixin(MlexpHandler):
    @property
    def server_root(self) -> Path:
        return Path(self.settings.get("server_root_dir") or ".").expanduser().resolve()


class RunsTableHandler(MlexpHandler):
    @tornado.web.authenticated
    async def get(self, name: str):
        # Cached as JSON text (10,000 runs are megabytes), written as it is; an unchanged poll gets a few bytes.
        await self.answer_stamped(run_views.runs_table_answer, name)


class RunsGroupsHandler(MlexpHandler):
    @tornado.web.authenticated
    async def get(self, name: str):
        # asked for only when the table is grouped; stamped like the table
        await self.answer_stamped(run_views.groups_answer, name)


class RunDetailHandler(_ServerRootMixin):
    @tornado.web.authenticated
    async def get(self, name: str, run_id: str):
        await self.answer(run_views.run_detail, name, run_id, self.server_root)


class RunMetricsHandler(MlexpHandler):
    @tornado.web.authenticated
    async def get(self, name: str, run_id: str):
        offset = self.int_argument("offset", 0)
        points = self.int_argument("points", 0) or None  # a sampled curve of at most this many points a metric
        if points is not None and not 2 <= points <= run_views.MAX_POINTS:
            raise BadRequest(f"query parameter 'points' must be between 2 and {run_views.MAX_POINTS}")
        await self.answer(run_views.run_metrics, name, run_id, offset, points)


class ReportHandler(_ServerRootMixin):
    @tornado.web.authenticated
    async def post(self, name: str):
        force = self.json_body().get("force", False)
        if not isinstance(force, bool):
            raise BadRequest("'force' must be true or false")
        await self.answer(run_views.build_report, name, self.server_root, force, status=201)


class LoopsHandler(MlexpHandler):
    @tornado.web.authenticated
    async def get(self, name: str):
        await self.answer_stamped(loop_views.list_loops_answer, name)


class AttemptPatchHandler(MlexpHandler):
    @tornado.web.authenticated
    async def get(self, name: str, tag: str, n: str):
        await self.answer(loop_views.attempt_patch, name, tag, int(n))


ROUTES = [
    (f"experiments/{SEG}/table", RunsTableHandler),
    (f"experiments/{SEG}/table/groups", RunsGroupsHandler),
    (f"experiments/{SEG}/runs/{SEG}", RunDetailHandler),
    (f"experiments/{SEG}/runs/{SEG}/metrics", RunMetricsHandler),
    (f"experiments/{SEG}/report", ReportHandler),
    (f"experiments/{SEG}/loops", LoopsHandler),
    (f"experiments/{SEG}/loops/{SEG}/attempts/([0-9]{{1,6}})/patch", AttemptPatchHandler),
]
