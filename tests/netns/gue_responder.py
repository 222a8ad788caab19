#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A stand-in for a proxy's GUE decapsulation, for the director's gue health check on a
# host without fou: takes GUE packets on ADDRESS:PORT, checks GLB's header (hlen 1, hop
# count 0, inner IPv4), and answers the inner ICMP echo request from ADDRESS as the
# proxy's kernel would. Appends one line per probe to LOG. Runs at most SECONDS.
import socket
import struct
import sys
import time

address, port, log, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])


def checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind((address, port))
icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
icmp.bind((address, 0))
end = time.monotonic() + seconds
with open(log, 'a', buffering=1) as out:
    while time.monotonic() < end:
        udp.settimeout(max(0.01, end - time.monotonic()))
        try:
            data, peer = udp.recvfrom(2048)
        except socket.timeout:
            break
        hlen, proto, hop_count = data[0] & 0x1f, data[1], data[7]
        inner = data[4 + 4 * hlen:]
        if hlen != 1 or proto != 4 or hop_count != 0 or len(inner) < 28 or inner[9] != 1:
            out.write('bad %s\n' % data.hex())
            continue
        ihl = (inner[0] & 0x0f) * 4
        src = socket.inet_ntoa(inner[12:16])
        echo = bytearray(inner[ihl:])
        if echo[0] != 8:
            out.write('bad %s\n' % data.hex())
            continue
        echo[0] = 0
        echo[2:4] = b'\0\0'
        echo[2:4] = struct.pack('!H', checksum(bytes(echo)))
        icmp.sendto(bytes(echo), (src, 0))
        out.write('probe from %s inner %s -> %s\n' % (peer[0], src, socket.inet_ntoa(inner[16:20])))
