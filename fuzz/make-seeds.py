#!/usr/bin/env python3
"""Builds the fuzz corpora from the real-agent captures and the reference's examples.

    fuzz/make-seeds.py --fixtures ../shared/fixtures/real-agent --out fuzz/corpus
    fuzz/make-seeds.py --fixtures ../shared/fixtures/real-agent --out fuzz/seeds --committed

Inventories (300 KB each) are cut into small documents, one per section (the envelope, HARDWARE
and a few elements of that section), because libFuzzer mutates small inputs thousands of times
faster and every section still gets its real shape. --committed writes only a few dozen small
files per target, the ones kept in git; scripts/fuzz.sh generates the rest at run time.
"""

import argparse
import gzip
import hashlib
import os
import sys
import xml.etree.ElementTree as ET
import zlib

TARGETS = ["decode_body", "xml_parse", "inventory", "prolog", "download", "reply_reader", "info_file",
           "read_equivalence"]
# Largest input per target; scripts/fuzz.sh passes the same values to -max_len.
MAX_LEN = {"inventory": 16384, "read_equivalence": 16384}
DEFAULT_MAX_LEN = 4096
DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'

# Shapes from the protocol reference (§2.3, §2.4, §2.6, §6.3), which the captures lack.
STATUS_QUERIES = [
    b'<REQUEST DEVICEID="web01-2024-03-05-09-12-44" ERR="SUCCESS" ID="1709631234" QUERY="DOWNLOAD" />',
    b'<REQUEST DEVICEID="web01-2024-03-05-09-12-44" ID="1709631234" QUERY="DOWNLOAD" />',
    b'<REQUEST ID="1709631234" ERR="EXIT_CODE_1603"><DEVICEID>PC42-2023-11-02-08-00-01</DEVICEID>'
    b'<CONTENT/><QUERY>DOWNLOAD</QUERY></REQUEST>',
    b"""<REQUEST>
  <DEVICEID>PC42-2023-11-02-08-00-01</DEVICEID>
  <CONTENT/>
  <QUERY>NOTIFY</QUERY>
  <TYPE>IP</TYPE>
  <HARDWARE><NAME>PC42</NAME><WORKGROUP>CORP</WORKGROUP><USERDOMAIN>CORP</USERDOMAIN>
    <IPADDR>10.1.2.33</IPADDR><USERID>jdoe</USERID><LASTLOGGEDUSER>jdoe</LASTLOGGEDUSER></HARDWARE>
  <IFACE><MAC>00:11:22:33:44:55</MAC><IP>10.1.2.33</IP><MASK>255.255.255.0</MASK>
    <GW>10.1.2.1</GW><SUBNET>10.1.2.0</SUBNET><DHCP>10.1.2.5</DHCP></IFACE>
</REQUEST>
""",
    b"""<REQUEST>
  <CONTENT>
    <snmp_default>
      <DefaultName>sw-core-1</DefaultName>
      <DefaultDescription>Cisco IOS Software, C2960</DefaultDescription>
      <DefaultLocation>Server room</DefaultLocation>
      <DefaultUptime>123 days, 04:05:06</DefaultUptime>
      <DefaultAddressIP>10.0.0.2</DefaultAddressIP>
      <DefaultGateway>10.0.0.1</DefaultGateway>
    </snmp_default>
  </CONTENT>
  <DEVICEID>web01-2024-03-05-09-12-44</DEVICEID>
  <QUERY>SNMP</QUERY>
</REQUEST>
""",
    b"<REQUEST><QUERY>UPDATE</QUERY><PLATFORM>WINDOWS</PLATFORM><AGENT>4061</AGENT></REQUEST>",
]

INFO_CONSOLE = (
    '<DOWNLOAD ID="1709631234" PRI="5" ACT="EXECUTE" DIGEST="9e107d9d372bb6826bd81d3542a419d6" '
    'PROTO="HTTP" FRAGS="3" DIGEST_ALGO="MD5" DIGEST_ENCODE="Hexa" {arg} '
    'NOTIFY_USER="0" NOTIFY_TEXT="" NOTIFY_COUNTDOWN="" NOTIFY_CAN_ABORT="0" NOTIFY_CAN_DELAY="0" '
    'NEED_DONE_ACTION="0" NEED_DONE_ACTION_TEXT="" GARDEFOU="rien" />\n'
)
INFO_FILES = [
    (DECL + INFO_CONSOLE.format(arg='COMMAND="apt-get install -y htop"')).encode(),
    (DECL + INFO_CONSOLE.format(arg='PATH="INSTALL_PATH/conf"').replace('"EXECUTE"', '"STORE"')).encode(),
    (DECL + INFO_CONSOLE.format(arg='NAME="setup.exe /S"').replace('"EXECUTE"', '"LAUNCH"')
     .replace('PROTO="HTTP"', 'PROTO="HTTPS"').replace('NOTIFY_USER="0"', 'NOTIFY_USER="1"')
     .replace('NOTIFY_COUNTDOWN=""', 'NOTIFY_COUNTDOWN="30"')
     .replace('NOTIFY_TEXT=""', 'NOTIFY_TEXT="Fermez &lt;b&gt;Word&lt;/b&gt;&#10;merci"')).encode(),
    (DECL + INFO_CONSOLE.format(arg='COMMAND="sh run.sh"').replace('FRAGS="3"', 'FRAGS="0"')
     .replace('"MD5"', '"SHA1"').replace('"Hexa"', '"Base64"').replace('PRI="5"', 'PRI="0"')).encode(),
    b'<DOWNLOAD ID="1" PRI="10" ACT="launch" PROTO="https" FRAGS="2" DIGEST_ALGO="sha1" '
    b'DIGEST_ENCODE="BASE64"><NAME>run.sh</NAME><DIGEST>x</DIGEST></DOWNLOAD>',
]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def files(root, suffixes):
    for folder, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            if name.endswith(suffixes):
                yield os.path.join(folder, name)


