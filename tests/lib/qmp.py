# SPDX-License-Identifier: GPL-2.0-or-later
"""A QMP client for the tests: one connection to a QEMU's unix socket."""

import json
import socket


class Qmp:
    """Connects, reads the greeting, negotiates capabilities."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.read()                                 # the greeting
        self.cmd("qmp_capabilities")

    def read(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QMP closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        """The command's answer (events before it are dropped)."""
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            ans = self.read()
            if "return" in ans or "error" in ans:
                return ans

    def close(self):
        self.sock.close()
