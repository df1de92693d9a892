#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""host-view.py SOCKET view | SOCKET balloon MIB SECONDS |
    SOCKET plug TYPE ID | SOCKET unplug ID SECONDS | SOCKET reboot-resets |
    SOCKET powerdown | SOCKET ic-reboot | SOCKET lost SECONDS READY |
    SOCKET stop-cont SECONDS | SOCKET kvp KEY VALUE SECONDS |
    SOCKET kvp-delete KEY | SOCKET migrate URI DST_SOCKET SECONDS

view: what QEMU shows of the VMBus of a running guest, as "HOST:
key=value" lines for tests/linux/evaluate.sh, then the text of HMP's info
vmbus as "HOST: info-vmbus| ..." lines.

  vmbus.state=<disconnected|connected|offered>   query-vmbus
  vmbus.version=<major.minor>|none
  vmbus.dev.<type>=<state of each channel, comma-separated>
  vmbus.rings.<type>=ok|<what is wrong>   the rings of its open primary
      channel: both shown, not broken, indices inside the ring and
      8-byte aligned, and the host's own index the one the guest sees

balloon: ask the balloon (hv-balloon) for a guest of MIB MiB, and wait at
most SECONDS for query-balloon to come within 16 MiB of it.

  balloon.before=<MiB> balloon.target=<MiB> balloon.after=<MiB> balloon.took=<s>

plug: device_add of TYPE with id ID (hot-plug); hotplug.add=ok|<error>,
hotplug.instance=<its instance GUID> (query-vmbus).
unplug: device_del of ID, then wait at most SECONDS for DEVICE_DELETED;
hotplug.deleted=yes|no, hotplug.del-took=<s>.
reboot-resets: a guest reboot resets the VM from now on, whatever
-no-reboot said (QMP set-action); reboot.action=reset|<error>.
  heartbeat.<state|version|last-seq|bad-answers|dropped>=<value>
      the heartbeat service (the device with id hv-heartbeat), QOM

powerdown: the heartbeat's last sequence number again
(heartbeat-end.last-seq), the shutdown service's state and version as
QOM shows them (the device with id hv-shutdown), then system_powerdown;
shutdown-ic.state=<state>, shutdown-ic.version=<major.minor>|none,
shutdown-ic.powerdown=sent|<error>.
ic-reboot: hv-shutdown-guest action=reboot, and the guest's answer:
shutdown-ic.reboot=accepted|refused|error, shutdown-ic.reboot-status=
<status>|<error>, shutdown-ic.reboot-version=<major.minor>.
  timesync.<state|version|syncs>=<value>   the time sync service (id
      hv-timesync), QOM

stop-cont: stop the VM for SECONDS, then cont it: timesync-before.syncs=
<n> before, timesync.stopped=<seconds>|<error>, and a second later
timesync-after.syncs=<n>.
kvp: wait at most SECONDS for query-hv-kvp (the KVP service, -device
hv-kvp) to show the guest's IPv4 addresses, then hv-kvp-set KEY VALUE in
the pool external: kvp.state=<state>, kvp.version=<major.minor>|none,
kvp.readings=<n>, kvp.<FullyQualifiedDomainName|OSName|
NetworkAddressIPv4>=<value>|none (the pool auto), kvp.set=ok|<error>.
kvp-delete: hv-kvp-delete KEY; kvp.delete=ok|<error>.
migrate: migrate the running guest to the QEMU listening on URI
(-incoming) whose QMP is DST_SOCKET, then wait at most SECONDS for the
destination to run and for each integration service there to be bound
again (hv-shutdown, hv-heartbeat, hv-timesync in QOM, hv-kvp in
query-hv-kvp with a new reading), and quit the source:
migrate.status=completed|<status or error>, migrate.took=<s>,
migrate.dst=<its run state>, migrate.services=<each state, in that
order>, migrate.kvp-readings=<n>, migrate.syncs=<hv-timesync's SYNCs
there>, migrate.services-took=<s after the migration>.
lost: connect, create the file READY, then wait at most SECONDS for
HV_HEARTBEAT_LOST: heartbeat.lost=<silence-ms>|none,
heartbeat.lost-seq=<last-seq>.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from qmp import Qmp  # noqa: E402  (tests/lib/qmp.py)