def split_inventory(doc):
    """One small INVENTORY per section: envelope, HARDWARE, up to five elements of the section."""
    try:
        root = ET.fromstring(doc)
    except ET.ParseError:
        return []
    content = root.find("CONTENT")
    deviceid = root.findtext("DEVICEID")
    if content is None or deviceid is None:
        return []
    hardware = content.find("HARDWARE")
    hardware = ET.tostring(hardware, encoding="unicode") if hardware is not None else ""
    by_tag = {}
    for child in content:
        if child.tag != "HARDWARE":
            by_tag.setdefault(child.tag, []).append(ET.tostring(child, encoding="unicode"))
    out = []
    for tag, parts in sorted(by_tag.items()):
        body = "".join(parts[:5])
        out.append(
            (DECL + f"<REQUEST>\n  <CONTENT>\n    {hardware}{body}  </CONTENT>\n"
             f"  <DEVICEID>{deviceid}</DEVICEID>\n  <QUERY>INVENTORY</QUERY>\n</REQUEST>\n").encode()
        )
    return out


def encodings(doc):
    """The three body encodings of a document, with its knob byte for decode_body."""
    # Knob: high bit = try_others, low bits choose the limit (index 5 = 1 MiB, 3 = 1000 bytes).
    return [
        bytes([0x85]) + doc,
        bytes([0x05]) + zlib.compress(doc, 6),
        bytes([0x83]) + zlib.compress(doc, 6),
        bytes([0x85]) + gzip.compress(doc, mtime=0),
        bytes([0x00]) + zlib.compress(doc, 9),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--committed", action="store_true", help="the small set kept in git")
    args = parser.parse_args()
    if not os.path.isdir(args.fixtures):
        sys.exit(f"no fixtures at {args.fixtures}")

    requests = [read(p) for p in files(args.fixtures, ("-request.xml", ".ocs"))]
    small_requests = [d for d in requests if len(d) <= DEFAULT_MAX_LEN]
    replies = [read(p) for p in files(args.fixtures, ("-response.xml",))]
    zlib_bodies = [read(p) for p in files(args.fixtures, ("-request.bin", "-response.bin"))]
    inventories = [piece for d in requests if len(d) > DEFAULT_MAX_LEN for piece in split_inventory(d)]
    if args.committed:
        # Sections of the first capture only, and only the smallest pieces.
        seen, kept = set(), []
        for piece in sorted(inventories, key=len):
            if len(kept) < 30 and piece not in seen:
                seen.add(piece)
                kept.append(piece)
        inventories = kept

    corpus = {t: [] for t in TARGETS}
    corpus["xml_parse"] = small_requests + replies + STATUS_QUERIES + INFO_FILES + inventories[:20]
    corpus["inventory"] = inventories + small_requests
    corpus["prolog"] = small_requests + STATUS_QUERIES
    corpus["download"] = STATUS_QUERIES + small_requests[:3]
    corpus["reply_reader"] = replies + [
        b"<?xml version='1.0' encoding='UTF-8'?>\n<REPLY>\n  <OPTION>\n    <NAME>IPDISCOVER</NAME>\n"
        b'    <PARAM IPDISC_LAT="100">192.168.10.0</PARAM>\n  </OPTION>\n  <RESPONSE>STOP</RESPONSE>\n'
        b"  <PROLOG_FREQ>12</PROLOG_FREQ>\n</REPLY>\n",
        b"<?xml version='1.0' encoding='UTF-8'?>\n<REPLY>\n  <OPTION>\n    <NAME>REGISTRY</NAME>\n"
        b'    <PARAM NAME="ie" REGKEY="SOFTWARE\\Microsoft" REGTREE="2">Version</PARAM>\n  </OPTION>\n'
        b"  <RESPONSE>SEND</RESPONSE>\n</REPLY>\n",
    ]
    corpus["info_file"] = INFO_FILES
    # The first byte picks the limits: even, the defaults; odd, tight ones.
    documents = inventories + small_requests + STATUS_QUERIES
    corpus["read_equivalence"] = [b"\x00" + d for d in documents] + [b"\x5b" + d for d in documents[:10]]
    decode = [e for d in small_requests + replies + STATUS_QUERIES for e in encodings(d)]
    decode += [bytes([0x85]) + b for b in zlib_bodies if len(b) < DEFAULT_MAX_LEN]
    if args.committed:
        decode = decode[:40]
    else:
        decode += [e for d in inventories[:40] for e in encodings(d)[1:3]]
    decode += [bytes([0x02]) + zlib.compress(b"\0" * 100000, 9)]  # a bomb, for the limit path
    corpus["decode_body"] = decode

    total = 0
    for target, inputs in corpus.items():
        folder = os.path.join(args.out, target)
        os.makedirs(folder, exist_ok=True)
        limit = MAX_LEN.get(target, DEFAULT_MAX_LEN)
        for data in inputs:
            if len(data) > limit:
                continue
            # Named by content, as libFuzzer names its own, so reruns do not duplicate.
            with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)
            total += 1
    print(f"wrote {total} inputs under {args.out}")


if __name__ == "__main__":
    main()
