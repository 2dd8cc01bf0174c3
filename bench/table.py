"""Prints the standard-scenario table from the JSON summaries bench/standard.sh collected.

Usage: table.py WORKDIR WITH_ORIGINAL NOTE < settings.json
"""
import json
import os
import statistics
import sys

work, with_original, note = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
cfg = json.load(sys.stdin)


def load(name):
    with open(os.path.join(work, name)) as f:
        return json.load(f)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def cpu(phase):
    return (phase.get("server") or {}).get("cpu_seconds_per_inventory")


def rss(phase):
    return (phase.get("server") or {}).get("peak_rss_mib")


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def errors(phases):
    total = {}
    for p in phases:
        for k, v in p["errors"].items():
            total[k] = total.get(k, 0) + v
    return ", ".join(f"{k}: {v}" for k, v in sorted(total.items())) or "0"


def row(name, phases):
    """One line from one or more runs of the same phase (medians over runs)."""
    m = lambda f: median([f(p) for p in phases])
    return (
        f"{name:<44} {m(lambda p: p['inventories_accepted']):>7.0f} {fmt(m(lambda p: p['inventories_per_s'])):>7} "
        f"{fmt(m(lambda p: p['requests_per_s'])):>7} "
        f"{fmt(m(lambda p: p['prolog']['p50_ms']), 0):>6} "
        f"{fmt(m(lambda p: p['inventory']['p50_ms']), 0):>6} {fmt(m(lambda p: p['inventory']['p90_ms']), 0):>6} "
        f"{fmt(m(lambda p: p['inventory']['p99_ms']), 0):>6} {fmt(m(lambda p: p['inventory']['max_ms']), 0):>6} "
        f"{fmt(m(cpu), 4):>9} {fmt(m(rss), 0):>8}  {errors(phases)}"
    )


HEADER = (
    f"{'scenario':<44} {'inv ok':>7} {'inv/s':>7} {'req/s':>7} {'PRO50':>6} "
    f"{'INV50':>6} {'INV90':>6} {'INV99':>6} {'INVmax':>6} {'cpu s/inv':>9} {'peak MiB':>8}  errors"
)

repeats = [load(f"s123-{r}.json") for r in range(1, cfg["repeat"] + 1)]
s4 = load("s4.json")
s4_load = load("s4-load.json")
s4_secs = load("s4-load-time.json")["seconds"]
pop = cfg["s4_population"]
names = ["S1 new devices", "S2 re-inventory, unchanged", "S3 re-inventory, 10% changed"]

print()
print(f"Our server (SQLite, release build), seed {cfg['seed']}, {cfg['devices']} devices at concurrency "
      f"{cfg['concurrency']}; S1-S3 medians over {cfg['repeat']} runs on disjoint devices")
print("latencies in ms (PRO = PROLOG, INV = INVENTORY); cpu and memory: the server process, from /proc")
print(HEADER)
for i, name in enumerate(names):
    print(row(name, [r["phases"][i] for r in repeats]))
print(row(f"S4 new devices, {pop}-device population", s4["phases"]))
load_phase = s4_load["phases"][0]
print(f"   S4 population loaded through the fast path (ocs-loadgen --skip-prolog: INVENTORY only, "
      f"5-{cfg['s4_software_max']} software, concurrency {cfg['s4_concurrency']}): "
      f"{load_phase['inventories_accepted']} devices in {s4_secs:.0f} s "
      f"({load_phase['inventories_per_s']:.0f}/s), errors: {errors([load_phase])}")

if with_original:
    vs = load("vs-s123.json")
    vs4 = load("vs-s4.json")
    vs4_load = load("vs-s4-load.json")
    with open(os.path.join(work, "vs-s123-stored.txt")) as f:
        stored_s123 = f.read().strip()
    with open(os.path.join(work, "vs-all-stored.txt")) as f:
        stored_all = f.read().strip()
    n, c = cfg["original_devices"], cfg["original_concurrency"]
    print()
    print(f"Side by side, same workload alternating phase by phase: ours (fresh SQLite instance) and the original "
          f"(Debian 2.8.1, Apache + MariaDB, CPU and memory of both trees), {n} devices at concurrency {c}, "
          f"S4 on a {cfg['original_s4_population']}-device population each")
    print(f"original: {note}")
    print(HEADER)
    scen = names + [f"S4 new devices, {cfg['original_s4_population']}-device population"]
    phases = vs["phases"] + vs4["phases"]
    ratios = vs["ratios"] + vs4["ratios"]
    for i, name in enumerate(scen):
        a, b = phases[2 * i], phases[2 * i + 1]
        print(row(f"{name[:2]} ours", [a]))
        print(row(f"{name[:2]} original", [b]))
        r = ratios[i]
        inv = r["inventories_per_s_b_over_a"]
        p50 = r["inventory_p50_b_over_a"]
        cpu_r = r["cpu_per_inventory_b_over_a"]
        print(f"   {name}: ours/original inv/s {fmt(None if not inv else 1 / inv, 1)}x, "
              f"original/ours INVENTORY p50 {fmt(p50, 1)}x, original/ours cpu s/inv {fmt(cpu_r, 1)}x")
    la, lb = vs4_load["phases"]
    print(f"   S4 populations loaded (INVENTORY only): ours {la['inventories_accepted']} in {la['elapsed_s']:.0f} s, "
          f"original {lb['inventories_accepted']} in {lb['elapsed_s']:.0f} s")
    expected_s123 = n
    expected_all = n + cfg["original_s4_population"] + n
    print(f"   original's database: {stored_s123} devices after S1-S3 (expected {expected_s123}), "
          f"{stored_all} after S4 (expected {expected_all}); 'select count(*) from hardware'")
