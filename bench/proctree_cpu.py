"""Prints the CPU seconds (user + system, including waited-for children) of a process tree.

Usage: proctree_cpu.py PID

Used by bench/fleet-1m.sh to measure PostgreSQL (the postmaster and its backends) around a
phase, the way ocs-loadgen --server-pid measures the server.
"""
import os
import sys


def stat(pid):
    """(ppid, cpu ticks) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields start after the last ')'.
    fields = text[text.rindex(")") + 2:].split()
    ppid = int(fields[1])
    ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return ppid, ticks


def main():
    root = int(sys.argv[1])
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            s = stat(int(name))
            if s:
                procs[int(name)] = s
    children = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            total += procs[pid][1]
            todo.extend(children.get(pid, []))
    print(f"{total / os.sysconf('SC_CLK_TCK'):.2f}")


main()