def balloon(path, mib, seconds):
    qmp = Qmp(path)
    before = qmp.cmd("query-balloon")
    if "error" in before:
        print("HOST: balloon.before=error (%s)" % before["error"].get("desc"))
        return 1
    print("HOST: balloon.before=%u" % (before["return"]["actual"] >> 20))
    print("HOST: balloon.target=%u" % mib)
    ans = qmp.cmd("balloon", value=mib << 20)
    if "error" in ans:
        print("HOST: balloon.after=error (%s)" % ans["error"].get("desc"))
        return 1
    t0 = time.time()
    while True:
        actual = qmp.cmd("query-balloon")["return"]["actual"] >> 20
        if actual <= mib + 16 or time.time() - t0 > seconds:
            break
        time.sleep(0.5)
    print("HOST: balloon.after=%u" % actual)
    print("HOST: balloon.took=%.1f" % (time.time() - t0))
    qmp.close()
    return 0


def plug(path, dtype, did):
    qmp = Qmp(path)
    ans = qmp.cmd("device_add", driver=dtype, id=did)
    print("HOST: hotplug.add=%s" % ("ok" if "return" in ans else
                                    ans["error"].get("desc")))
    info = qmp.cmd("query-vmbus").get("return", {})
    for d in info.get("devices", []):
        if d["qom-path"].endswith("/" + did):
            print("HOST: hotplug.instance=%s" % d["instance-id"])
    qmp.close()
    return 0


def unplug(path, did, seconds):
    qmp = Qmp(path)
    t0 = time.time()
    ans = qmp.cmd("device_del", id=did)
    if "error" in ans:
        print("HOST: hotplug.deleted=no (%s)" % ans["error"].get("desc"))
        return 1
    qmp.sock.settimeout(1)
    deleted = False
    while not deleted and time.time() - t0 < seconds:
        try:
            ev = qmp.read()
        except (OSError, socket.timeout):
            continue
        deleted = (ev.get("event") == "DEVICE_DELETED" and
                   ev.get("data", {}).get("device") == did)
    print("HOST: hotplug.deleted=%s" % ("yes" if deleted else "no"))
    print("HOST: hotplug.del-took=%.1f" % (time.time() - t0))
    qmp.close()
    return 0


def rings(chan):
    """ok, or what is wrong with the rings query-vmbus shows."""
    for name, mine in (("to-host", "read-index"), ("to-guest", "write-index")):
        r = chan.get(name)
        if r is None:
            return name + " not shown"
        if "broken" in r:
            return "%s broken: %s" % (name, r["broken"])
        for k in ("write-index", "read-index"):
            if r[k] >= r["size"] or r[k] % 8:
                return "%s %s %d in a ring of %d" % (name, k, r[k], r["size"])
        if r[mine] != r["host-index"]:
            return "%s %s %d, host at %d" % (name, mine, r[mine],
                                            r["host-index"])
    return "ok"


def qom(qmp, key, dev, props):
    """HOST: KEY.PROP=<value> for each of PROPS of the device with id DEV."""
    for prop in props:
        ans = qmp.cmd("qom-get", path="/machine/peripheral/" + dev,
                      property=prop)
        val = ans["return"] if "return" in ans else \
            "error (%s)" % ans["error"].get("desc")
        print("HOST: %s.%s=%s" % (key, prop, val if val != "" else "none"))


def powerdown(path):
    qmp = Qmp(path)
    qom(qmp, "heartbeat-end", "hv-heartbeat", ("last-seq",))
    qom(qmp, "shutdown-ic", "hv-shutdown", ("state", "version"))
    ans = qmp.cmd("system_powerdown")
    print("HOST: shutdown-ic.powerdown=%s" % (
        "sent" if "return" in ans else ans["error"].get("desc")))
    qmp.close()
    return 0


