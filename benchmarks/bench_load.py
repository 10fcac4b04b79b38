"""Load benchmark: simulated residents through nginx against 1 and then 2 Linli replicas.

    make bench-load BENCH_ARGS='--residents 50 --minutes 5'              # paced, 1 then 2 replicas
    make bench-load BENCH_ARGS='--mode saturation --residents 16 --minutes 2'
    make bench-load BENCH_ARGS='--mode saturation --residents 1 --replicas 1 --backend sqlite --profile'

For each replica count a fresh cluster is started (tests/cluster.py: Linli servers + action
servers behind a real nginx; ``--backend postgres``: new PostgreSQL databases, Redis locks,
RabbitMQ events, dropped afterwards; ``--backend sqlite``: the embedded defaults, 1 replica),
warmed up, and driven for ``--minutes`` by ``--residents`` simulated residents
(benchmarks/load_residents.py: FAQ questions, repair forms to the end, ticket checks, small
talk, in Chinese and English). ``--mode paced`` waits 5–15 s before each message, as people
type; ``--mode saturation`` sends the next message as soon as the answer is there, which finds
the throughput.

Printed and written to ``benchmarks/results/load_<mode>_<backend>_<residents>x<minutes>m.json``:
messages per second, p50/p95/p99 turn latency (per kind of turn, too), errors (non-200,
timeouts, empty replies), the ticket check (every repair form that the bot confirmed made
exactly one ticket with that number; no other ticket), CPU seconds per turn of the servers
(what one core serves), and the 1-vs-2-replica throughput ratio. ``--profile`` samples each
server with py-spy during the run and prints the CPU per turn of each part of a turn.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks import load_profile  # noqa: E402
from benchmarks.bench_nlu import machine  # noqa: E402
from benchmarks.load_residents import KINDS, Driver, Resident, error_counts, latency_summary, make_residents  # noqa: E402
from tests.cluster import Cluster, start_cluster  # noqa: E402
from tests.servers import load_default_settings  # noqa: E402

WARM_UP = {"zh": ["你好", "物业费怎么交", "厨房水管漏水了", "取消", "查一下我的工单"],
           "en": ["hello", "what are the office hours", "the kitchen tap is leaking", "cancel", "check my ticket"]}


def _parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.environ.get("LINLI_TEST_MODEL",
                                                          str(REPO_ROOT / "models" / "rasa" / "current.tar.gz")))
    parser.add_argument("--mode", choices=("paced", "saturation"), default="paced")
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--replicas", default="1,2", help="replica counts, run one after the other (default 1,2)")
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres",
                        help="postgres: the production cluster (endpoints.cluster.yml); sqlite: make run's defaults")
    parser.add_argument("--pause", default="5,15", help="seconds before each message in paced mode: min,max")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a turn counts as timed out")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--profile", action="store_true", help="py-spy every server during the run")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the servers (repeatable), e.g. SANIC_WORKERS=2")
    parser.add_argument("--label", default="", help="a note stored with the record (what this run tries)")
    parser.add_argument("--results", help="JSON record (default benchmarks/results/load_<mode>_…json)")
    parser.add_argument("--workdir", help="keep the servers' logs and databases here (default: a temp dir)")
    return parser.parse_args(argv)


def _cpu_seconds(pids: List[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def _pids(cluster: Cluster) -> Dict[str, List[int]]:
    """Process ids by role, with their children (Sanic's workers with SANIC_WORKERS > 1, nginx's worker)."""
    import psutil

    def with_children(pids: List[int]) -> List[int]:
        out = []
        for pid in pids:
            out.append(pid)
            try:
                out += [c.pid for c in psutil.Process(pid).children(recursive=True)]
            except psutil.Error:
                pass
        return out

    return {"servers": with_children([r.rasa.pid for r in cluster.replicas if r.rasa is not None]),
            "action_servers": with_children([r.actions.pid for r in cluster.replicas if r.actions is not None]),
            "nginx": with_children([cluster.proxy.process.pid] if cluster.proxy is not None else [])}


def warm_up(cluster: Cluster, run: str) -> None:
    """A few turns on every replica directly (the first inference of a process is slow)."""
    from tests.servers import post_json

    for replica in cluster.replicas:
        for lang, texts in WARM_UP.items():
            for text in texts:
                post_json(f"{replica.rasa_url}/webhooks/rest/webhook",
                          {"sender": f"warm-{run}-{replica.index}-{lang}", "message": text},
                          headers={"Authorization": f"Bearer {cluster.rest_token}"})


async def drive(cluster: Cluster, residents: List[Resident], seconds: float, timeout: float,
                stagger: float) -> float:
    """Run every resident until the deadline; returns the measured wall time."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, ssl=cluster.ssl_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        driver = Driver(session, f"{cluster.proxy_url}/webhooks/rest/webhook", cluster.rest_token, timeout)
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(driver.run(r, deadline, stagger * i / max(1, len(residents)))
                               for i, r in enumerate(residents)))
        return time.monotonic() - started


