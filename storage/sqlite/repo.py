"""The SQLite backend assembled: one `Database`, a repository per aggregate over it."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

from survey_flows.pacing import Recontact

from .alert_posts import AlertPosts, AlertTimers
from .alerts import Alerts
from .analytics import Analytics
from .campaigns import Campaigns
from .conversation import Conversation
from .customers import Customers
from .database import Database
from .imports import Imports
from .invitations import Invitations
from .links import Links
from .outbox import Expiry, Outbox
from .report_runs import ReportRuns
from .staff_chat import StaffChat


class SingleProcess:
    """`ClusterRepo` for SQLite: one process owns the file, so it leads and polls."""

    shared = False

    async def try_lead(self) -> bool:
        return True

    async def try_poll(self, bot_id: int) -> bool:
        return True

    async def processes(self) -> int:
        return 1


class SqliteRepo:
    """What the app opens once and hands around as `repo` (callers see `storage.base.SurveyRepo`).

    The repositories share the database's one writer connection, so work that spans two of
    them in one call (a score that raises an alert) is still one transaction.
    """

    def __init__(self, database: Database, recontact: Recontact | None = None) -> None:
        # [throttle] recontact: every path that creates an invitation enforces it.
        rule = recontact or Recontact()
        self.database = database
        self.invitations = Invitations(database, rule)
        self.links = Links(database, rule)
        self.conversation = Conversation(database)
        self.outbox = Outbox(database)
        self.expiry = Expiry(database)
        self.customers = Customers(database)
        self.alerts = Alerts(database)
        self.alert_posts = AlertPosts(database)
        self.alert_timers = AlertTimers(database)
        self.staff_chat = StaffChat(database)
        self.analytics = Analytics(database)
        self.report_runs = ReportRuns(database)
        self.campaigns = Campaigns(database)
        self.imports = Imports(database)
        self.cluster = SingleProcess()

    def batch(self) -> AbstractAsyncContextManager[None]:
        """Many calls in one transaction, committed (one fsync) on exit; see Database.batch."""
        return self.database.batch()

    async def close(self) -> None:
        await self.database.close()


async def open_sqlite(path: str | Path, *, recontact: Recontact | None = None) -> SqliteRepo:
    """The database at `path`, created and migrated as needed, with its repositories; every
    invitation made through them obeys `recontact`."""
    return SqliteRepo(await Database.open(path), recontact)