def ic_reboot(path):
    qmp = Qmp(path, timeout=30)
    ans = qmp.cmd("hv-shutdown-guest", action="reboot")
    qmp.close()
    if "error" in ans:
        print("HOST: shutdown-ic.reboot=error")
        print("HOST: shutdown-ic.reboot-status=%s" % ans["error"].get("desc"))
        return 1
    r = ans["return"]
    print("HOST: shutdown-ic.reboot=%s" % ("accepted" if r["accepted"] else
                                          "refused"))
    print("HOST: shutdown-ic.reboot-status=0x%x" % r["status"])
    print("HOST: shutdown-ic.reboot-version=%s" % r["version"])
    return 0


def lost(path, seconds, ready):
    qmp = Qmp(path)
    with open(ready, "w"):
        pass
    qmp.sock.settimeout(1)
    t0 = time.time()
    ev = None
    while ev is None and time.time() - t0 < seconds:
        try:
            e = qmp.read()
        except (OSError, socket.timeout):
            continue
        if e.get("event") == "HV_HEARTBEAT_LOST":
            ev = e["data"]
    qmp.close()
    print("HOST: heartbeat.lost=%s" % (ev["silence-ms"] if ev else "none"))
    print("HOST: heartbeat.lost-seq=%s" % (ev["last-seq"] if ev else "none"))
    return 0


def kvp(path, key, value, seconds):
    qmp = Qmp(path, timeout=60)
    auto = {}
    end = time.monotonic() + seconds
    while True:
        info = qmp.cmd("query-hv-kvp")["return"]
        auto = {i["key"]: i["value"] for i in info["items"]
                if i["pool"] == "auto"}
        if auto.get("NetworkAddressIPv4") or time.monotonic() > end:
            break
        time.sleep(0.5)
    for k in ("state", "version", "readings"):
        print("HOST: kvp.%s=%s" % (k, info.get(k, "none")))
    for k in ("FullyQualifiedDomainName", "OSName", "NetworkAddressIPv4"):
        print("HOST: kvp.%s=%s" % (k, auto.get(k) or "none"))
    ans = qmp.cmd("hv-kvp-set", key=key, value=value)
    qmp.close()
    print("HOST: kvp.set=%s" % ("ok" if "return" in ans else
                                ans["error"].get("desc")))
    return 0


def kvp_delete(path, key):
    qmp = Qmp(path, timeout=60)
    ans = qmp.cmd("hv-kvp-delete", key=key)
    qmp.close()
    print("HOST: kvp.delete=%s" % ("ok" if "return" in ans else
                                   ans["error"].get("desc")))
    return 0


def migrate(path, uri, dst_path, seconds):
    end = time.monotonic() + seconds
    while not os.path.exists(dst_path) and time.monotonic() < end:
        time.sleep(0.2)
    src = Qmp(path, timeout=30)
    dst = Qmp(dst_path, timeout=30)
    t0 = time.monotonic()
    ans = src.cmd("migrate", uri=uri)
    status = ans["error"].get("desc") if "error" in ans else "none"
    while "error" not in ans and time.monotonic() < end:
        status = src.cmd("query-migrate")["return"].get("status", "none")
        if status in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.2)
    t1 = time.monotonic()
    print("HOST: migrate.status=%s" % status)
    print("HOST: migrate.took=%.1f" % (t1 - t0))
    run = "none"
    states = []
    readings = 0
    while time.monotonic() < end:
        run = dst.cmd("query-status")["return"]["status"]
        states = [dst.cmd("qom-get", path="/machine/peripheral/" + d,
                          property="state").get("return", "?")
                  for d in ("hv-shutdown", "hv-heartbeat", "hv-timesync")]
        kvp = dst.cmd("query-hv-kvp").get("return", {})
        states.append(kvp.get("state", "?"))
        readings = kvp.get("readings", 0)
        if run == "running" and readings > 0 and \
                all(st in ("ready", "waiting") for st in states):
            break
        time.sleep(0.2)
    print("HOST: migrate.dst=%s" % run)
    print("HOST: migrate.services=%s" % ",".join(states))
    print("HOST: migrate.kvp-readings=%s" % readings)
    print("HOST: migrate.services-took=%.1f" % (time.monotonic() - t1))
    qom(dst, "migrate", "hv-timesync", ("syncs",))
    dst.close()
    src.cmd("quit")
    src.close()
    return 0


