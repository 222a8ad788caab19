#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A service manager's notification socket, owned by a test: binds a datagram socket at
# PATH and writes each message the daemon sends as "UNIX_TIME FIELD=VALUE" lines (one per
# field) to OUT, flushed at once, until killed or for at most --seconds.
#   notify_listener.py PATH OUT [--seconds N]
import argparse
import os
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument('path')
ap.add_argument('out')
ap.add_argument('--seconds', type=float, default=120)
a = ap.parse_args()
if os.path.exists(a.path):
    os.unlink(a.path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(a.path)
end = time.monotonic() + a.seconds
with open(a.out, 'w') as out:
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            msg = s.recv(65536)
        except socket.timeout:
            break
        now = time.time()
        for field in msg.decode(errors='replace').split('\n'):
            if field:
                out.write('%.6f %s\n' % (now, field))
        out.flush()
