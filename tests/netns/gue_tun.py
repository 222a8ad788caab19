#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A stand-in for a proxy's fou decapsulation, for the MTU test on a host without fou:
# takes GUE packets on PORT (every address), strips the GUE header and its hop list, and
# writes the inner IP packet into the TUN device IFNAME, where the namespace's own TCP
# stack (the VIP on lo) receives it. Replies go straight back to the client (DSR).
import fcntl
import os
import socket
import struct
import sys

ifname, port = sys.argv[1], int(sys.argv[2])
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000
tun = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(tun, TUNSETIFF, struct.pack('16sH', ifname.encode(), IFF_TUN | IFF_NO_PI))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
udp.bind(('0.0.0.0', port))
print('ready', flush=True)
while True:
    data = udp.recv(65535)
    hlen = data[0] & 0x1f
    os.write(tun, data[4 + 4 * hlen:])