def stop_cont(path, seconds):
    qmp = Qmp(path)
    qom(qmp, "timesync-before", "hv-timesync", ("syncs",))
    qmp.cmd("stop")
    time.sleep(seconds)
    ans = qmp.cmd("cont")
    print("HOST: timesync.stopped=%s" % (seconds if "return" in ans else
                                         ans["error"].get("desc")))
    time.sleep(1)
    qom(qmp, "timesync-after", "hv-timesync", ("syncs",))
    qmp.close()
    return 0


# The verbs besides view and reboot-resets: what runs them on the socket
# and their arguments, and the key that says so when QMP failed.
VERBS = {
    "balloon": (lambda p, mib, s: balloon(p, int(mib), int(s)),
                "balloon.after"),
    "plug": (plug, "hotplug.deleted"),
    "unplug": (lambda p, did, s: unplug(p, did, int(s)), "hotplug.deleted"),
    "powerdown": (powerdown, "shutdown-ic.powerdown"),
    "ic-reboot": (ic_reboot, "shutdown-ic.reboot"),
    "lost": (lambda p, s, ready: lost(p, int(s), ready), "heartbeat.lost"),
    "stop-cont": (lambda p, s: stop_cont(p, int(s)), "timesync.stopped"),
    "kvp": (lambda p, k, v, s: kvp(p, k, v, int(s)), "kvp.set"),
    "kvp-delete": (kvp_delete, "kvp.delete"),
    "migrate": (lambda p, u, d, s: migrate(p, u, d, int(s)),
                "migrate.status"),
}


def main():
    if len(sys.argv) > 2 and sys.argv[2] == "reboot-resets":
        try:
            qmp = Qmp(sys.argv[1])
            ans = qmp.cmd("set-action", reboot="reset")
            qmp.close()
        except (OSError, EOFError, ValueError) as e:
            ans = {"error": {"desc": str(e)}}
        print("HOST: reboot.action=%s" % ("reset" if "return" in ans else
                                          ans["error"].get("desc")))
        return 0
    verb = sys.argv[2] if len(sys.argv) > 2 else "view"
    if verb in VERBS:
        run, key = VERBS[verb]
        try:
            return run(sys.argv[1], *sys.argv[3:])
        except (OSError, EOFError, ValueError, KeyError, TypeError) as e:
            print("HOST: %s=unreachable (%s)" % (key, e))
            return 1
    try:
        qmp = Qmp(sys.argv[1])
        ans = qmp.cmd("query-vmbus")
        hmp = qmp.cmd("human-monitor-command", **{"command-line":
                                                   "info vmbus"})
        qom(qmp, "heartbeat", "hv-heartbeat",
            ("state", "version", "last-seq", "bad-answers", "dropped"))
        qom(qmp, "timesync", "hv-timesync", ("state", "version", "syncs"))
        qmp.close()
    except (OSError, EOFError, ValueError) as e:
        print("HOST: vmbus.state=unreachable (%s)" % e)
        return 1
    if "error" in ans:
        print("HOST: vmbus.state=error (%s)" % ans["error"].get("desc"))
        return 1
    info = ans["return"]
    print("HOST: vmbus.state=%s" % info["state"])
    print("HOST: vmbus.version=%s" % info.get("version", "none"))
    for d in info["devices"]:
        print("HOST: vmbus.dev.%s=%s" % (d["type"], ",".join(
            c["state"] + (" rescinded" if c["rescinded"] else "") +
            (" failed" if c["failed"] else "") for c in d["channels"])))
        if d["channels"] and d["channels"][0]["state"] == "open":
            print("HOST: vmbus.rings.%s=%s" % (d["type"],
                                               rings(d["channels"][0])))
    for line in hmp.get("return", "").splitlines():
        print("HOST: info-vmbus| %s" % line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
