#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vmbus-stream.py QEMU FIRMWARE IMAGE PREFIX: VMBus migration streams that
a destination must load, and corrupt ones it must refuse cleanly.

One source under TCG runs the test guest's vmbus-migrate suite (hv-balloon
and vmbus-echo open, packets in their rings) and saves its state to a file
once the guest says "MIGRATE: READY".  Every case then starts a destination
with the same options, -S and -incoming from a copy of that file in which
the vmbus-bridge section was changed:

  v1/as-saved     our own stream, untouched: must load
  v1/flip-N       one byte of our section's body changed (seeded, so that
                  a run can be repeated), and v1/cut-N, the body cut short:
                  each must load or be refused; the destination must never
                  die of a signal or hang
  v0/...          the section rewritten as QEMU 10.0.2 writes it (version
                  0: its bus state, version, VP, interrupt page, GPADL list
                  and message queue), valid ones that must load and broken
                  ones that must be refused with an error that names VMBus

"Loaded" means query-migrate says completed on the paused destination;
"refused" means QEMU exited with status 1.  Output: PASS:/FAIL: PREFIX/...
lines; exit status 1 if any failed.
"""

import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import Qmp  # noqa: E402  (tests/lib/qmp.py)

QEMU, FIRMWARE, IMAGE, PREFIX = sys.argv[1:5]
CPU = "max,hv-vpindex,hv-synic,hv-time,hv-stimer"
MACHINE = "pc-i440fx-10.0"
# vmbus-echo with an open sub-channel: the stream carries its state too.
APPEND = ("suite=vmbus-migrate cpus=2 balloon=reoffer echo=1 subchannel=1 "
          "stable-id=1 vmbus-version=5.3")
SEED = 20261206
FLIPS = 48
CUTS = 8
LIMIT = 60          # seconds for any one QEMU

failed = 0


def result(ok, name, text):
    global failed
    print("%s: %s/%s (%s)" % ("PASS" if ok else "FAIL", PREFIX, name, text),
          flush=True)
    if not ok:
        failed += 1


def qemu_args(extra):
    return [QEMU, "-L", FIRMWARE, "-accel", "tcg", "-cpu", CPU,
            "-M", MACHINE, "-m", "128", "-smp", "2", "-display", "none",
            "-nodefaults", "-no-reboot", "-device", "vmbus-bridge",
            "-device", "hv-balloon", "-device", "vmbus-echo,subchannels=1",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-kernel", IMAGE, "-append", APPEND] + extra


def connect(proc, sock, deadline):
    """QMP on sock once QEMU listens there; None if it left first."""
    while proc.poll() is None and time.time() < deadline:
        try:
            return Qmp(sock)
        except (OSError, EOFError, ValueError):
            time.sleep(0.05)
    return None


def start(work, name, extra):
    sock = os.path.join(work, name + ".qmp")
    if os.path.exists(sock):
        os.unlink(sock)
    err = open(os.path.join(work, name + ".err"), "w+")
    proc = subprocess.Popen(
        qemu_args(["-qmp", "unix:%s,server=on,wait=off" % sock] + extra),
        stdin=subprocess.DEVNULL, stdout=err, stderr=subprocess.STDOUT)
    return proc, connect(proc, sock, time.time() + LIMIT), err


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def save_stream(work):
    """The source's state at READY, in work/v1.stream; None on failure."""
    serial = os.path.join(work, "src.serial")
    path = os.path.join(work, "v1.stream")
    proc, qmp, err = start(work, "src", ["-serial", "file:" + serial])
    why = None
    try:
        if not qmp:
            why = "the source did not start"
            return None
        deadline = time.time() + LIMIT
        while True:
            text = open(serial, errors="replace").read() \
                if os.path.exists(serial) else ""
            if "MIGRATE: READY" in text:
                break
            if proc.poll() is not None or time.time() > deadline:
                why = "the guest never said MIGRATE: READY"
                return None
            time.sleep(0.1)
        ans = qmp.cmd("migrate", uri="file:" + path)
        if "error" in ans:
            why = "migrate: %s" % ans["error"].get("desc")
            return None
        while True:
            st = qmp.cmd("query-migrate")["return"].get("status")
            if st in ("completed", "failed", "cancelled"):
                break
            if time.time() > deadline:
                st = "timeout"
                break
            time.sleep(0.1)
        if st != "completed":
            why = "migration to the file: %s" % st
            return None
        return path
    finally:
        if qmp:
            qmp.close()
        stop(proc)
        if why:
            err.seek(0)
            result(False, "source", "%s; %s" % (why, err.read()[-300:]))


