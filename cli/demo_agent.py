"""One simulated agent of ``claims demo``: it works the backlog only through the CLI.

Run as ``python -m cli.demo_agent SESSION ROUNDS [--crash] [--slow]``; ``CLAIMS_DB``
names the store. Each round: ``claims next``, a few ``claims heartbeat`` while it
"works", then ``claims release`` (mostly completed, sometimes abandoned); in its
last round it keeps its claim. ``--crash`` walks away from the first claim without
releasing it, as a killed agent would; ``--slow`` works long on its first task.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from typing import Any

NO_TASK = 12


def claims(*args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args, "--json"], capture_output=True, text=True, check=False
    )
    body = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, body


def say(session: str, text: str) -> None:
    print(f"{session:<8} {text}", flush=True)


def work(session: str, *, rounds: int, crash: bool, slow: bool, seed: int) -> None:
    rng = random.Random(seed)
    for round_number in range(1, rounds + 1):
        code, body = claims(
            "next", "--session", session, "--ttl", "4s", "--agent-type", "autonomous"
        )
        if code == NO_TASK:
            say(session, "backlog empty; done")
            return
        if code != 0:
            say(session, f"next failed: {body.get('error')}")
            continue
        task = body["claim"]["taskId"]
        say(session, f"claimed   {task} (fencing token {body['claim']['fencingToken']})")
        if crash:
            say(session, f"crashes while holding {task}; its lease will lapse")
            return
        beats = 8 if slow and round_number == 1 else rng.randint(1, 3)
        if not beat(session, task, beats, rng):
            continue
        if round_number == rounds:
            say(session, f"pauses    holding {task}")
            return
        reason = "completed" if rng.random() < 0.8 else "abandoned"
        code, body = claims("release", task, "--session", session, "--reason", reason)
        if code == 0:
            seconds = body["released"]["claimDuration"] / 1000
            say(session, f"released  {task} ({reason}, held {seconds:.1f}s)")
        else:
            say(session, f"release of {task} refused: {body.get('error')}")


def beat(session: str, task: str, beats: int, rng: random.Random) -> bool:
    for _ in range(beats):
        time.sleep(rng.uniform(0.3, 0.6))
        code, body = claims("heartbeat", task, "--session", session)
        if code != 0:
            say(session, f"lost      {task}: {body.get('error')}; moving on")
            return False
        say(session, f"heartbeat {task} (#{body['claim']['heartbeatCount']})")
    return True


if __name__ == "__main__":
    name, rounds, *flags = sys.argv[1:]
    work(
        name,
        rounds=int(rounds),
        crash="--crash" in flags,
        slow="--slow" in flags,
        seed=sum(map(ord, name)),
    )
