"""Prints the summary table of bench/fleet-1m.sh from the JSON results it collected.

Usage: fleet_table.py WORKDIR < settings.json

WORKDIR holds one directory per backend with load.json and day.json (ocs-loadgen --json),
load-extra.json (wall time, database bytes, PostgreSQL CPU), day-extra.json and console.json
(the console benchmark's --json output).
"""
import json
import os
import sys

BUDGET_MS = 300.0
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

work = sys.argv[1]
cfg = json.load(sys.stdin)
backends = [b for b in cfg["backends"].split(",") if b]


def load(backend, name):
    with open(os.path.join(work, backend, name)) as f:
        return json.load(f)


def errors(phase):
    return ", ".join(f"{k}: {v}" for k, v in sorted(phase["errors"].items())) or "0"


def lat(latency, keys=("p50_ms", "p90_ms", "p99_ms", "max_ms")):
    return "/".join(f"{latency[k]:.0f}" for k in keys)


def column(backend):
    """The rows of one backend, as (label, value) pairs."""
    load_run, extra = load(backend, "load.json"), load(backend, "load-extra.json")
    day_run, day_extra = load(backend, "day.json"), load(backend, "day-extra.json")
    console = load(backend, "console.json")
    lp, dp = load_run["phases"][0], day_run["phases"][0]
    accepted = lp["inventories_accepted"]
    wall = extra["wall_s"]
    server = lp.get("server") or {}
    rows = [
        ("devices loaded (errors)", f"{accepted} ({errors(lp)})"),
        ("mean software per device", f"{load_run['software_per_device']:.0f}"),
        ("load time, wall (sending only)", f"{wall:.0f} s ({lp['elapsed_s']:.0f} s)"),
        ("load rate, devices/s wall (sending)",
         f"{accepted / wall:.1f} ({lp['inventories_per_s']:.1f})"),
        ("load: server CPU s/device", f"{server.get('cpu_seconds_per_inventory') or 0:.4f}"),
    ]
    if backend == "postgres":
        rows.append(("load: PostgreSQL CPU s/device", f"{extra['db_cpu_s'] / max(accepted, 1):.4f}"))
    rows += [
        ("load: server peak RSS", f"{server.get('peak_rss_mib', 0):.0f} MiB"),
        ("database size", f"{extra['db_bytes'] / 2**20:.0f} MiB"),
        ("database size per device", f"{extra['db_bytes'] / max(accepted, 1) / 1024:.1f} KiB"),
    ]
    elapsed = dp["elapsed_s"]
    dserver = dp.get("server") or {}
    rows += [
        ("day: devices re-inventoried (errors)", f"{dp['inventories_accepted']} ({errors(dp)})"),
        ("day: achieved rate, inv/s", f"{dp['inventories_per_s']:.1f}"),
        ("day: server CPU share (100 % = 1 core)",
         f"{100 * dserver.get('cpu_seconds', 0) / max(elapsed, 1e-9):.1f} %"),
    ]
    if backend == "postgres":
        rows.append(("day: PostgreSQL CPU share", f"{100 * day_extra['db_cpu_s'] / max(elapsed, 1e-9):.1f} %"))
    rows += [
        ("day: server CPU s/inventory", f"{dserver.get('cpu_seconds_per_inventory') or 0:.4f}"),
        ("day: PROLOG p50/p90/p99/max ms", lat(dp["prolog"])),
        ("day: INVENTORY p50/p90/p99/max ms", lat(dp["inventory"])),
    ]
    for page in console:
        verdict = "ok" if page["p90_ms"] <= BUDGET_MS else "OVER"
        rows.append((f"console: {page['page']} (median/p90 ms)",
                     f"{page['median_ms']:.0f}/{page['p90_ms']:.0f} {verdict}"))
    search = next((p for p in console if p["page"].startswith("Search")), None)
    if search:
        rows.append(("console: search matches", search["matches"] or "-"))
    return rows


columns = [column(b) for b in backends]
sample = cfg["day_devices"] < cfg["devices"]
print()
print(f"Fleet of {cfg['devices']} simulated devices (seed {cfg['seed']}, 5-2,000 software each from "
      f"{cfg['images']} images per catalogue), loaded through the agent protocol (INVENTORY only, "
      f"concurrency {cfg['load_concurrency']}, batches of {cfg['batch']})")
day = (f"a SAMPLE of {cfg['day_devices']} of the {cfg['devices']} devices" if sample
       else f"all {cfg['devices']} devices")
print(f"day: {day} re-inventoried once (PROLOG + INVENTORY, 10 % changed) at {cfg['day_rate']}/s, "
      f"at most {cfg['day_concurrency']} in flight; console: median/p90 of {cfg['console_runs']} runs, "
      f"budget {BUDGET_MS:.0f} ms (p90); search for {' and '.join(cfg['search'])} and Windows 10")
labels = [label for label, _ in max(columns, key=len)]
width = max(len(label) for label in labels)
widths = [max(len(NAMES[b]), *(len(v) for _, v in col)) for b, col in zip(backends, columns)]
print(f"{'':<{width}}  " + "  ".join(f"{NAMES[b]:>{w}}" for b, w in zip(backends, widths)))
for i, label in enumerate(labels):
    cells = []
    for col, w in zip(columns, widths):
        value = dict(col).get(label, "-")
        cells.append(f"{value:>{w}}")
    print(f"{label:<{width}}  " + "  ".join(cells))
