"""Fan-out latency and capacity of the face relay: batched vs naive, Socket.IO vs the /relay channel.

Run: ``.venv/bin/python bench/relay.py [--clients 1000] [--room-size 5] [--fps 15]
[--seconds 8] [--mode {batched,naive,both}] [--transport {socketio,relay,both}] [--quick]``
(``--help`` for the rest). The default run takes about seven minutes; ``--quick`` about 40 s.

For every (transport, mode) it runs a step search (25, 50, 100, 200, 300, 400, 550, 700, 1000
clients, up to ``--clients``); a failing step is re-run once (``--retries``: a neighbour's
burst on a shared machine can sink one window) and a configuration stops at its first step
that fails every attempt. Each attempt starts a fresh ``convex serve`` process on a copy of a
prepared SQLite database, pinned with ``taskset`` to ``--server-cpus`` (default CPU 0);
one load-generator process (``bench/relay_client.py``: raw websockets, no Socket.IO client
library) is pinned to ``--generator-cpus`` (default CPU 1). Users are inserted into the
database directly before the server starts (one scrypt hash shared by all) and their tokens
signed with the server's ``CONVEX_SECRET``, because registering 1,000 users over HTTP costs a
scrypt hash each. Rooms are created, joined and started over Socket.IO as a real client does;
then every client sends real 64-byte ``shared.codec`` frames at ``--fps`` with its send time
(``CLOCK_MONOTONIC``, shared by all processes) in ``t_ms``. By default (``--phase aligned``)
clients send as the game's ``NetClient`` does: after half a second they move into the send
band of the server's tick period (``game.net.timing.SEND_BAND``, learnt from the batches'
server time), each at its own place in the band; ``--phase random`` keeps every client at a
random phase of the period, the worst case for latest-wins batching.

Measured over the window (frames sent in the ``--seconds`` after ``--warmup``, followed for
``--drain`` more): fan-out latency p50/p99 (a frame sent by A until the message carrying it
reaches B, for every other member B); delivered frames/s; deliv% of frames × (members − 1);
super%, frames the room overtook with a newer one of the same member before its tick (from the
server's ``convex_room_frames`` metric); server CPU (% of one core, all threads; from /proc);
generator CPU; websocket bytes per user per second up and down, framing included (TCP/IP
headers not counted); the mean wall time of a tick and the share of ticks started > 50 ms
late (from ``/metrics``); other processes' CPU on the machine in the window. A step *holds*
when p99 ≤ 100 ms and deliv% plus super% (the latter counting up to 2 %, see
:data:`SUPERSEDED_ALLOWANCE`) reach 99 %, and no connection dropped. The capacity of a
configuration is its largest holding step; ratios are printed at the end.

Modes: ``batched`` is the product (each member's latest frame, one batch per room per 15 Hz
tick); ``naive`` (``CONVEX_RELAY_MODE=naive``) sends every frame to every member at once.
Transports: ``socketio`` (the ``frame``/``frames`` events) and ``relay`` (``/relay``, see
``server/relay.py``; Socket.IO still carries room control, and the ticks' room events come on
``/relay``, asked for as the game's ``NetClient`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import multiprocessing as mp
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from relay_client import HIST_MAX_MS, Tally, WorkerPlan, percentile, worker
from serve import ServeProcess

from server.auth import TokenSigner, hash_password
from server.db.store import Store

REPO: Final[Path] = Path(__file__).resolve().parent.parent
STEPS: Final[tuple[int, ...]] = (25, 50, 100, 200, 300, 400, 550, 700, 1000)
P99_LIMIT_MS: Final[float] = 100.0
"""Product target: p99 fan-out latency."""
DELIVERED_MIN: Final[float] = 0.99
"""A step holds only if at least this share of the frames reached every other member."""
SUPERSEDED_ALLOWANCE: Final[float] = 0.02
"""Frames overtaken by a newer one of the same member within one tick count as delivered up to
this share: a healthy server loses 0.1-3 % that way (two frames of a 15 Hz sender landing in one
15 Hz tick; toolchain.md measured 0.2-2 %). More means late ticks, i.e. an overloaded server,
and the latency of delivered frames alone would hide it (the oldest frames are the ones
overtaken)."""
UPSTREAM_BUDGET: Final[float] = 1.5 * 1024
"""Product target: upstream bytes per user per second."""
TOKEN_TTL_S: Final[int] = 24 * 3600
READY_TIMEOUT_S: Final[float] = 180.0
_RUNS: Final = itertools.count(1)


@dataclass
class RunResult:
    """One step: a configuration at one client count."""

    transport: str
    mode: str
    clients: int
    seconds: float
    ok: bool = True
    problem: str = ""
    p50: float = math.nan
    p99: float = math.nan
    delivered: float = 0.0
    """Share of frames × (members − 1) that reached the other members (strict)."""
    superseded: float = 0.0
    """Share overtaken in the room by a newer frame of the same member (latest-wins batching)."""
    lost: float = 0.0
    """Share neither delivered nor superseded: what the relay failed to carry."""
    delivered_per_s: float = 0.0
    server_cpu: float = math.nan
    generator_cpu: float = math.nan
    others_cpu: float = math.nan
    others_top: str = ""
    up_per_user: float = math.nan
    down_per_user: float = math.nan
    send_lag_p99: float = math.nan
    errors: dict[str, int] = field(default_factory=dict)
    lost_connections: int = 0
    skipped_batches: int = 0
    tick_mean_ms: float = math.nan
    tick_late: float = math.nan

    @property
    def holds(self) -> bool:
        return (
            self.ok
            and self.p99 <= P99_LIMIT_MS
            and self.delivered + min(self.superseded, SUPERSEDED_ALLOWANCE) >= DELIVERED_MIN
            and self.lost_connections == 0
        )


# -- machine state ----------------------------------------------------------------------------

CLK_TCK: Final[int] = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def all_proc_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds of every process on the machine, with its command name."""
    out: dict[int, tuple[str, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        name = raw[raw.find("(") + 1 : raw.rfind(")")]
        fields = raw.rsplit(")", 1)[1].split()
        out[int(entry.name)] = (name, (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:60]
    except OSError:
        return "?"


def scrape(url: str) -> dict[str, float]:
    """The tick histogram's totals from the server's Prometheus /metrics."""
    out: dict[str, float] = {}
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return out
    for line in text.splitlines():
        for key in (
            "convex_tick_duration_seconds_sum",
            "convex_tick_duration_seconds_count",
            'convex_tick_lag_seconds_bucket{le="0.05"}',
            "convex_tick_lag_seconds_count",
            'convex_room_frames{kind="superseded"}',
            'convex_relay_batches_total{result="skipped"}',
        ):
            if line.startswith(key + " "):
                out[key] = float(line.split()[-1])
    return out


# -- preparing users and the server -----------------------------------------------------------


async def _make_users(url: str, n: int) -> list[tuple[int, str]]:
    store = await Store.open(url)
    try:
        password = hash_password(secrets.token_urlsafe(12))
        now = time.time()
        users = []
        for i in range(n):
            user = await store.create_user(f"bench{i:05d}", password, now)
            users.append((user.id, user.username))
        return users
    finally:
        await store.close()


class Server(ServeProcess):
    """A ``convex serve`` child process on a fresh copy of the prepared database."""

    def __init__(self, db: Path, secret: str, mode: str, opts: Options, log: Path) -> None:
        cpus = opts.server_cpus
        profile = opts.profile_server
        env = {"CONVEX_SECRET": secret, "CONVEX_RELAY_MODE": mode}
        if opts.tick_hz:
            env["CONVEX_TICK_HZ"] = str(opts.tick_hz)
        super().__init__(
            db,
            log,
            env=env,
            prefix=["taskset", "-c", cpus] if cpus and shutil.which("taskset") else [],
            python_args=(
                ["-m", "cProfile", "-o", f"{profile}.{mode}.{next(_RUNS)}.prof"] if profile else []
            ),
        )


# -- one step ---------------------------------------------------------------------------------


@dataclass
class Options:
    room_size: int
    fps: float
    seconds: float
    warmup: float
    drain: float
    workers: int
    server_cpus: str
    generator_cpus: list[int] | None
    tick_hz: float | None = None
    profile_server: str | None = None
    aligned: bool = True


def run_step(
    transport: str,
    mode: str,
    n: int,
    users: list[tuple[int, str]],
    template: Path,
    secret: str,
    opts: Options,
    workdir: Path,
) -> RunResult:
    result = RunResult(transport, mode, n, opts.seconds)
    db = workdir / f"step-{transport}-{mode}-{n}.sqlite3"
    shutil.copy(template, db)
    signer = TokenSigner(secret.encode(), TOKEN_TTL_S)
    now = time.time()
    members = [(uid, signer.issue(uid, name, now)) for uid, name in users[:n]]
    rooms = [members[i : i + opts.room_size] for i in range(0, n, opts.room_size)]
    rooms = [r for r in rooms if len(r) >= 2]
    server = Server(db, secret, mode, opts, workdir / "server.log")
    ctx = mp.get_context("fork")
    procs: list[tuple[Any, Any]] = []
    try:
        count = max(1, min(opts.workers, len(rooms)))
        host, port = server.url.removeprefix("http://").split(":")
        for w in range(count):
            plan = WorkerPlan(
                host=host,
                port=int(port),
                transport=transport,
                fps=opts.fps,
                rooms=rooms[w::count],
                cpus=opts.generator_cpus,
                seed=w + 1,
                aligned=opts.aligned,
            )
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker, args=(plan, child), daemon=True)
            proc.start()
            procs.append((proc, parent))
        for _, pipe in procs:
            if not pipe.poll(READY_TIMEOUT_S):
                raise RuntimeError("a generator did not get its rooms seated in time")
            msg = pipe.recv()
            if not msg.get("ready"):
                raise RuntimeError(f"seating failed: {msg.get('error')}")
        t0 = time.monotonic() + 0.5
        win_start = t0 + opts.warmup
        win_end = win_start + opts.seconds
        stop = win_end + opts.drain
        for _, pipe in procs:
            pipe.send({"t0": t0, "win_start": win_start, "win_end": win_end, "stop": stop})
        time.sleep(max(0.0, win_start - time.monotonic()))
        cpu0, others0, m0 = proc_cpu_s(server.pid), all_proc_cpu(), scrape(server.url)
        time.sleep(max(0.0, win_end - time.monotonic()))
        cpu1, others1, m1 = proc_cpu_s(server.pid), all_proc_cpu(), scrape(server.url)
        tallies: list[Tally] = []
        for _, pipe in procs:
            if not pipe.poll(opts.drain + 60.0):
                raise RuntimeError("a generator did not report")
            msg = pipe.recv()
            if "tally" not in msg:
                raise RuntimeError(f"a generator failed: {msg.get('error')}")
            tallies.append(msg["tally"])
    except RuntimeError as exc:
        result.ok = False
        result.problem = str(exc)
        return result
    finally:
        for proc, _ in procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
        server.stop()
        db.unlink(missing_ok=True)

    span = win_end - win_start
    hist = [0] * (HIST_MAX_MS + 1)
    for t in tallies:
        for i, c in enumerate(t.hist):
            hist[i] += c
    expected = sum(t.expected for t in tallies)
    delivered = sum(t.delivered for t in tallies)
    result.p50 = percentile(hist, 0.50)
    result.p99 = percentile(hist, 0.99)
    result.delivered = delivered / expected if expected else 0.0
    result.delivered_per_s = delivered / span
    result.server_cpu = 100.0 * (cpu1 - cpu0) / span
    result.generator_cpu = 100.0 * sum(t.cpu_s for t in tallies) / span
    clients = sum(t.clients for t in tallies)
    result.up_per_user = sum(t.bytes_up for t in tallies) / span / clients
    result.down_per_user = sum(t.bytes_down for t in tallies) / span / clients
    lags = sorted(v for t in tallies for v in t.send_lag_ms)
    result.send_lag_p99 = float(lags[int(0.99 * (len(lags) - 1))]) if lags else math.nan
    for t in tallies:
        for code, k in t.error_codes.items():
            result.errors[code] = result.errors.get(code, 0) + k
    result.lost_connections = sum(t.lost_connections for t in tallies)
    superseded = m1.get('convex_room_frames{kind="superseded"}', 0) - m0.get(
        'convex_room_frames{kind="superseded"}', 0
    )
    # Every superseded frame would have gone to each other member of its room. Naive mode
    # relays each frame before the next arrives: the room's counter there is not about relaying.
    if mode == "naive":
        superseded = 0
    if expected:
        result.superseded = superseded * (opts.room_size - 1) / expected
        result.lost = max(0.0, 1.0 - result.delivered - result.superseded)
    result.skipped_batches = int(
        m1.get('convex_relay_batches_total{result="skipped"}', 0)
        - m0.get('convex_relay_batches_total{result="skipped"}', 0)
    )
    ours = {server.pid, os.getpid(), *(p.pid for p, _ in procs)}
    deltas = []
    for pid, (name, cpu) in others1.items():
        if pid in ours or pid not in others0:
            continue
        d = cpu - others0[pid][1]
        if d > 0:
            deltas.append((d, pid, name))
    deltas.sort(reverse=True)
    result.others_cpu = 100.0 * sum(d for d, _, _ in deltas) / span
    result.others_top = ", ".join(
        f"{100.0 * d / span:.0f}% {cmdline(pid) or name}" for d, pid, name in deltas[:3]
    )
    ticks = m1.get("convex_tick_duration_seconds_count", 0) - m0.get(
        "convex_tick_duration_seconds_count", 0
    )
    if ticks > 0:
        spent = m1["convex_tick_duration_seconds_sum"] - m0["convex_tick_duration_seconds_sum"]
        result.tick_mean_ms = 1000.0 * spent / ticks
        on_time = m1.get('convex_tick_lag_seconds_bucket{le="0.05"}', 0) - m0.get(
            'convex_tick_lag_seconds_bucket{le="0.05"}', 0
        )
        result.tick_late = 1.0 - on_time / ticks
    return result


# -- reporting --------------------------------------------------------------------------------

HEADER: Final[str] = (
    f"{'transport':9} {'mode':7} {'clients':>7} {'p50 ms':>6} {'p99 ms':>6} {'deliv%':>6} "
    f"{'super%':>6} {'lost%':>6} {'frames/s':>8} {'srv CPU':>7} {'gen CPU':>7} {'up B/s':>6} "
    f"{'down B/s':>8} {'tick ms':>7} {'late%':>5} {'others':>6}  verdict"
)


def row(r: RunResult) -> str:
    """One table row for a step."""
    if not r.ok:
        return f"{r.transport:9} {r.mode:7} {r.clients:7}  FAILED: {r.problem}"
    verdict = "holds" if r.holds else "FAILS"
    extra = []
    if r.errors:
        extra.append("errors " + ",".join(f"{k}={v}" for k, v in sorted(r.errors.items())))
    if r.lost_connections:
        extra.append(f"{r.lost_connections} connections lost")
    if r.skipped_batches:
        extra.append(f"{r.skipped_batches} batches skipped (backlog)")
    if r.send_lag_p99 > 20:
        extra.append(f"generator late p99 {r.send_lag_p99:.0f} ms")
    return (
        f"{r.transport:9} {r.mode:7} {r.clients:7} {r.p50:6.0f} {r.p99:6.0f} "
        f"{100 * r.delivered:6.2f} {100 * r.superseded:6.2f} {100 * r.lost:6.2f} "
        f"{r.delivered_per_s:8.0f} {r.server_cpu:6.0f}% {r.generator_cpu:6.0f}% "
        f"{r.up_per_user:6.0f} {r.down_per_user:8.0f} {r.tick_mean_ms:7.1f} "
        f"{100 * r.tick_late:4.1f}% {r.others_cpu:5.0f}%  {verdict}"
        + (f"  ({'; '.join(extra)})" if extra else "")
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the step search and print one row per step, then capacities and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000, help="largest step (default 1000)")
    parser.add_argument("--room-size", type=int, default=5)
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured window per step")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--drain", type=float, default=1.5)
    parser.add_argument("--mode", choices=("batched", "naive", "both"), default="both")
    parser.add_argument("--transport", choices=("socketio", "relay", "both"), default="both")
    parser.add_argument(
        "--steps", help="comma-separated client counts (default 50,100,200,400,700,1000 ≤ N)"
    )
    parser.add_argument("--workers", type=int, default=1, help="generator processes")
    parser.add_argument(
        "--retries", type=int, default=1, help="re-runs of a failing step before it counts"
    )
    parser.add_argument("--tick-hz", type=float, help="server room tick rate (default 15)")
    parser.add_argument(
        "--phase",
        choices=("aligned", "random"),
        default="aligned",
        help="when clients send within the tick period: 'aligned' inside the game client's "
        "send band after each server tick (what NetClient does), or 'random' (any phase)",
    )
    parser.add_argument(
        "--profile-server",
        metavar="PREFIX",
        help="run the server under cProfile, writing PREFIX.MODE.N.prof (slows it ~3x)",
    )
    parser.add_argument("--server-cpus", default="0", help="taskset list for the server")
    parser.add_argument("--generator-cpus", default="1", help="CPUs for the generators")
    parser.add_argument(
        "--keep-going", action="store_true", help="run every step even after one fails"
    )
    parser.add_argument(
        "--quick", action="store_true", help="~40 s smoke run: 50 clients, 3 s windows"
    )
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: each step's finally stops its server and generators.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if args.quick:
        steps = [50]
        args.seconds, args.warmup, args.drain = 3.0, 1.0, 1.0
    elif args.steps:
        steps = sorted({int(s) for s in args.steps.split(",")})
    else:
        steps = sorted({s for s in STEPS if s < args.clients} | {args.clients})
    transports = ["socketio", "relay"] if args.transport == "both" else [args.transport]
    modes = ["naive", "batched"] if args.mode == "both" else [args.mode]
    gen_cpus = [int(c) for c in args.generator_cpus.split(",")] if args.generator_cpus else None
    opts = Options(
        room_size=args.room_size,
        fps=args.fps,
        seconds=args.seconds,
        warmup=args.warmup,
        drain=args.drain,
        workers=args.workers,
        server_cpus=args.server_cpus,
        generator_cpus=gen_cpus,
        tick_hz=args.tick_hz,
        profile_server=args.profile_server,
        aligned=args.phase == "aligned",
    )

    print(
        f"relay bench: rooms of {args.room_size}, {args.fps:g} frames/s per client, "
        f"{args.seconds:g} s windows after {args.warmup:g} s warm-up, clients sending "
        f"{'in the send band after each tick' if args.phase == 'aligned' else 'at random phases'}"
        "; server on CPU "
        f"{args.server_cpus or 'any'}, {args.workers} generator process(es) on CPU "
        f"{args.generator_cpus or 'any'}; {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    print(
        "deliv%: frames x (members - 1) that arrived; super%: overtaken in the room by a newer "
        "frame of the same member (latest-wins batching, by design); lost%: the rest. A step "
        f"holds with p99 <= {P99_LIMIT_MS:g} ms and deliv% + super% >= "
        f"{100 * DELIVERED_MIN:g}, super% counting at most {100 * SUPERSEDED_ALLOWANCE:g}. "
        "CPU is % of one core; bytes are websocket bytes per user per second; tick ms is the "
        "mean wall time of one tick of all rooms, late% the ticks started > 50 ms late."
    )
    results: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="convex-relay-bench-") as tmp:
        workdir = Path(tmp)
        template = workdir / "template.sqlite3"
        t = time.monotonic()
        users = asyncio.run(_make_users(f"sqlite+aiosqlite:///{template}", max(steps)))
        print(f"{len(users)} users inserted directly in {time.monotonic() - t:.1f} s", flush=True)
        secret = secrets.token_hex(32)
        print(HEADER, flush=True)
        for transport in transports:
            for mode in modes:
                for n in steps:
                    # A neighbour's burst on a shared machine can sink one window; a step at
                    # the configuration's real limit fails its retries too.
                    for _ in range(1 + max(0, args.retries)):
                        r = run_step(transport, mode, n, users, template, secret, opts, workdir)
                        results.append(r)
                        print(row(r), flush=True)
                        if r.others_cpu > 20:
                            print(f"    busy elsewhere in the window: {r.others_top}", flush=True)
                        if r.holds:
                            break
                    if not r.holds and not args.keep_going:
                        break
        log = workdir / "server.log"
        if log.exists() and log.stat().st_size:
            tail = log.read_text(errors="replace").splitlines()[-5:]
            print("server log (last lines):", *tail, sep="\n  ")

    print("\ncapacity (largest step that holds):")
    capacity: dict[tuple[str, str], int] = {}
    lower_bound: dict[tuple[str, str], bool] = {}
    for transport in transports:
        for mode in modes:
            held = [
                r.clients for r in results if (r.transport, r.mode) == (transport, mode) and r.holds
            ]
            capacity[(transport, mode)] = max(held, default=0)
            tried = max(
                (r.clients for r in results if (r.transport, r.mode) == (transport, mode)),
                default=0,
            )
            lower_bound[(transport, mode)] = bool(held) and max(held) == tried
            note = (
                " (the largest step tried: a lower bound)" if lower_bound[(transport, mode)] else ""
            )
            print(f"  {transport:9} {mode:7} {capacity[(transport, mode)]:5}{note}")
    for (top, base), label in (
        ((("relay", "batched"), ("socketio", "naive")), "relay batched vs Socket.IO naive"),
        ((("socketio", "batched"), ("socketio", "naive")), "Socket.IO batched vs Socket.IO naive"),
        ((("relay", "batched"), ("relay", "naive")), "relay batched vs relay naive"),
    ):
        if top in capacity and base in capacity:
            if not capacity[base]:
                print(f"  capacity ratio, {label}: n/a (the naive mode held no step)")
            elif lower_bound[top] and lower_bound[base]:
                print(f"  capacity ratio, {label}: n/a (both capacities are lower bounds)")
            else:
                bound = ">= " if lower_bound[top] else "<= " if lower_bound[base] else ""
                print(f"  capacity ratio, {label}: {bound}{capacity[top] / capacity[base]:.1f}x")
    ups = {r.transport: r.up_per_user for r in results if r.ok and r.mode == "batched"}
    for transport, up in ups.items():
        verdict = "within" if up <= UPSTREAM_BUDGET else "OVER"
        print(f"  upstream {transport}: {up:.0f} B/s per user ({verdict} the 1536 B/s budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