def find_section(data, name):
    """(header start, body start, body end) of the device section name."""
    key = bytes([len(name)]) + name.encode()
    at = data.find(key)
    while at >= 0:
        hdr = at - 5
        if hdr >= 0 and data[hdr] == 0x04:        # QEMU_VM_SECTION_FULL
            sid = data[hdr + 1:hdr + 5]
            body = at + len(key) + 8                # instance id, version
            end = data.find(b"\x7e" + sid, body)    # QEMU_VM_SECTION_FOOTER
            if end > 0:
                return hdr, body, end
        at = data.find(key, at + 1)
    return None


def with_body(data, sec, body, version=None):
    hdr, start, end = sec
    head = bytearray(data[:start])
    if version is not None:
        head[start - 4:start] = struct.pack(">I", version)
    return bytes(head) + body + data[end:]


def load(work, name, data):
    """'loaded', 'refused' (exit status 1) or what else became of it."""
    path = os.path.join(work, name.replace("/", "-") + ".stream")
    with open(path, "wb") as f:
        f.write(data)
    proc, qmp, err = start(work, "dst", ["-S", "-serial", "null",
                                         "-incoming", "file:" + path])
    outcome = None
    deadline = time.time() + LIMIT
    try:
        while outcome is None:
            if proc.poll() is not None:
                break
            if not qmp:
                # No QMP: QEMU is leaving (a refused stream), or stuck.
                try:
                    proc.wait(timeout=LIMIT)
                except subprocess.TimeoutExpired:
                    outcome = "no QMP (QEMU runs but does not answer)"
                break
            try:
                st = qmp.cmd("query-migrate")["return"].get("status")
            except (OSError, EOFError, ValueError):
                qmp.close()
                qmp = None
                continue
            if st == "completed":
                outcome = "loaded"
                break
            if time.time() > deadline:
                outcome = "hung (no end in %u s)" % LIMIT
                break
            time.sleep(0.05)
    finally:
        if qmp:
            qmp.close()
        if outcome is None:
            rc = proc.wait(timeout=LIMIT)
            outcome = "refused" if rc == 1 else "exit status %d" % rc
        stop(proc)
    err.seek(0)
    text = err.read()
    os.unlink(path)
    return outcome, text


def last_error(text):
    lines = [x for x in text.splitlines() if x.strip()]
    return lines[-1][-160:] if lines else "no message"


def v0_gpadl(gid, relid, pfns, seen=None, state=1, count=None):
    seen = len(pfns) if seen is None else seen
    count = len(pfns) if count is None else count
    return (b"\x01" + struct.pack(">IIII", gid, relid, count, seen) +
            b"".join(struct.pack(">Q", p) for p in pfns) + bytes([state]))


def v0_rx(msgs, head=0, size=None):
    size = len(msgs) if size is None else size
    slots = [(0, b"")] * 16
    for i, m in enumerate(msgs):
        slots[(head + i) % 16] = (len(m), m)
    name = b"vmbus/rx_queue"
    out = b"\x05" + bytes([len(name)]) + name + struct.pack(">I", 0)
    out += bytes([head, size])
    for n, m in slots:
        out += struct.pack(">I", n) + m.ljust(240, b"\0")[:240]
    return out


def v0_body(state=0, version=0x40000, vp=0, gpadls=b"", rx=b""):
    return (bytes([state]) + struct.pack(">IIQ", version, vp, 0) +
            gpadls + b"\x00" + rx)


