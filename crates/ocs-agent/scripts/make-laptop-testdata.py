#!/usr/bin/env python3
"""Writes testdata/laptop-fedora: a hand-made capture of a machine *with* SMBIOS data.

The VM this project is developed on has no DMI (no /dev/mem, no /sys/firmware/dmi), so its
real capture (testdata/vm-debian12, made by capture-machine.py) is the no-SMBIOS case. This
script describes a Lenovo ThinkPad running Fedora 40, as root would see it: dmidecode output,
NVMe and USB disks, Wi-Fi, Ethernet and a Docker bridge, battery, two screens (EDID), input
devices, sound, CUPS, libvirt/Docker/LXC guests, rpm/flatpak/snap software, logged-in users.
Values are realistic but invented (serial numbers included). The binary files (EDID, utmp,
wtmp, the netlink address dump) are built here so that they can be reviewed as code.

Usage: make-laptop-testdata.py OUTDIR
"""

import os
import struct
import sys

OUT = sys.argv[1]


def w(path, content, mode="w"):
    full = os.path.join(OUT, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, mode) as f:
        f.write(content)


def ln(path, target):
    full = os.path.join(OUT, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if os.path.lexists(full):
        os.remove(full)
    os.symlink(target, full)


# --- identity, OS, users ---------------------------------------------------------------
w("cmd/uname-m.txt", "x86_64\n")
w("proc/sys/kernel/hostname", "thinkpad\n")
w("proc/sys/kernel/osrelease", "6.8.5-301.fc40.x86_64\n")
w("etc/hostname", "thinkpad\n")
w("etc/hosts", "127.0.0.1   localhost localhost.localdomain\n::1         localhost\n192.168.1.23 thinkpad.corp.example.com thinkpad\n")
w("etc/resolv.conf", "# stub resolver of systemd-resolved\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example.com\n")
w("run/systemd/resolve/resolv.conf", "nameserver 192.168.1.1\nnameserver 2001:db8::1\nsearch corp.example.com\n")
w("etc/os-release", 'NAME="Fedora Linux"\nVERSION="40 (Workstation Edition)"\nID=fedora\nVERSION_ID=40\nPRETTY_NAME="Fedora Linux 40 (Workstation Edition)"\n')
w("etc/passwd", "root:x:0:0:Super User:/root:/bin/bash\nalice:x:1000:1000:Alice Martin:/home/alice:/bin/bash\nbob:x:1001:1001:Bob Durand:/home/bob:/bin/zsh\n")
w("etc/group", "root:x:0:\nwheel:x:10:alice\nalice:x:1000:\nbob:x:1001:\ndocker:x:975:alice,bob\n")
w("proc/meminfo", "MemTotal:       16106128 kB\nMemFree:         8123456 kB\nSwapTotal:       8388604 kB\nSwapFree:        8388604 kB\n")
w("proc/uptime", "93784.52 301234.11\n")


def utmp(kind, user, secs, line="pts/0"):
    r = bytearray(384)
    struct.pack_into("=h", r, 0, kind)
    struct.pack_into("=i", r, 4, 4242)
    r[8:8 + len(line)] = line.encode()
    r[44:44 + len(user)] = user.encode()
    struct.pack_into("=i", r, 340, secs)
    return bytes(r)


w("run/utmp", utmp(2, "reboot", 1713160000, "~") + utmp(7, "alice", 1713160100, "tty2")
  + utmp(7, "bob", 1713163000, "pts/1") + utmp(8, "", 1713163500, "pts/2"), "wb")
w("var/log/wtmp", utmp(7, "alice", 1713160100, "tty2") + utmp(8, "", 1713160200)
  + utmp(7, "bob", 1713163000, "pts/1"), "wb")

# --- SMBIOS ------------------------------------------------------------------------------
w("cmd/dmidecode.txt", """# dmidecode 3.5
Getting SMBIOS data from sysfs.
SMBIOS 3.3.0 present.
Table at 0x7A0E1000.

Handle 0x0000, DMI type 0, 26 bytes
BIOS Information
\tVendor: LENOVO
\tVersion: N3AET75W (1.40 )
\tRelease Date: 03/14/2023
\tAddress: 0xE0000
\tRuntime Size: 128 kB
\tROM Size: 32 MB
\tCharacteristics:
\t\tPCI is supported
\t\tPNP is supported
\t\tUEFI is supported
\tBIOS Revision: 1.40
\tFirmware Revision: 1.21

Handle 0x0001, DMI type 1, 27 bytes
System Information
\tManufacturer: LENOVO
\tProduct Name: 21AHCTO1WW
\tVersion: ThinkPad T14 Gen 3
\tSerial Number: PF3XYZ12
\tUUID: 2a7f3c81-5b1e-11b2-a85c-d0f3e1a2b3c4
\tWake-up Type: Power Switch
\tSKU Number: LENOVO_MT_21AH_BU_Think_FM_ThinkPad T14 Gen 3
\tFamily: ThinkPad T14 Gen 3

Handle 0x0002, DMI type 2, 15 bytes
Base Board Information
\tManufacturer: LENOVO
\tProduct Name: 21AHCTO1WW
\tVersion: SDK0T76530 WIN
\tSerial Number: L1HF2BC03AB
\tAsset Tag: Not Available
\tFeatures:
\t\tBoard is a hosting board
\t\tBoard is replaceable
\tLocation In Chassis: Not Available

Handle 0x0003, DMI type 3, 22 bytes
Chassis Information
\tManufacturer: LENOVO
\tType: Notebook
\tLock: Not Present
\tVersion: None
\tSerial Number: PF3XYZ12
\tAsset Tag: IT-004211

Handle 0x0004, DMI type 4, 48 bytes
Processor Information
\tSocket Designation: U3E1
\tType: Central Processor
\tFamily: Core i7
\tManufacturer: Intel(R) Corporation
\tID: A3 06 09 00 FF FB EB BF
\tVersion: 12th Gen Intel(R) Core(TM) i7-1260P
\tVoltage: 0.8 V
\tExternal Clock: 100 MHz
\tMax Speed: 4700 MHz
\tCurrent Speed: 2100 MHz
\tStatus: Populated, Enabled
\tSerial Number: To Be Filled By O.E.M.
\tCore Count: 12
\tCore Enabled: 12
\tThread Count: 16

Handle 0x0008, DMI type 8, 9 bytes
Port Connector Information
\tInternal Reference Designator: Not Available
\tInternal Connector Type: None
\tExternal Reference Designator: USB 1
\tExternal Connector Type: Access Bus (USB)
\tPort Type: USB

Handle 0x0009, DMI type 8, 9 bytes
Port Connector Information
\tInternal Reference Designator: Not Available
\tInternal Connector Type: None
\tExternal Reference Designator: USB 2
\tExternal Connector Type: Access Bus (USB)
\tPort Type: USB

Handle 0x000A, DMI type 8, 9 bytes
Port Connector Information
\tInternal Reference Designator: Not Available
\tInternal Connector Type: None
\tExternal Reference Designator: Ethernet
\tExternal Connector Type: RJ-45
\tPort Type: Network Port

Handle 0x0010, DMI type 9, 17 bytes
System Slot Information
\tDesignation: M.2 Slot 1
\tType: x4 PCI Express 4 x4
\tCurrent Usage: In Use
\tLength: Other
\tID: 1
\tBus Address: 0000:04:00.0

Handle 0x0011, DMI type 9, 17 bytes
System Slot Information
\tDesignation: M.2 Slot 2
\tType: x4 PCI Express 4 x4
\tCurrent Usage: Available
\tLength: Other
\tID: 2

Handle 0x0016, DMI type 22, 26 bytes
Portable Battery
\tLocation: Front
\tManufacturer: Sunwoda
\tManufacture Date: 2022-11-07
\tName: 5B10W51867
\tDesign Capacity: 52500 mWh
\tDesign Voltage: 15440 mV
\tSBDS Version: 03.01
\tMaximum Error: Unknown
\tSBDS Serial Number: 0D2A
\tSBDS Chemistry: LiP
\tOEM-specific Information: 0x00000000

Handle 0x0039, DMI type 16, 23 bytes
Physical Memory Array
\tLocation: System Board Or Motherboard
\tUse: System Memory
\tError Correction Type: None
\tMaximum Capacity: 64 GB
\tNumber Of Devices: 2

Handle 0x003A, DMI type 17, 92 bytes
Memory Device
\tArray Handle: 0x0039
\tTotal Width: 64 bits
\tData Width: 64 bits
\tSize: 16 GB
\tForm Factor: SODIMM
\tLocator: DIMM 0
\tBank Locator: BANK 0
\tType: DDR4
\tSpeed: 3200 MT/s
\tManufacturer: Samsung
\tSerial Number: E1A2B3C4
\tPart Number: M471A2K43EB1-CWE
\tConfigured Memory Speed: 3200 MT/s

Handle 0x003B, DMI type 17, 92 bytes
Memory Device
\tArray Handle: 0x0039
\tTotal Width: Unknown
\tData Width: Unknown
\tSize: No Module Installed
\tForm Factor: SODIMM
\tLocator: DIMM 1
\tBank Locator: BANK 1
\tType: Unknown

Handle 0x0050, DMI type 127, 4 bytes
End Of Table
""")

# --- CPU ---------------------------------------------------------------------------------
flags = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf tsc_known_freq pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 sdbg fma cx16 xtpr pdcm sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch"
blocks = []
for i, core in enumerate([0, 0, 1, 1]):
    blocks.append(f"""processor\t: {i}
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 154
model name\t: 12th Gen Intel(R) Core(TM) i7-1260P
stepping\t: 3
cpu MHz\t\t: 1794.215
cache size\t: 18432 KB
physical id\t: 0
siblings\t: 4
core id\t\t: {core}
cpu cores\t: 2
flags\t\t: {flags}
address sizes\t: 39 bits physical, 48 bits virtual
""")
w("proc/cpuinfo", "\n".join(blocks))
for i, core in enumerate([0, 0, 1, 1]):
    base = f"sys/devices/system/cpu/cpu{i}"
    w(f"{base}/topology/physical_package_id", "0\n")
    w(f"{base}/topology/core_id", f"{core}\n")
    w(f"{base}/cpufreq/cpuinfo_max_freq", "4700000\n")
    w(f"{base}/cpufreq/scaling_cur_freq", "1800000\n")
    w(f"{base}/cache/index2/level", "2\n")
    w(f"{base}/cache/index2/size", "1280K\n")
    w(f"{base}/cache/index2/shared_cpu_list", "0-1\n" if core == 0 else "2-3\n")
    w(f"{base}/cache/index3/level", "3\n")
    w(f"{base}/cache/index3/size", "18432K\n")
    w(f"{base}/cache/index3/shared_cpu_list", "0-3\n")

# --- PCI ---------------------------------------------------------------------------------
pci = [
    ("0000:00:02.0", "0x8086", "0x46a6", "0x030000", "0x0c", "i915"),
    ("0000:00:14.3", "0x8086", "0x51f0", "0x028000", "0x01", "iwlwifi"),
    ("0000:00:1f.3", "0x8086", "0x51c8", "0x040380", "0x01", "snd_hda_intel"),
    ("0000:00:1f.6", "0x8086", "0x1a1e", "0x020000", "0x01", "e1000e"),
    ("0000:04:00.0", "0x144d", "0xa80a", "0x010802", "0x00", "nvme"),
]
for addr, vendor, device, cls, rev, driver in pci:
    base = f"sys/bus/pci/devices/{addr}"
    w(f"{base}/vendor", vendor + "\n")
    w(f"{base}/device", device + "\n")
    w(f"{base}/class", cls + "\n")
    w(f"{base}/revision", rev + "\n")
    w(f"{base}/subsystem_vendor", "0x17aa\n")
    w(f"{base}/subsystem_device", "0x22fd\n")
    ln(f"{base}/driver", f"../../../bus/pci/drivers/{driver}")
w("sys/bus/pci/devices/0000:00:02.0/resource",
  "0x000000603c000000 0x000000603cffffff 0x0000000000140204\n"
  "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
  "0x0000004000000000 0x000000400fffffff 0x000000000014220c\n"
  "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
  "0x0000000000003000 0x000000000000303f 0x0000000000040101\n"
  "0x0000000000000000 0x0000000000000000 0x0000000000000000\n")
w("usr/share/misc/pci.ids", """#	List of PCI ID's (excerpt for tests)
144d  Samsung Electronics Co Ltd
\ta80a  NVMe SSD Controller PM9A1/PM9A3/980PRO
8086  Intel Corporation
\t1a1e  Ethernet Connection (16) I219-LM
\t46a6  Alder Lake-P GT2 [Iris Xe Graphics]
\t\t17aa 22fd  ThinkPad T14 Gen 3
\t51c8  Alder Lake PCH-P High Definition Audio Controller
\t51f0  Alder Lake-P PCH CNVi WiFi
C 01  Mass storage controller
\t08  Non-Volatile memory controller
\t\t02  NVM Express
C 02  Network controller
\t00  Ethernet controller
\t80  Network controller
C 03  Display controller
\t00  VGA compatible controller
C 04  Multimedia controller
\t03  Audio device
""")
w("proc/asound/cards", """ 0 [PCH            ]: HDA-Intel - HDA Intel PCH
                      HDA Intel PCH at 0x603f1f0000 irq 163
 1 [Evolve         ]: USB-Audio - Jabra Evolve2 65
                      GN Audio A/S Jabra Evolve2 65 at usb-0000:00:14.0-3, full speed
""")

# --- network -----------------------------------------------------------------------------
def iface(name, index, mac, arphrd, oper, extra_uevent="", pci_slot=None, driver=None, speed=None, duplex=None, carrier="0", wireless=False):
    base = f"sys/class/net/{name}"
    w(f"{base}/ifindex", f"{index}\n")
    w(f"{base}/address", mac + "\n")
    w(f"{base}/type", f"{arphrd}\n")
    w(f"{base}/mtu", "1500\n" if name != "lo" else "65536\n")
    w(f"{base}/operstate", oper + "\n")
    w(f"{base}/flags", "0x1003\n" if oper == "up" else "0x1002\n")
    w(f"{base}/carrier", carrier + "\n")
    w(f"{base}/uevent", f"INTERFACE={name}\nIFINDEX={index}\n{extra_uevent}")
    if speed is not None:
        w(f"{base}/speed", f"{speed}\n")
    if duplex is not None:
        w(f"{base}/duplex", duplex + "\n")
    if pci_slot:
        w(f"{base}/device/uevent", f"DRIVER={driver}\nPCI_SLOT_NAME={pci_slot}\n")
        ln(f"{base}/device/driver", f"../../../../bus/pci/drivers/{driver}")
    if wireless:
        os.makedirs(os.path.join(OUT, base, "wireless"), exist_ok=True)
        w(f"{base}/wireless/.keep", "")


iface("lo", 1, "00:00:00:00:00:00", 772, "unknown", carrier="1")
iface("enp0s31f6", 2, "8c:8c:aa:01:02:03", 1, "up", pci_slot="0000:00:1f.6", driver="e1000e", speed=1000, duplex="full", carrier="1")
iface("wlp0s20f3", 3, "f4:26:79:11:22:33", 1, "up", "DEVTYPE=wlan\n", pci_slot="0000:00:14.3", driver="iwlwifi", carrier="1", wireless=True)
iface("docker0", 4, "02:42:6b:1a:2b:3c", 1, "down", "DEVTYPE=bridge\n")
os.makedirs(os.path.join(OUT, "sys/class/wwan/wwan0"), exist_ok=True)
w("sys/class/wwan/wwan0/uevent", "DEVTYPE=wwan_dev\n")

w("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
  "wlp0s20f3\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
  "wlp0s20f3\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n"
  "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n")
w("proc/net/ipv6_route",
  "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000258 00000001 00000000 00000003 wlp0s20f3\n"
  "20010db8000100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000258 00000001 00000000 00000001 wlp0s20f3\n")
w("var/lib/NetworkManager/internal-5c8f0b1e-3d6a-4b7c-9e2f-1a2b3c4d5e6f-wlp0s20f3.lease",
  "# This is private data. Do not parse.\nADDRESS=192.168.1.23\nNETMASK=255.255.255.0\nROUTER=192.168.1.1\nSERVER_ADDRESS=192.168.1.1\nLIFETIME=86400\n")


def rtattr(kind, data):
    length = 4 + len(data)
    pad = (4 - length % 4) % 4
    return struct.pack("=HH", length, kind) + data + b"\0" * pad


def newaddr(family, prefix, scope, index, addr, label=None):
    payload = struct.pack("=BBBBI", family, prefix, 0x80, scope, index)
    payload += rtattr(1, addr)
    if family == 2:
        payload += rtattr(2, addr)
    if label:
        payload += rtattr(3, label.encode() + b"\0")
    return struct.pack("=IHHII", 16 + len(payload), 20, 2, 1, 0) + payload


def v4(s):
    return bytes(int(x) for x in s.split("."))


def v6(s):
    import ipaddress
    return ipaddress.IPv6Address(s).packed


dump = (newaddr(2, 8, 254, 1, v4("127.0.0.1"), "lo")
        + newaddr(2, 24, 0, 3, v4("192.168.1.23"), "wlp0s20f3")
        + newaddr(2, 16, 0, 4, v4("172.17.0.1"), "docker0")
        + newaddr(10, 128, 254, 1, v6("::1"))
        + newaddr(10, 64, 0, 3, v6("2001:db8:1::23"))
        + newaddr(10, 64, 253, 3, v6("fe80::f626:79ff:fe11:2233"))
        + struct.pack("=IHHII", 20, 3, 2, 1, 0) + struct.pack("=i", 0))
w("cmd/netlink-getaddr.bin", dump, "wb")

# --- storage -----------------------------------------------------------------------------
w("sys/block/nvme0n1/size", "1953525168\n")
w("sys/block/nvme0n1/removable", "0\n")
w("sys/block/nvme0n1/dev", "259:0\n")
w("sys/block/nvme0n1/device/model", "Samsung SSD 980 PRO 1TB                 \n")
w("sys/block/nvme0n1/device/serial", "S5GXNF0R123456      \n")
w("sys/block/nvme0n1/device/firmware_rev", "5B2QGXA7\n")
ln("sys/block/nvme0n1/device/subsystem", "../../../../../class/nvme")
w("sys/block/sda/size", "61341696\n")
w("sys/block/sda/removable", "1\n")
w("sys/block/sda/dev", "8:0\n")
w("sys/block/sda/device/vendor", "SanDisk \n")
w("sys/block/sda/device/model", "Cruzer Blade    \n")
w("sys/block/sda/device/rev", "1.00\n")
ln("sys/block/sda/device/subsystem", "../../../../../../../../bus/scsi")
w("run/udev/data/b8:0", "S:disk/by-id/usb-SanDisk_Cruzer_Blade_4C530001230521115294-0:0\nE:ID_BUS=usb\nE:ID_MODEL=Cruzer_Blade\nE:ID_SERIAL_SHORT=4C530001230521115294\nE:ID_VENDOR=SanDisk\nE:ID_REVISION=1.00\n")
w("sys/block/loop0/size", "106496\n")
w("sys/block/dm-0/size", "1952475136\n")

w("proc/mounts", """/dev/mapper/luks-6f1c2d3e / btrfs rw,seclabel,relatime,compress=zstd:1,ssd,subvol=/root 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
sysfs /sys sysfs rw,seclabel,nosuid,nodev,noexec,relatime 0 0
tmpfs /tmp tmpfs rw,seclabel,nosuid,nodev,size=8053064k 0 0
/dev/nvme0n1p2 /boot ext4 rw,seclabel,relatime 0 0
/dev/nvme0n1p1 /boot/efi vfat rw,relatime,fmask=0077,dmask=0077 0 0
/dev/mapper/luks-6f1c2d3e /home btrfs rw,seclabel,relatime,compress=zstd:1,ssd,subvol=/home 0 0
/dev/loop0 /var/lib/snapd/snap/firefox/4090 squashfs ro,nodev,relatime 0 0
overlay /var/lib/docker/overlay2/0a1b/merged overlay rw,relatime 0 0
/dev/sda1 /run/media/alice/BACKUP\\0402 exfat rw,nosuid,nodev,relatime 0 0
""")
w("cmd/statvfs.txt", "/ 999653638144 536870912000\n/boot 1006632960 700000000\n/boot/efi 627900416 600000000\n/home 999653638144 536870912000\n/run/media/alice/BACKUP 2 31406948352 20000000000\n")
ln("dev/mapper/luks-6f1c2d3e", "../dm-0")
ln("dev/disk/by-label/fedora", "../../dm-0")
ln("dev/disk/by-uuid/6f1c2d3e-aaaa-bbbb-cccc-0123456789ab", "../../dm-0")
ln("dev/disk/by-label/BACKUP\\x202", "../../sda1")

# --- displays, inputs, power --------------------------------------------------------------
def edid(pnp, product, name, serial, week, year, w_cm, h_cm):
    b = bytearray(128)
    b[0:8] = bytes([0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0])
    c = [ord(x) - ord("A") + 1 for x in pnp]
    struct.pack_into(">H", b, 8, c[0] << 10 | c[1] << 5 | c[2])
    struct.pack_into("<H", b, 10, product)
    b[16], b[17], b[18], b[19], b[21], b[22] = week, year - 1990, 1, 4, w_cm, h_cm
    for slot, (tag, text) in enumerate([(0xfc, name), (0xff, serial)]):
        d = 72 + slot * 18
        b[d + 3] = tag
        t = (text.encode() + b"\n").ljust(13, b" ")
        b[d + 5:d + 18] = t
    b[127] = (-sum(b[:127])) % 256
    return bytes(b)


w("sys/class/drm/card1-eDP-1/status", "connected\n")
w("sys/class/drm/card1-eDP-1/modes", "1920x1200\n1600x1200\n")
w("sys/class/drm/card1-eDP-1/edid", edid("AUO", 0x2f9b, "B140UAN02.1", "0", 10, 2022, 30, 19), "wb")
w("sys/class/drm/card1-DP-1/status", "connected\n")
w("sys/class/drm/card1-DP-1/modes", "3840x2160\n2560x1440\n")
w("sys/class/drm/card1-DP-1/edid", edid("DEL", 0xa0fe, "DELL U2723QE", "7X9KLM3", 12, 2022, 60, 34), "wb")
w("sys/class/drm/card1-HDMI-A-1/status", "disconnected\n")
w("sys/class/drm/card1-HDMI-A-1/edid", b"", "wb")

w("proc/bus/input/devices", """I: Bus=0019 Vendor=0000 Product=0001 Version=0000
N: Name="Power Button"
P: Phys=PNP0C0C/button/input0
H: Handlers=kbd event0
B: EV=3

I: Bus=0011 Vendor=0001 Product=0001 Version=ab83
N: Name="AT Translated Set 2 keyboard"
P: Phys=isa0060/serio0/input0
H: Handlers=sysrq kbd leds event3
B: EV=120013

I: Bus=0019 Vendor=0000 Product=0006 Version=0000
N: Name="Video Bus"
P: Phys=LNXVIDEO/video/input0
H: Handlers=kbd event4

I: Bus=0018 Vendor=06cb Product=ce67 Version=0100
N: Name="SYNA8018:00 06CB:CE67 Touchpad"
P: Phys=i2c-SYNA8018:00
H: Handlers=mouse1 event5
B: EV=1b

I: Bus=0011 Vendor=0002 Product=000a Version=0063
N: Name="TPPS/2 Elan TrackPoint"
P: Phys=synaptics-pt/serio0/input0
H: Handlers=mouse2 event6

I: Bus=0003 Vendor=046d Product=c52b Version=0111
N: Name="Logitech USB Receiver Mouse"
P: Phys=usb-0000:00:14.0-3/input1
H: Handlers=mouse3 event8
""")

w("sys/class/power_supply/AC/uevent", "POWER_SUPPLY_NAME=AC\nPOWER_SUPPLY_TYPE=Mains\nPOWER_SUPPLY_ONLINE=0\n")
w("sys/class/power_supply/BAT0/uevent", """POWER_SUPPLY_NAME=BAT0
POWER_SUPPLY_TYPE=Battery
POWER_SUPPLY_STATUS=Discharging
POWER_SUPPLY_PRESENT=1
POWER_SUPPLY_TECHNOLOGY=Li-poly
POWER_SUPPLY_CYCLE_COUNT=87
POWER_SUPPLY_VOLTAGE_MIN_DESIGN=15440000
POWER_SUPPLY_VOLTAGE_NOW=16512000
POWER_SUPPLY_ENERGY_FULL_DESIGN=52500000
POWER_SUPPLY_ENERGY_FULL=48610000
POWER_SUPPLY_ENERGY_NOW=45210000
POWER_SUPPLY_CAPACITY=93
POWER_SUPPLY_MODEL_NAME=5B10W51867
POWER_SUPPLY_MANUFACTURER=Sunwoda
POWER_SUPPLY_SERIAL_NUMBER= 3434
""")
w("sys/class/power_supply/hidpp_battery_0/uevent", "POWER_SUPPLY_NAME=hidpp_battery_0\nPOWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_SCOPE=Device\nPOWER_SUPPLY_MODEL_NAME=MX Master 3\n")

# --- USB ---------------------------------------------------------------------------------
def usb(dev, vendor, product, cls, iface_cls=None, manufacturer=None, name=None, serial=None):
    base = f"sys/bus/usb/devices/{dev}"
    w(f"{base}/idVendor", vendor + "\n")
    w(f"{base}/idProduct", product + "\n")
    w(f"{base}/bDeviceClass", cls + "\n")
    if manufacturer:
        w(f"{base}/manufacturer", manufacturer + "\n")
    if name:
        w(f"{base}/product", name + "\n")
    if serial:
        w(f"{base}/serial", serial + "\n")
    if iface_cls:
        w(f"sys/bus/usb/devices/{dev}:1.0/bInterfaceClass", iface_cls + "\n")


usb("usb1", "1d6b", "0002", "09", manufacturer="Linux 6.8.5-301.fc40.x86_64 xhci-hcd", name="xHCI Host Controller")
usb("1-3", "046d", "c52b", "00", "03", "Logitech", "USB Receiver")
usb("1-4", "0781", "5567", "00", "08", "SanDisk", "Cruzer Blade", "4C530001230521115294")
usb("1-5", "05e3", "0610", "09", manufacturer="GenesysLogic", name="USB2.1 Hub")

# --- printers, repositories, software, guests ---------------------------------------------
w("etc/cups/printers.conf", """# Printer configuration file for CUPS v2.4.7
# Written by cupsd
<DefaultPrinter Office-MFP>
PrinterId 1
UUID urn:uuid:0f5b7a2e-1c3d-4e5f-8a9b-0c1d2e3f4a5b
Info Office MFP, 3rd floor
Location Building B, room 301
MakeModel HP LaserJet MFP M428f-M429f, hpcups 3.23.12
DeviceURI ipp://printer3.corp.example.com/ipp/print
State Idle
Type 8425556
Accepting Yes
Shared No
</DefaultPrinter>
<Printer labels>
PrinterId 2
Info Label printer
MakeModel Zebra ZPL Label Printer
DeviceURI smb://svc-print:Secr3t@fileserver/labels
State Idle
Accepting Yes
Shared No
</Printer>
""")
w("etc/yum.repos.d/fedora.repo", """[fedora]
name=Fedora $releasever - $basearch
metalink=https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch
enabled=1
metadata_expire=7d

[fedora-debuginfo]
name=Fedora $releasever - $basearch - Debug
metalink=https://mirrors.fedoraproject.org/metalink?repo=fedora-debug-$releasever&arch=$basearch
enabled=0
""")
w("etc/yum.repos.d/fedora-updates.repo", """[updates]
name=Fedora $releasever - $basearch - Updates
metalink=https://mirrors.fedoraproject.org/metalink?repo=updates-released-f$releasever&arch=$basearch
enabled=1
""")
w("cmd/rpm.txt", "".join("\t".join(f) + "\n" for f in [
    ["bash", "(none):5.2.26-3.fc40", "x86_64", "1713000000", "8451210", "Fedora Project", "The GNU Bourne Again shell"],
    ["kernel-core", "0:6.8.5-301.fc40", "x86_64", "1713100000", "69117440", "Fedora Project", "The Linux kernel"],
    ["glibc", "(none):2.39-8.fc40", "x86_64", "1713000500", "6715341", "Fedora Project", "The GNU libc libraries"],
    ["google-chrome-stable", "(none):124.0.6367.60-1", "x86_64", "1713200000", "348745112", "Google Inc.", "Google Chrome"],
    ["fedora-repos", "(none):40-1", "noarch", "1713000000", "4949", "Fedora Project", "Fedora package repositories"],
    ["gpg-pubkey", "(none):a15b79cc-63d04c2c", "(none)", "1713000000", "0", "(none)", "Fedora (40) <fedora-40-primary@fedoraproject.org> public key"],
]))
w("cmd/flatpak.txt",
  "org.gimp.GIMP\tGNU Image Manipulation Program\t2.10.38\tx86_64\tflathub\tsystem\t347.0\u00a0MB\tCreate images and edit photographs\n"
  "org.freedesktop.Platform\tFreedesktop Platform\t23.08.20\tx86_64\tflathub\tsystem\t1.1\u00a0GB\tRuntime platform\n")
w("snap/firefox/current/meta/snap.yaml", "name: firefox\nversion: 125.0.2-1\nsummary: Mozilla Firefox web browser\narchitectures:\n  - amd64\nconfinement: strict\n")
w("etc/libvirt/qemu/win11.xml", """<!--
WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
OVERWRITTEN AND LOST.
-->
<domain type='kvm'>
  <name>win11</name>
  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
  <memory unit='KiB'>8388608</memory>
  <currentMemory unit='KiB'>8388608</currentMemory>
  <vcpu placement='static'>4</vcpu>
  <os><type arch='x86_64' machine='pc-q35-8.2'>hvm</type></os>
</domain>
""")
w("run/libvirt/qemu/win11.pid", "31337")
cid = "3f4e5d6c7b8a99aabbccddeeff00112233445566778899aabbccddeeff001122"
w(f"var/lib/docker/containers/{cid}/config.v2.json",
  '{"ID":"%s","Name":"/postgres","State":{"Running":true,"Paused":false,"Pid":4242},"Config":{"Image":"postgres:16","Hostname":"3f4e5d6c7b8a"}}' % cid)
w(f"var/lib/docker/containers/{cid}/hostconfig.json", '{"Memory":1073741824,"NanoCpus":2000000000}')
w("var/lib/lxc/build-box/config", "lxc.uts.name = build-box\nlxc.cgroup2.memory.max = 2G\nlxc.cgroup2.cpuset.cpus = 0-1\nlxc.rootfs.path = dir:/var/lib/lxc/build-box/rootfs\n")