def check_tickets(cluster: Cluster, run: str, residents: List[Resident]) -> Dict[str, Any]:
    """Every confirmed form has exactly its ticket; nothing else was filed for these residents."""
    from sqlalchemy import create_engine, select

    from bot.tickets.models import Ticket

    engine = create_engine(cluster.database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Ticket.number, Ticket.sender_id, Ticket.type)
                                      .where(Ticket.channel == "rest", Ticket.sender_id.like(f"load-{run}-%"))).all()
    finally:
        engine.dispose()
    in_db: Dict[str, List[str]] = {}
    for number, sender, _type in rows:
        in_db.setdefault(sender, []).append(number)
    forms = [f for r in residents for f in r.forms]
    filed = [f for f in forms if f.filed]
    unsure = [f for f in forms if f.confirm_error]
    lost = [f.filed for f in filed if f.filed not in in_db.get(f.sender, [])]
    announced = {f.filed for f in filed}
    extra = [n for numbers in in_db.values() for n in numbers if n not in announced]
    # A confirmation that failed may still have filed its ticket: at most one each.
    unsure_by_sender: Dict[str, int] = {}
    for f in unsure:
        unsure_by_sender[f.sender] = unsure_by_sender.get(f.sender, 0) + 1
    duplicated = []
    for sender, numbers in in_db.items():
        surplus = [n for n in numbers if n not in announced]
        if len(surplus) > unsure_by_sender.get(sender, 0):
            duplicated += surplus
    return {"forms_started": len(forms), "forms_filed": len(filed), "forms_stuck": sum(1 for f in forms if f.stuck),
            "confirm_errors": len(unsure), "tickets_in_db": len(rows), "lost": lost, "duplicated_or_unexpected": duplicated,
            "extra_after_failed_confirm": len(extra) - len(duplicated),
            "stuck_examples": [f.transcript for f in forms if f.stuck][:5],
            "ok": not lost and not duplicated}


def run_once(args: argparse.Namespace, replicas: int, workdir: Path) -> Dict[str, Any]:
    """One cluster size: start, warm up, drive, check, stop."""
    run = f"{time.strftime('%H%M%S')}{uuid.uuid4().hex[:4]}"
    print(f"\n== {replicas} replica(s), {args.backend}: starting …", flush=True)
    booted = time.monotonic()
    extra = dict(item.split("=", 1) for item in args.env)
    cluster = start_cluster(workdir / f"r{replicas}-{run}", Path(args.model).resolve(), replicas=replicas,
                            backend=args.backend, extra_env=extra)
    try:
        boot = time.monotonic() - booted
        warm_up(cluster, run)
        low, high = (float(x) for x in args.pause.split(","))
        pause = (low, high) if args.mode == "paced" else (0.0, 0.0)
        residents = make_residents(run, args.residents, pause, args.seed)
        seconds = args.minutes * 60
        pids = _pids(cluster)
        load_before = os.getloadavg()
        before = {k: _cpu_seconds(v) for k, v in pids.items()}
        client_before = time.process_time()
        spies = []
        if args.profile:
            for role, role_pids in (("server", pids["servers"]), ("actions", pids["action_servers"])):
                for pid in role_pids:
                    out = cluster.workdir / f"pyspy-{role}-{pid}.txt"
                    spies.append((role, pid, out, load_profile.record(pid, int(seconds), out)))
        print(f"   up in {boot:.0f} s; {args.residents} residents ({args.mode}) for {args.minutes:g} min …",
              flush=True)
        wall = asyncio.run(drive(cluster, residents, seconds, args.timeout, stagger=high if args.mode == "paced" else 0))
        cpu = {k: round(_cpu_seconds(v) - before[k], 1) for k, v in pids.items()}
        cpu["load_generator"] = round(time.process_time() - client_before, 1)
        turns = [t for r in residents for t in r.turns]
        ok_turns = [t for t in turns if t.error is None]
        record: Dict[str, Any] = {
            "replicas": replicas, "backend": args.backend, "boot_seconds": round(boot, 1),
            "load_average_before": [round(x, 2) for x in load_before],
            "wall_seconds": round(wall, 1), "turns": len(turns),
            "messages_per_second": round(len(ok_turns) / wall, 2),
            "latency": latency_summary(turns),
            "latency_by_kind": {k: latency_summary([t for t in turns if t.kind == k]) for k in KINDS},
            "latency_by_step": {f"{k}:{s}": latency_summary([t for t in turns if (t.kind, t.step) == (k, s)])
                                for k, s in sorted({(t.kind, t.step) for t in turns})},
            "errors": error_counts(turns), "error_count": len(turns) - len(ok_turns),
            "wrong_ticket_checks": sum(r.wrong_checks for r in residents),
            "cpu_seconds": cpu,
            "server_cpu_ms_per_turn": round((cpu["servers"] + cpu["action_servers"]) / max(1, len(ok_turns)) * 1000, 1),
            "tickets": check_tickets(cluster, run, residents),
        }
        if spies:
            record["profile"] = {}
            served = len(ok_turns) // replicas  # nginx spreads the turns over the replicas (least_conn)
            for role, pid, out, spy in spies:
                try:
                    spy.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    spy.kill()
                if out.exists():
                    parts = load_profile.SERVER_PARTS if role == "server" else load_profile.ACTION_PARTS
                    record["profile"][f"{role}-{pid}"] = {**load_profile.summarise(out, 100, served, parts),
                                                          "top_frames": load_profile.top_frames(out)}
        return record
    finally:
        cluster.stop()


