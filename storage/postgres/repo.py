"""The PostgreSQL backend assembled: one `Database`, a repository per aggregate over it."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from survey_flows.pacing import Recontact

from .alert_posts import AlertPosts, AlertTimers
from .alerts import Alerts
from .analytics import Analytics
from .campaigns import Campaigns
from .cluster import Cluster
from .conversation import Conversation
from .customers import Customers
from .database import Database
from .imports import Imports
from .invitations import Invitations
from .links import Links
from .outbox import Expiry, Outbox
from .report_runs import ReportRuns
from .staff_chat import StaffChat


class PostgresRepo:
    """What the app opens once and hands around as `repo` (callers see `storage.base.SurveyRepo`).

    Work that spans two aggregates in one call (a score that raises an alert) runs on one
    connection of the pool, in one transaction."""

    def __init__(self, database: Database, recontact: Recontact | None = None) -> None:
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
        self.cluster = Cluster(database)

    def batch(self) -> AbstractAsyncContextManager[None]:
        """Many calls in one transaction, committed on exit; see Database.batch."""
        return self.database.batch()

    async def close(self) -> None:
        await self.database.close()


async def open_postgres(url: str, *, recontact: Recontact | None = None) -> PostgresRepo:
    """The database at `url`, migrated as needed, with its repositories; every invitation made
    through them obeys `recontact`."""
    return PostgresRepo(await Database.open(url), recontact)
