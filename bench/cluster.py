"""Benchmark: several bot processes on one PostgreSQL database sending first questions to 10,000
customers due at once, against the emulator's flood limits with paid broadcast; then the same
while one process, a follower or the leader, is SIGKILLed mid-run. Run by hand:

    python bench/cluster.py                        # 10,000 customers, the four scenarios
    python bench/cluster.py --customers 3000 --processes 2 --scenarios 2,3 --keep

A throwaway PostgreSQL cluster (tests/pgcluster.py) is started for the run and stopped after;
each scenario gets a fresh database on it and a fresh emulator (in this process, `FloodLimits()`:
30/s free, 1,000/s for sends with allow_paid_broadcast, ~1/s per chat). The bots are real
subprocesses (`python -m bot run`, the end-to-end tests' BotProcess), all in webhook mode behind
one round-robin balancer (no updates are needed: sending is what is measured), with
`[telegram] paid_broadcast = true`. The first one started leads. The events go in batches of
1,000 to the processes' intake APIs in turn, all with one `occurred_at` and `delay_seconds`, so
every invitation is due at the same moment, a little after the last batch is in.

Scenarios: 1 process; N processes; N processes with one follower SIGKILLed once `--kill-after`
customers have their question; the same with the leader killed.

Figures, from the emulator's record of accepted sendMessage calls and the database: first
questions a second from the first to the last (and that over the 1,000/s paid ceiling), the
429s the emulator answered, customers who got their question more than once (sent twice) and
none (lost; checked against invitations without a message in the database). For a kill: the
killed process's sends in flight (invitations in SENDING claimed by its presence session's pid,
read just before the SIGKILL), how long until the last row it held (sending or reserved) was
sent by another process, and for the leader how long until another logged "this process leads".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cpu, pglog
from bench.cluster_figures import COLUMNS, CPU_COLUMNS, PARTS, Figures, Kill, Sends, seconds_text
from bench.common import PURCHASE_AT_ONCE, machine, post_events, print_table
from storage.states import Prompt
from telegram_emulator import BotAPIEmulator, FloodLimits
from tests import pgcluster
from tests.e2e.harness import BOT_TOKEN, BotProcess, wait_until
from tests.e2e.test_cluster import Balancer

FIRST_USER = 9_000_001
PRESENCE = "survey-bot presence"  # storage/postgres/database.py: each process's own session
LEADS = "this process leads"


# --- the database and the processes ----------------------------------------------------------


async def fresh_database(server_url: str, name: str) -> str:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def socket_ports(pid: int) -> set[int]:
    """The local TCP ports of a process's sockets (/proc: its fds' inodes in the tcp tables)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:
            for line in list(lines)[1:]:
                columns = line.split()
                if columns[9] in inodes:
                    ports.add(int(columns[1].rsplit(":", 1)[1], 16))
    return ports


async def presence_pid(db: asyncpg.Connection, bot: BotProcess) -> int:
    """The backend pid of the bot's presence session: what its claims hold in `claimed_by`."""
    assert bot.proc is not None
    found = await db.fetchval(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND client_port = ANY($2)",
        PRESENCE,
        sorted(socket_ports(bot.proc.pid)),
    )
    assert found is not None, "no presence session found for the bot process"
    return int(found)


def lead_logged_at(bot: BotProcess, after: float) -> float | None:
    """When the bot's log says it took the lead, at or after `after` (the log's local time)."""
    path = bot.workdir / "bot.log"
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if LEADS in line:
            at = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").astimezone().timestamp()
            if at >= after - 0.001:
                return at
    return None


def due_at_once(customers: int, tag: str, lead: float) -> list[dict]:
    """Purchases that all fall due `lead` seconds from now, whenever each is posted."""
    occurred = datetime.now(UTC).isoformat()
    return [
        {
            "event_id": f"{tag}-{i}",
            "type": "purchase",
            "occurred_at": occurred,
            "delay_seconds": round(lead),
            "customer": {"telegram_id": FIRST_USER + i, "language": "en"},
        }
        for i in range(customers)
    ]


async def post_round_robin(bots: list[BotProcess], events: list[dict]) -> None:
    """Every 1,000 events to the next process's intake API, as a shop behind a balancer does."""
    size = 1000
    for n, start in enumerate(range(0, len(events), size)):
        await post_events(bots[n % len(bots)], events[start : start + size])


# --- one scenario ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    name: str
    processes: int
    kill: str | None = None  # "follower" or "leader"