def _ms(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.0f}"


def print_record(rec: Dict[str, Any]) -> None:
    lat, t = rec["latency"], rec["tickets"]
    print(f"   {rec['turns']} turns in {rec['wall_seconds']:.0f} s: {rec['messages_per_second']} msg/s; "
          f"p50 {_ms(lat['p50_ms'])} ms, p95 {_ms(lat['p95_ms'])} ms, p99 {_ms(lat['p99_ms'])} ms; "
          f"errors {rec['error_count']} {rec['errors'] or ''}")
    print(f"   forms: {t['forms_filed']} filed of {t['forms_started']} started, {t['forms_stuck']} stuck; "
          f"tickets in db {t['tickets_in_db']}, lost {len(t['lost'])}, duplicated {len(t['duplicated_or_unexpected'])}"
          f" -> {'OK' if t['ok'] else 'FAILED'}")
    print(f"   CPU s: {rec['cpu_seconds']}; servers + action servers {rec['server_cpu_ms_per_turn']} ms per turn")
    for name, prof in (rec.get("profile") or {}).items():
        print(f"\n   py-spy, {name} (~{prof['turns']} turns):")
        print("   " + load_profile.format_table(prof).replace("\n", "\n   "))


def table(records: List[Dict[str, Any]]) -> str:
    """Markdown summary, one row per replica count."""
    rows = ["| replicas | turns | msg/s | p50 ms | p95 ms | p99 ms | errors | forms filed | lost / dup. tickets | "
            "server CPU ms/turn |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    for r in records:
        lat, t = r["latency"], r["tickets"]
        rows.append(f"| {r['replicas']} | {r['turns']} | {r['messages_per_second']} | {_ms(lat['p50_ms'])} | "
                    f"{_ms(lat['p95_ms'])} | {_ms(lat['p99_ms'])} | {r['error_count']} | {t['forms_filed']} | "
                    f"{len(t['lost'])} / {len(t['duplicated_or_unexpected'])} | {r['server_cpu_ms_per_turn']} |")
    return "\n".join(rows)


def main(argv: Optional[List[str]] = None) -> int:
    args = _parse_args(argv)
    load_default_settings()
    if not Path(args.model).exists():
        print(f"No trained model at {args.model}: run `make train` first.", file=sys.stderr)
        return 2
    counts = [int(x) for x in args.replicas.split(",") if x.strip()]
    if args.backend == "sqlite" and counts != [1]:
        print("--backend sqlite runs one replica: use --replicas 1", file=sys.stderr)
        return 2
    workdir_ctx = tempfile.TemporaryDirectory(prefix="bench-load-") if not args.workdir else None
    workdir = Path(args.workdir or workdir_ctx.name)  # type: ignore[union-attr]
    records = []
    try:
        for replicas in counts:
            records.append(run_once(args, replicas, workdir))
            print_record(records[-1])
    finally:
        if workdir_ctx is not None:
            workdir_ctx.cleanup()
    print("\n" + table(records))
    ratio = None
    if len(records) >= 2 and records[0]["messages_per_second"]:
        ratio = round(records[-1]["messages_per_second"] / records[0]["messages_per_second"], 2)
        print(f"\nthroughput {records[-1]['replicas']} vs {records[0]['replicas']} replica(s): x{ratio}")
    out = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "model": Path(args.model).resolve().name,
        "label": args.label, "env": args.env,
        "mode": args.mode, "residents": args.residents, "minutes": args.minutes, "backend": args.backend,
        "pause_seconds": args.pause if args.mode == "paced" else "0", "timeout_seconds": args.timeout,
        "runs": records, "throughput_ratio": ratio,
    }
    path = Path(args.results or HERE / "results" /
                f"load_{args.mode}_{args.backend}_{args.residents}x{args.minutes:g}m.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nResults: {path}")
    failed = any(r["error_count"] or not r["tickets"]["ok"] for r in records)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