RING = list(range(0x200, 0x208))        # 8 pages of guest RAM
REQUESTOFFERS = struct.pack("<II", 3, 0)
V0_CASES = [
    # name, body, must load
    ("idle", v0_body(version=0), True),
    ("refused-version-asked", v0_body(version=0x50003), True),
    ("connected-ring-gpadl", v0_body(gpadls=v0_gpadl(0x10, 1, RING)), True),
    ("connected-gpadl-being-built",
     v0_body(gpadls=v0_gpadl(0x10, 1, RING[:3] + [0] * 5, seen=3, state=0)),
     True),
    ("connected-torn-down-gpadl",
     v0_body(gpadls=v0_gpadl(0x10, 1, RING, state=3)), True),
    ("offers-still-asked-for",
     v0_body(rx=v0_rx([REQUESTOFFERS], head=15)), True),
    ("state-mid-answer", v0_body(state=2), False),
    ("state-out-of-range", v0_body(state=200), False),
    ("version-1.1", v0_body(version=0x10001), False),
    ("version-0.13", v0_body(version=0xd), False),
    ("gpadl-of-no-device", v0_body(gpadls=v0_gpadl(0x10, 99, RING)), False),
    ("gpadl-state-5", v0_body(gpadls=v0_gpadl(0x10, 1, RING, state=5)),
     False),
    ("gpadl-alive-but-short",
     v0_body(gpadls=v0_gpadl(0x10, 1, RING, seen=4)), False),
    ("gpadl-seen-beyond-count",
     v0_body(gpadls=v0_gpadl(0x10, 1, RING, seen=9)), False),
    ("gpadl-4-billion-pages",
     v0_body(gpadls=v0_gpadl(0x10, 1, [], count=0xffffffff)), False),
    ("gpadl-too-large-for-the-protocol",
     v0_body(gpadls=v0_gpadl(0x10, 1, list(range(0x300, 0x300 + 9000)))),
     False),
    ("gpadl-empty", v0_body(gpadls=v0_gpadl(0x10, 1, [])), False),
    ("gpadl-id-twice",
     v0_body(gpadls=v0_gpadl(0x10, 1, RING) + v0_gpadl(0x10, 1, RING)),
     False),
    ("gpadls-4097",
     v0_body(gpadls=b"".join(v0_gpadl(0x100 + i, 1, [0x200])
                             for i in range(4097))), False),
    ("gpadls-while-disconnected",
     v0_body(version=0, gpadls=v0_gpadl(0x10, 1, RING)), False),
    ("queue-head-16", v0_body(rx=v0_rx([REQUESTOFFERS], head=16)), False),
    ("queue-size-17", v0_body(rx=v0_rx([], size=17)), False),
    ("queue-message-241-bytes",
     v0_body(rx=v0_rx([REQUESTOFFERS]).replace(
         struct.pack(">I", 8), struct.pack(">I", 241), 1)), False),
    ("cut-in-the-gpadl-list", v0_body(gpadls=v0_gpadl(0x10, 1, RING))[:30],
     False),
]


def main():
    work = tempfile.mkdtemp(prefix="vmbus-stream.")
    try:
        path = save_stream(work)
        if not path:
            return 1
        data = open(path, "rb").read()
        sec = find_section(data, "vmbus-bridge")
        if not sec:
            result(False, "v1/section", "no vmbus-bridge section in the "
                   "saved stream")
            return 1
        hdr, start, end = sec
        body = data[start:end]
        result(True, "v1/section", "vmbus-bridge: %u bytes of body"
               % len(body))
        outcome, text = load(work, "v1/as-saved", data)
        result(outcome == "loaded", "v1/as-saved", outcome if
               outcome == "loaded" else "%s: %s" % (outcome,
                                                    last_error(text)))

        rng = random.Random(SEED)
        counts = {}
        for i in range(FLIPS + CUTS):
            if i < FLIPS:
                name = "v1/flip-%u" % i
                pos = rng.randrange(len(body))
                new = bytearray(body)
                new[pos] ^= 1 << rng.randrange(8)
                what = "byte %u, bit flipped" % pos
            else:
                name = "v1/cut-%u" % (i - FLIPS)
                pos = rng.randrange(len(body))
                new = body[:pos]
                what = "cut at byte %u" % pos
            outcome, text = load(work, name, with_body(data, sec,
                                                       bytes(new)))
            counts[outcome] = counts.get(outcome, 0) + 1
            result(outcome in ("loaded", "refused"), name,
                   "%s: %s%s" % (what, outcome, "" if outcome == "loaded"
                                 else ": " + last_error(text)))
        print("INFO: %s/v1: %s (seed %u)" % (PREFIX, ", ".join(
            "%u %s" % (n, k) for k, n in sorted(counts.items())), SEED))

        for name, new, must_load in V0_CASES:
            outcome, text = load(work, "v0/" + name,
                                 with_body(data, sec, new, version=0))
            if must_load:
                result(outcome == "loaded", "v0/" + name, outcome
                       if outcome == "loaded" else "%s: %s"
                       % (outcome, last_error(text)))
            else:
                named = "vmbus" in text.lower()
                result(outcome == "refused" and named, "v0/" + name,
                       "%s, %s: %s" % (outcome, "the error names VMBus"
                                       if named else "no VMBus error",
                                       last_error(text)))
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
