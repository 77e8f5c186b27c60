"""The orchestrator: start the agents, kill and restart them at random, stop, check.

One seeded ``random.Random`` decides every writer's seed, clock skew and jump, and
the kill schedule, so a run is described by its backend, size and seed (process
timing still varies from run to run; the checks do not depend on it).
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import msgspec

from application.bootstrap import wire
from ledger.commands import RegisterTask
from ledger.store.factory import open_store
from tests import pg_server
from tests.campaign.agent import CONFIG, ReaderReport
from tests.campaign.backends import APPLICATION_NAME, CAMPAIGN_BACKENDS, CampaignBackend
from tests.campaign.checker import Findings, check_campaign
from tests.campaign.faketimed import faketimed_command
from tests.campaign.faults import FAKETIME_FAULTS, FAKETIME_OFFSETS, SERVER_FAULTS, FaultKind
from tests.campaign.journal import Journal, count_lines, read_journal
from tests.campaign.web import HttpAgent, ServerSlot, SseClient
from tests.integration.harness import HANG_GUARD_SECONDS, REPO_ROOT, worker_env

TASKS = tuple(f"task-{n:02d}" for n in range(16))
MIN_INCARNATION_OPS = 50
"""A restarted writer's budget when the run's operations are (nearly) all done."""
KILL_WEIGHTS: dict[FaultKind, float] = {
    "kill-writer": 6.0,
    "pg-restart": 0.2,
    "pg-kill-connections": 1.0,
}
"""How often each orchestrator fault is chosen, against 1 for the others; a server
restart takes about two seconds, so it is the rarest."""
MAX_SKEW_MS = 120_000
"""Writers' clocks differ from the true time by up to two minutes either way."""


@dataclass(frozen=True)
class CampaignConfig:
    backend: str
    ops: int
    seed: int
    writers: int = 4
    readers: int = 2
    sse_clients: int = 2
    fault_rate: float = 0.02
    """The share of writer operations with an I/O fault armed."""
    kill_every_s: tuple[float, float] = (0.02, 0.15)
    """Seconds between two kills, drawn uniformly."""
    http: bool = True


@dataclass
class CampaignReport:
    config: CampaignConfig
    folder: Path
    ops: int
    faults: Counter[str]
    findings: Findings
    seconds: float
    sse_resumes: int
    """Reconnections of SSE clients with ``Last-Event-ID`` (after a drop or a kill)."""
    reader_polls: int
    agent_errors: list[str] = field(default_factory=list)

    @property
    def violations(self) -> list[str]:
        return [*self.agent_errors, *self.findings.violations]


def run_campaign(config: CampaignConfig, folder: Path) -> CampaignReport:
    """Run one campaign in ``folder`` (which it fills) and check what it left."""
    backend = CAMPAIGN_BACKENDS[config.backend]
    started = time.monotonic()
    rng = random.Random(config.seed)
    url = backend.url_for(folder)
    _seed_backlog(url)
    run = _Run(config, backend, folder, url, rng)
    try:
        run.start()
        run.drive()
    finally:
        run.stop()
    findings = check_campaign(
        url,
        journals=sorted(folder.glob("journal-*")),
        readers=run.reader_reports,
        sse=[client.seen for client in run.sse],
        lock_delay=timedelta(milliseconds=CONFIG.lock_delay),
        server_time=backend.server_time,
    )
    return CampaignReport(
        config=config,
        folder=folder,
        ops=run.ops(),
        faults=run.faults(),
        findings=findings,
        seconds=time.monotonic() - started,
        sse_resumes=sum(client.connects - 1 for client in run.sse),
        reader_polls=sum(report.reads for report in run.reader_reports),
        agent_errors=run.errors,
    )


def _seed_backlog(url: str) -> None:
    service = wire(open_store(url), config=CONFIG).service
    service.import_tasks(
        [
            RegisterTask(task_id=task, title=f"Campaign {task}", roi=float(n))
            for n, task in enumerate(TASKS)
        ]
    )
    service.store.close()