class Run:
    """One scenario's emulator, balancer, database and bot processes, and what they used."""

    def __init__(self, plan: Plan, url: str, data: Path, customers: int) -> None:
        self.plan, self.url, self.data = plan, url, data
        self.emulator = BotAPIEmulator(BOT_TOKEN, limits=FloodLimits())
        self.sends = Sends(range(FIRST_USER, FIRST_USER + customers))
        self.emulator.subscribe(self.sends.hear)
        self.balancer = Balancer()
        self.tmp = Path(tempfile.mkdtemp(prefix="cluster-"))
        self.bots: list[BotProcess] = []
        self.gone_cpu = 0.0  # of killed processes, read just before the kill

    async def start(self) -> None:
        await self.emulator.start()
        await self.balancer.start()
        self.db = await asyncpg.connect(self.url)
        for i in range(self.plan.processes):  # one after the other: the first leads
            folder = self.tmp / f"bot{i}"
            folder.mkdir()
            bot = BotProcess(
                self.emulator,
                folder,
                PURCHASE_AT_ONCE,
                mode="webhook",
                telegram_keys="paid_broadcast = true",
                log_level="INFO",
                storage_url=self.url,
                public_url=self.balancer.url,
            )
            self.bots.append(bot)
            await start_patiently(bot)
            self.balancer.targets.append(bot.webhook_url)

    async def stop(self, keep: bool) -> None:
        await self.db.close()
        for bot in self.bots:
            if bot.proc is not None:
                await bot.stop()
        await self.balancer.stop()
        await self.emulator.stop()
        if keep:
            print(f"  kept {self.tmp} (each process's config and bot.log)")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def cpu(self) -> cpu.Reading:
        bots = sum(cpu.process_seconds(b.proc.pid) for b in self.bots if b.proc is not None)
        return cpu.read(
            {
                "bots": bots + self.gone_cpu,
                "postgres": cpu.cluster_seconds(self.data),
                "bench": cpu.own_seconds(),
            }
        )

    def leaders(self) -> list[BotProcess]:
        return [bot for bot in self.bots if LEADS in bot.output()]

    async def kill(self, victim: BotProcess, after: int) -> Kill:
        """SIGKILL `victim` once `after` customers have their question; what it held, read
        just before and just after."""
        kill = Kill(leader=self.plan.kill == "leader")
        pid = await presence_pid(self.db, victim)
        await wait_until(lambda: len(self.sends.firsts) >= after, 600, f"{after} first questions")
        kill.in_flight = int(
            await self.db.fetchval(
                "SELECT count(*) FROM invitations WHERE prompt_sent = $1 AND claimed_by = $2",
                int(Prompt.SENDING),
                pid,
            )
        )
        assert victim.proc is not None
        self.gone_cpu += cpu.process_seconds(victim.proc.pid)
        kill.at = time.time()
        await victim.kill()
        self.balancer.targets.remove(victim.webhook_url)
        victim.proc = None  # nothing to stop at the end
        # The rows it held, before the leader's next look (every 3 s) gives them back.
        rows = await self.db.fetch(
            "SELECT customer_id, prompt_sent FROM invitations WHERE claimed_by = $1", pid
        )
        kill.left_sending = sum(1 for r in rows if r["prompt_sent"] == Prompt.SENDING)
        kill.held = [r["customer_id"] for r in rows]
        print(
            f"  killed the {'leader' if kill.leader else 'follower'} (presence pid {pid}) after"
            f" {len(self.sends.firsts)} sent: {kill.in_flight} sending just before,"
            f" {kill.left_sending} left sending and {len(rows) - kill.left_sending} reserved",
            flush=True,
        )
        return kill


async def start_patiently(bot: BotProcess, patience: float = 90.0) -> None:
    """BotProcess.start, but a start-up slower than its 20 s (cores shared with other work) is
    waited for while the process lives."""
    try:
        await bot.start()
    except AssertionError:
        if bot.proc is None or bot.proc.returncode is not None:
            raise
        await wait_until(lambda: "webhook set" in bot.output(), patience, "the webhook set")


async def scenario(
    plan: Plan, server: str, data: Path, args: argparse.Namespace, n: int
) -> Figures:
    customers = args.customers
    print(f"{plan.name}: {plan.processes} processes, {customers} customers", flush=True)
    run = Run(plan, await fresh_database(server, f"bench_{n}"), data, customers)
    sends = run.sends
    kill: Kill | None = None
    try:
        await run.start()
        leaders = run.leaders()
        assert len(leaders) == 1, f"{len(leaders)} processes lead"
        lead = args.lead if args.lead is not None else 5 + customers / 200
        posting = time.time()
        await post_round_robin(run.bots, due_at_once(customers, f"b{n}", lead))
        posted = time.time() - posting
        print(f"  posted in {posted:.1f} s (due after {lead:.0f} s)", flush=True)
        if posted > lead:
            print("  warning: the intake took longer than the lead: sending overlapped it")
        await asyncio.sleep(max(0.0, posting + lead - time.time()))
        before, start = run.cpu(), time.time()
        if plan.kill is not None:
            victim = leaders[0] if plan.kill == "leader" else run.bots[-1]
            assert plan.kill == "leader" or victim not in leaders, "the victim leads"
            kill = await run.kill(victim, args.kill_after)
        timeout = 120 + customers / 50
        await wait_until(lambda: len(sends.firsts) >= customers, timeout, "every first question")
        used, window = run.cpu().since(before), time.time() - start
        await asyncio.sleep(args.settle)  # late duplicates, if any, arrive meanwhile
        lost_in_db = await run.db.fetchval(
            "SELECT count(*) FROM invitations WHERE prompt_sent <> $1 OR message_id IS NULL",
            int(Prompt.SHOWN),
        )
        if kill is not None:
            takeover(kill, sends)
            if kill.leader:
                await new_leader(kill, [bot for bot in run.bots if bot.proc is not None])
    finally:
        await run.stop(args.keep)
    return figures(run, int(lost_in_db or 0), kill, used, window)


