#!/usr/bin/env python3
"""Captures the files ocs-agent's collectors read from this machine into a test data folder.

Usage: capture-machine.py OUTDIR [--dpkg-sample N]

The folder mirrors the file system root (proc/, sys/, etc/, var/, run/), so the agent's
collectors run on it unchanged with `Context::captured(OUTDIR)`. sysfs is full of symbolic links
that loop; only the files the collectors read are copied, and the links whose *name* the
collectors use (a driver, a bus) are kept as dangling relative links. Command output that the
agent would otherwise run (dmidecode, rpm, flatpak) and the interface addresses it reads over
netlink go to cmd/.

Nothing here is secret-free by magic: look at the result before committing it (machine-id,
serial numbers, user names).
"""

import glob
import os
import shutil
import socket
import struct
import subprocess
import sys


def copy(src, out, dst=None):
    """Copies one regular file (following links), if readable."""
    dst = os.path.join(out, (dst or src).lstrip("/"))
    try:
        with open(src, "rb") as f:
            data = f.read()
    except OSError:
        return
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "wb") as f:
        f.write(data)


def link(src, out):
    """Recreates a symbolic link as a dangling relative link with the same target."""
    try:
        target = os.readlink(src)
    except OSError:
        return
    dst = os.path.join(out, src.lstrip("/"))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.lexists(dst):
        os.remove(dst)
    os.symlink(target, dst)


def copy_files(directory, names, out):
    for name in names:
        copy(os.path.join(directory, name), out)