class _Run:
    """The processes and threads of one campaign."""

    def __init__(
        self,
        config: CampaignConfig,
        backend: CampaignBackend,
        folder: Path,
        url: str,
        rng: random.Random,
    ) -> None:
        self.config = config
        self.backend = backend
        self.folder = folder
        self.url = url
        self.rng = rng
        self.stop_file = folder / "stop"
        self.stderr = (folder / "agents-stderr.log").open("ab")
        self.writers: dict[str, subprocess.Popen[bytes]] = {}
        self.journalled_at_start: dict[str, int] = {}
        """Each writer's journal length when its current incarnation started."""
        skew = MAX_SKEW_MS if "clock-skew" in backend.faults else 0
        self.skews = {f"w{n}": rng.randint(-skew, skew) for n in range(config.writers)}
        self.jumper = f"w{rng.randrange(config.writers)}"
        self.faketimes = self._faketimes()
        """Which processes run under libfaketime, by name ("sweeper" among them)."""
        self.incarnations: Counter[str] = Counter()
        self.faketime_starts: Counter[FaultKind] = Counter()
        """Processes started under libfaketime, by kind (restarts count again)."""
        self.kills: Counter[FaultKind] = Counter()
        self.sweeper: subprocess.Popen[bytes] | None = None
        self.readers: list[subprocess.Popen[bytes]] = []
        self.reader_reports: list[ReaderReport] = []
        self.slot = ServerSlot(folder, url)
        self.http_agent: HttpAgent | None = None
        self.http_journal: Journal | None = None
        self.sse: list[SseClient] = []
        self.errors: list[str] = []

    # --- life cycle --------------------------------------------------------------

    def start(self) -> None:
        if self.config.http:
            self.slot.start()
        self.readers = [
            self._spawn(
                ["reader", self.url, f"reader-{n}", str(self.stop_file)], stdout=subprocess.PIPE
            )
            for n in range(self.config.readers)
        ]
        for name in self.skews:
            self._start_writer(name)
        self._start_sweeper()
        if self.config.http:
            self.http_journal = Journal(self.folder / "journal-http.jsonl")
            seed = self.rng.randrange(1 << 30)
            self.http_agent = HttpAgent(self.slot, self.http_journal, seed, list(TASKS))
            self.http_agent.start()
            self.sse = [
                SseClient(self.slot, f"sse-{n}", self.rng.randrange(1 << 30))
                for n in range(self.config.sse_clients)
            ]
            for client in self.sse:
                client.start()

    def drive(self) -> None:
        """Kill something every so often and restart whatever died, until enough
        operations were journalled."""
        deadline = time.monotonic() + max(HANG_GUARD_SECONDS, self.config.ops / 10)
        while self.ops() < self.config.ops or self._unkilled() or not self._jumped():
            if time.monotonic() > deadline:
                self.errors.append(f"the campaign stalled at {self.ops()} operations")
                return
            time.sleep(self.rng.uniform(*self.config.kill_every_s))
            self._kill_one()
            self._restart_the_dead()

    def stop(self) -> None:
        self.stop_file.touch()
        for proc in self.writers.values():
            self._wait(proc)
        if self.sweeper is not None:
            self._wait(self.sweeper)
        if self.http_agent is not None:
            self.http_agent.halt.set()
            self.http_agent.join(HANG_GUARD_SECONDS)
            self._report_thread(self.http_agent.error, "http agent")
        if self.http_journal is not None:
            self.http_journal.close()
        if self.config.http:
            self.slot.wait_started()
            if self.slot.base_url() is None:
                self.slot.start()
            head = _head(self.url)
            for client in self.sse:
                client.target = head
            for client in self.sse:
                client.join(HANG_GUARD_SECONDS)
                self._report_thread(client.error, client.name)
                if client.is_alive():
                    self.errors.append(f"{client.name} never reached position {head}")
            self.slot.stop()
        for proc in self.readers:
            out, _ = proc.communicate(timeout=HANG_GUARD_SECONDS)
            self.reader_reports.append(msgspec.json.decode(out, type=ReaderReport))
        self.stderr.close()

    # --- figures -------------------------------------------------------------------

    def ops(self) -> int:
        return sum(count_lines(path) for path in self.folder.glob("journal-*"))

    def faults(self) -> Counter[str]:
        found: Counter[str] = Counter(self.kills)
        found.update(self.faketime_starts)
        for path in self.folder.glob("journal-*"):
            for record in read_journal(path):
                found.update(record.faults)
        found["clock-skew"] = sum(1 for skew in self.skews.values() if skew)
        return found

    # --- processes -------------------------------------------------------------------

    def _faketimes(self) -> dict[str, FaultKind]:
        """One writer an hour ahead, another ten minutes behind, and the sweeper ahead
        or behind (seeded), when the backend takes libfaketime faults."""
        if not set(FAKETIME_FAULTS) <= set(self.backend.faults):
            return {}
        ahead, behind = self.rng.sample(sorted(self.skews), 2)
        sweeper = self.rng.choice(FAKETIME_FAULTS)
        return {ahead: "faketime-ahead", behind: "faketime-behind", "sweeper": sweeper}

    def _spawn(
        self, args: list[str], *, stdout: int = subprocess.DEVNULL, name: str = ""
    ) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "tests.campaign.agent", *args]
        env = worker_env()
        fault = self.faketimes.get(name)
        if fault is not None:
            offset = FAKETIME_OFFSETS[fault]
            command, env = faketimed_command(offset, "tests.campaign.agent", args, env)
            self.faketime_starts[fault] += 1
        return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=stdout, stderr=self.stderr)

    def _start_writer(self, name: str) -> None:
        self.incarnations[name] += 1
        self.journalled_at_start[name] = count_lines(self._journal(name))
        remaining = max(MIN_INCARNATION_OPS, self.config.ops - self.ops())
        args = [
            "writer",
            self.url,
            self.backend.name,
            name,
            str(self._journal(name)),
            str(self.stop_file),
            "--seed",
            str(self.rng.randrange(1 << 30)),
            "--ops",
            str(remaining),
            "--skew-ms",
            str(self.skews[name]),
            "--fault-rate",
            str(self.config.fault_rate),
        ]
        if name == self.jumper and not self._jumped():
            args += [
                "--jump-at",
                str(self.rng.randint(2, 20)),
                "--jump-ms",
                str(self.rng.randint(30_000, 180_000)),
            ]
        self.writers[name] = self._spawn(args, name=name)

    def _jumped(self) -> bool:
        """The jumping writer's clock has stepped back (an incarnation killed before its
        jump passes the jump on to the next)."""
        if "clock-jump" not in self.backend.faults:
            return True
        journal = self._journal(self.jumper)
        return journal.exists() and b'"clock-jump"' in journal.read_bytes()

    def _journal(self, writer: str) -> Path:
        return self.folder / f"journal-{writer}.jsonl"

    def _working_writers(self) -> list[str]:
        """Writers whose current incarnation has journalled an operation (the jumper: has
        stepped its clock back): only those are killed, so a loaded machine, where starting
        a writer takes longer than the time between two kills, still makes progress (a
        writer is still killed mid-append)."""
        return [
            name
            for name, proc in sorted(self.writers.items())
            if proc.poll() is None
            and count_lines(self._journal(name)) > self.journalled_at_start[name]
            and (name != self.jumper or self._jumped())
        ]

    def _start_sweeper(self) -> None:
        journal = self.folder / "journal-sweeper.jsonl"
        self.sweeper = self._spawn(
            ["sweeper", self.url, str(journal), str(self.stop_file)], name="sweeper"
        )

    def _kill_one(self) -> None:
        """Kill one process (or, on PostgreSQL, restart the server or end the campaign's
        connections): each kind once first, in a seeded order, then by ``KILL_WEIGHTS``."""
        kinds: list[FaultKind] = ["kill-writer", "kill-sweeper"]
        if self.config.http:
            kinds.append("kill-server")
        kinds += SERVER_FAULTS
        kinds = [kind for kind in kinds if kind in self.backend.faults]
        if not kinds:
            return
        first = [kind for kind in kinds if not self.kills[kind]]
        weights = [KILL_WEIGHTS.get(kind, 1.0) for kind in kinds]
        kind = self.rng.choice(first) if first else self.rng.choices(kinds, weights=weights)[0]
        if kind == "pg-restart":
            pg_server.restart()
            self.kills[kind] += 1
            return
        if kind == "pg-kill-connections":
            pg_server.terminate(APPLICATION_NAME)
            self.kills[kind] += 1
            return
        if kind == "kill-server":
            if self.slot.base_url() is not None:
                self.slot.kill()
                self.kills[kind] += 1
            return
        if kind == "kill-sweeper":
            proc = self.sweeper
        else:
            working = self._working_writers()
            proc = self.writers[self.rng.choice(working)] if working else None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
            self.kills[kind] += 1

    def _unkilled(self) -> list[FaultKind]:
        """Process kinds the backend takes that were not killed yet: the run goes on
        until each was (a loaded machine may get through the operations first)."""
        kinds: list[FaultKind] = ["kill-writer", "kill-sweeper", *SERVER_FAULTS]
        if self.config.http:
            kinds.append("kill-server")
        return [kind for kind in kinds if kind in self.backend.faults and not self.kills[kind]]

    def _restart_the_dead(self) -> None:
        for name, proc in self.writers.items():
            if proc.poll() is not None:
                self._start_writer(name)
        if self.sweeper is not None and self.sweeper.poll() is not None:
            self._start_sweeper()
        if self.config.http and self.slot.base_url() is None:
            self.slot.start_in_background()

    def _wait(self, proc: subprocess.Popen[bytes]) -> None:
        try:
            proc.wait(timeout=HANG_GUARD_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.errors.append(f"{proc.args!r} did not stop when asked")

    def _report_thread(self, error: BaseException | None, name: str) -> None:
        if error is not None:
            self.errors.append(f"{name} failed: {error!r}")


def _head(url: str) -> int:
    store = open_store(url)
    try:
        return store.head_position()
    finally:
        store.close()