async def new_leader(kill: Kill, survivors: list[BotProcess]) -> None:
    """How long after the kill another process logged that it leads."""

    def logged() -> list[float]:
        return [t for t in (lead_logged_at(bot, kill.at) for bot in survivors) if t is not None]

    await wait_until(logged, 30, "another process to lead")
    kill.leads_after = min(logged()) - kill.at


def takeover(kill: Kill, sends: Sends) -> None:
    """When the last row the killed process held was sent by another."""
    later = [sends.first_after(chat, kill.at) for chat in kill.held]
    if kill.held and all(t is not None for t in later):
        kill.claims_after = max(t for t in later if t is not None) - kill.at
    elif not kill.held:
        kill.claims_after = 0.0


def figures(
    run: Run, lost_in_db: int, kill: Kill | None, used: dict[str, float], window: float
) -> Figures:
    sends = run.sends
    assert run.emulator.flood is not None
    firsts = sorted(sends.firsts)
    seconds = firsts[-1] - firsts[0] if firsts else 0.0
    return Figures(
        name=run.plan.name,
        processes=run.plan.processes,
        customers=len(sends.users),
        seconds=seconds,
        per_second=(len(firsts) - 1) / seconds if seconds else float("inf"),
        refused=run.emulator.flood.refused,
        refused_by_pool=dict(sends.refused),
        twice=sum(1 for times in sends.times.values() if len(times) > 1),
        lost=sum(1 for user in sends.users if not sends.times[user]),
        lost_in_db=lost_in_db,
        kill=kill,
        cpu=used,
        window=window,
    )


# --- the run ---------------------------------------------------------------------------------


def plans(processes: int) -> dict[int, Plan]:
    return {
        1: Plan("1 process", 1),
        2: Plan(f"{processes} processes", processes),
        3: Plan(f"{processes}, follower killed", processes, "follower"),
        4: Plan(f"{processes}, leader killed", processes, "leader"),
    }


async def main_async(args: argparse.Namespace) -> None:
    print(machine(), flush=True)
    chosen = [int(n) for n in args.scenarios.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="cluster-pg-"))
    server_url = pgcluster.start(folder)
    results = []
    logged = 0
    try:
        if args.slow_ms:
            await pglog.log_slow(server_url, args.slow_ms)
        for number in chosen:
            plan = plans(args.processes)[number]
            print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
            result = await scenario(plan, server_url, folder / "data", args, number)
            results.append(result)
            report(result)
            if args.slow_ms:
                summary, logged = pglog.summarize(folder / "log", logged)
                for line in summary.lines():
                    print(f"  PostgreSQL: {line}", flush=True)
    finally:
        pgcluster.stop(folder)
    print()
    print_table(COLUMNS, [r.cells() for r in results])
    print()
    print("CPU while sending (from the due moment to the last first question):")
    print_table(CPU_COLUMNS, [r.cpu_cells() for r in results])
    print(
        "cluster: "
        + "; ".join(
            f"{r.name}: {r.per_second:.0f}/s, {r.refused} x 429, {r.twice} twice, {r.lost} lost"
            for r in results
        )
    )


def report(r: Figures) -> None:
    line = (
        f"  {r.per_second:.0f}/s over {r.seconds:.1f} s, {r.refused} x 429"
        f" (free {r.refused_by_pool['free']}, paid {r.refused_by_pool['paid']}),"
        f" {r.twice} sent twice, {r.lost} lost"
        f" ({r.lost_in_db} invitations without a message in the database)"
    )
    kill = r.kill
    if kill is not None:
        line += f"; claims taken over after {seconds_text(kill.claims_after)} s" + (
            f", leadership after {seconds_text(kill.leads_after)} s" if kill.leader else ""
        )
        if r.twice > kill.in_flight:
            line += f"; MORE sent twice than the {kill.in_flight} in flight at the kill"
    print(line, flush=True)
    used = ", ".join(f"{part} {r.cpu[part]:.1f} s" for part in PARTS)
    print(f"  CPU over {r.window:.1f} s: {used}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000, help="invitations due at once")
    parser.add_argument("--processes", type=int, default=3, help="processes in scenarios 2-4")
    parser.add_argument("--kill-after", type=int, default=3000, help="sent before a kill")
    parser.add_argument("--scenarios", default="1,2,3,4", help="which, e.g. 2,3")
    parser.add_argument("--lead", type=float, default=None, help="s from posting to due")
    parser.add_argument("--settle", type=float, default=3.0, help="s to wait for late sends")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs")
    parser.add_argument(
        "--slow-ms", type=int, default=0, help="sum up statements and lock waits over this"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