def netlink_dump(kind):
    """Returns the raw RTM_GETADDR (kind=22) dump, as the agent receives it."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    s.bind((0, 0))
    # nlmsghdr (len, type, flags=REQUEST|DUMP, seq, pid) + ifaddrmsg (family AF_UNSPEC)
    msg = struct.pack("=LHHLL", 16 + 8, kind, 0x301, 1, 0) + struct.pack("=BBBBL", 0, 0, 0, 0, 0)
    s.send(msg)
    chunks = []
    while True:
        data = s.recv(65536)
        chunks.append(data)
        # NLMSG_DONE (3) ends a dump.
        off, done = 0, False
        while off + 16 <= len(data):
            length, mtype = struct.unpack_from("=LH", data, off)
            if mtype == 3:
                done = True
            off += (length + 3) & ~3
        if done:
            break
    return b"".join(chunks)


def main():
    out = sys.argv[1]
    sample = None
    if "--dpkg-sample" in sys.argv:
        sample = int(sys.argv[sys.argv.index("--dpkg-sample") + 1])
    os.makedirs(out, exist_ok=True)

    for f in ["cpuinfo", "meminfo", "swaps", "uptime", "net/route", "net/ipv6_route",
              "net/if_inet6", "sys/kernel/hostname", "sys/kernel/osrelease",
              "sys/kernel/domainname", "bus/input/devices", "asound/cards"]:
        copy("/proc/" + f, out)
    copy("/proc/self/mounts", out, "/proc/mounts")
    for f in ["os-release", "hostname", "hosts", "resolv.conf", "passwd", "group",
              "debian_version", "redhat-release", "machine-id"]:
        copy("/etc/" + f, out)
    for f in glob.glob("/etc/apt/sources.list") + glob.glob("/etc/apt/sources.list.d/*") \
            + glob.glob("/etc/yum.repos.d/*.repo"):
        copy(f, out)
    copy("/run/systemd/resolve/resolv.conf", out)

    # Network interfaces.
    for ifdir in glob.glob("/sys/class/net/*"):
        copy_files(ifdir, ["address", "mtu", "operstate", "speed", "duplex", "type", "carrier",
                           "ifindex", "flags", "uevent", "device/vendor", "device/device",
                           "device/uevent"], out)
        link(ifdir + "/device/driver", out)
        link(ifdir + "/master", out)
        if os.path.isdir(ifdir + "/wireless"):
            os.makedirs(os.path.join(out, ifdir.lstrip("/"), "wireless"), exist_ok=True)
    os.makedirs(os.path.join(out, "cmd"), exist_ok=True)
    with open(os.path.join(out, "cmd", "netlink-getaddr.bin"), "wb") as f:
        f.write(netlink_dump(22))

    # Block devices.
    for bdir in glob.glob("/sys/block/*"):
        if os.path.basename(bdir).startswith(("loop", "ram")):
            continue
        copy_files(bdir, ["size", "removable", "ro", "serial", "dev", "queue/rotational",
                          "device/model", "device/vendor", "device/device", "device/serial",
                          "device/rev", "device/firmware_rev", "device/type"], out)
        link(bdir + "/device/subsystem", out)
        link(bdir + "/device/driver", out)
    for f in glob.glob("/run/udev/data/b*"):
        copy(f, out)
    for f in glob.glob("/dev/disk/by-uuid/*") + glob.glob("/dev/disk/by-label/*"):
        link(f, out)

    # PCI and USB devices.
    for pdir in glob.glob("/sys/bus/pci/devices/*"):
        copy_files(pdir, ["vendor", "device", "class", "revision", "subsystem_vendor",
                          "subsystem_device"], out)
        link(pdir + "/driver", out)
    for sdir in glob.glob("/sys/bus/pci/slots/*"):
        copy_files(sdir, ["address", "power", "adapter"], out)
    for udir in glob.glob("/sys/bus/usb/devices/*"):
        copy_files(udir, ["idVendor", "idProduct", "manufacturer", "product", "serial",
                          "bDeviceClass", "bInterfaceClass", "busnum", "devnum"], out)

    # CPUs.
    for cdir in glob.glob("/sys/devices/system/cpu/cpu[0-9]*"):
        copy_files(cdir, ["topology/physical_package_id", "topology/core_id",
                          "topology/thread_siblings_list", "cpufreq/cpuinfo_max_freq",
                          "cpufreq/scaling_cur_freq"], out)
        for idx in glob.glob(cdir + "/cache/index*"):
            copy_files(idx, ["level", "size", "type", "shared_cpu_list"], out)

    # Everything else a collector may read.
    for pattern in ["/sys/class/dmi/id/*", "/sys/class/tty/ttyS*/type", "/sys/class/tty/ttyS*/port",
                    "/sys/class/power_supply/*/uevent", "/sys/class/drm/card*-*/status",
                    "/sys/class/drm/card*-*/edid", "/sys/class/drm/card*-*/modes",
                    "/sys/devices/system/edac/mc/mc*/dimm*/*", "/proc/device-tree/model",
                    "/sys/hypervisor/type", "/sys/firmware/dmi/tables/DMI",
                    "/sys/firmware/dmi/tables/smbios_entry_point"]:
        for f in glob.glob(pattern):
            if os.path.isfile(f):
                copy(f, out)

    # The package database, optionally cut to its first N packages.
    try:
        with open("/var/lib/dpkg/status", encoding="utf-8") as f:
            paragraphs = f.read().split("\n\n")
        if sample:
            paragraphs = paragraphs[:sample]
        dst = os.path.join(out, "var/lib/dpkg/status")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "w", encoding="utf-8") as f:
            f.write("\n\n".join(paragraphs).rstrip("\n") + "\n")
        os.makedirs(os.path.join(out, "var/lib/dpkg/info"), exist_ok=True)
    except OSError:
        pass

    # What statvfs says of each mount point, and the machine architecture.
    with open(os.path.join(out, "cmd", "statvfs.txt"), "w") as f:
        with open("/proc/self/mounts") as m:
            for line in m:
                point = line.split()[1].replace("\\040", " ")
                try:
                    st = os.statvfs(point)
                except OSError:
                    continue
                f.write(f"{point} {st.f_blocks * st.f_frsize} {st.f_bavail * st.f_frsize}\n")
    with open(os.path.join(out, "cmd", "uname-m.txt"), "w") as f:
        f.write(os.uname().machine + "\n")

    for name, argv in [("dmidecode", ["dmidecode"]),
                       ("rpm", ["rpm", "-qa", "--queryformat", "%{NAME}\\t%{EPOCH}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{INSTALLTIME}\\t%{SIZE}\\t%{VENDOR}\\t%{SUMMARY}\\n"])]:
        if shutil.which(argv[0]):
            r = subprocess.run(argv, capture_output=True)
            if r.returncode == 0 and r.stdout:
                with open(os.path.join(out, "cmd", name + ".txt"), "wb") as f:
                    f.write(r.stdout)


if __name__ == "__main__":
    main()
