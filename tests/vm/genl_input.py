# SPDX-License-Identifier: Apache-2.0
"""Bad SET_CONFIG requests to the tandem_redirect generic netlink family.

Runs inside the VM (proxyctl.sh) with the module loaded, in the initial network
namespace. Each request is built by hand (no libnl) so that it can be wrong in
ways tandem-proxyctl never is; every one must be refused (EINVAL, or ERANGE for
a value out of the policy's range) with a message saying why, and leave the
configuration as it was. One PASS/FAIL line
per check; exit 1 on any failure.
"""
import errno
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NLA_F_NESTED = 0x8000
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_VERSION = 1, 2, 3
# tandem_redirect_nl.h
CMD_GET_CONFIG, CMD_SET_CONFIG = 1, 2
A_ENABLED, A_PORTS, A_SOURCES = 2, 3, 7
PORT_A_PORT = 1
SRC_A_PREFIX = 1
PFX_A_ADDR4, PFX_A_LEN = 1, 2

fails = passes = 0
seq = 0


def check(name, ok, detail=""):
    global fails, passes
    if ok:
        passes += 1
        print(f"PASS: {name}")
    else:
        fails += 1
        print(f"FAIL: {name} {detail}")
    sys.stdout.flush()


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * (-n % 4)


def nest(t, *items):
    return attr(t | NLA_F_NESTED, b"".join(items))


def u8(t, v):
    return attr(t, struct.pack("=B", v))


def u16(t, v):
    return attr(t, struct.pack("=H", v))


def prefix(addr, length):
    return nest(SRC_A_PREFIX, attr(PFX_A_ADDR4, socket.inet_aton(addr)), u8(PFX_A_LEN, length))


sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
sock.bind((0, 0))
sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
sock.settimeout(5)


def request(family, cmd, version, payload):
    """(errno, extack message, reply payloads) of one request."""
    global seq
    seq += 1
    body = struct.pack("=BBH", cmd, version, 0) + payload
    sock.send(struct.pack("=IHHII", 16 + len(body), family, NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body)
    replies = []
    while True:
        data = sock.recv(65536)
        off = 0
        while off < len(data):
            length, typ, _, _, _ = struct.unpack_from("=IHHII", data, off)
            msg = data[off + 16:off + length]
            off += (length + 3) & ~3
            if typ != NLMSG_ERROR:
                replies.append(msg)
                continue
            err = -struct.unpack_from("=i", msg)[0]
            text = ""
            olen = struct.unpack_from("=I", msg, 4)[0]
            tlv = 4 + (16 if err == 0 else olen)  # the request comes back on errors
            while tlv + 4 <= len(msg):
                alen, atype = struct.unpack_from("=HH", msg, tlv)
                if alen < 4:
                    break
                if atype == 1:  # NLMSGERR_ATTR_MSG
                    text = msg[tlv + 4:tlv + alen].rstrip(b"\0").decode()
                tlv += (alen + 3) & ~3
            return err, text, replies


def attrs_of(payload):
    out, off = {}, 4
    while off + 4 <= len(payload):
        alen, atype = struct.unpack_from("=HH", payload, off)
        if alen < 4:
            break
        out[atype & 0x3FFF] = payload[off + 4:off + alen]
        off += (alen + 3) & ~3
    return out


err, _, rep = request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1,
                      attr(CTRL_ATTR_FAMILY_NAME, b"tandem_redirect\0"))
if err or not rep:
    print(f"FAIL: resolve the tandem_redirect family: {os.strerror(err) if err else 'no reply'}")
    sys.exit(1)
a = attrs_of(rep[0])
FAM = struct.unpack("=H", a[CTRL_ATTR_FAMILY_ID])[0]
VER = struct.unpack("=I", a[CTRL_ATTR_VERSION])[0]


def config():
    err, _, rep = request(FAM, CMD_GET_CONFIG, VER, b"")
    return rep[0] if not err and rep else None


before = config()
ports = [u16(PORT_A_PORT, 19523 + i) for i in range(9)]
cases = [
    ("nothing to set", b"", "nothing to set"),
    ("9 ports", nest(A_PORTS, *ports), "too many GUE ports"),
    ("a port listed twice", nest(A_PORTS, u16(PORT_A_PORT, 80), u16(PORT_A_PORT, 80)),
     "listed twice"),
    ("an empty port list", nest(A_PORTS), "port list is empty"),
    ("port 0", nest(A_PORTS, u16(PORT_A_PORT, 0)), "out of range"),
    ("a junk attribute in the port list", nest(A_PORTS, u16(7, 80)), ""),
    ("a junk top-level attribute (type 99)", u8(99, 1), ""),
    ("ENABLED of the wrong size", attr(A_ENABLED, struct.pack("=I", 1)), ""),
    ("ENABLED = 2", u8(A_ENABLED, 2), "out of range"),
    ("PORTS not nested", attr(A_PORTS, struct.pack("=HHH", 6, 1, 80) + b"\0\0"), ""),
    ("a truncated attribute", struct.pack("=HH", 40, A_PORTS | NLA_F_NESTED) + b"\0" * 4, ""),
    ("a source with host bits", nest(A_SOURCES, prefix("10.0.0.1", 24)), "host bits"),
    ("a source of length 33", nest(A_SOURCES, prefix("10.0.0.0", 33)), "out of range"),
    ("a source without its length",
     nest(A_SOURCES, nest(SRC_A_PREFIX, attr(PFX_A_ADDR4, socket.inet_aton("10.0.0.0")))),
     "needs ADDR4 and LEN"),
    ("65 sources", nest(A_SOURCES, *[prefix(f"10.{i}.0.0", 16) for i in range(65)]),
     "too many source prefixes"),
    ("good ports with a bad source list",
     nest(A_PORTS, u16(PORT_A_PORT, 6080)) + nest(A_SOURCES, prefix("10.0.0.1", 8)), "host bits"),
]
for name, payload, want in cases:
    err, text, _ = request(FAM, CMD_SET_CONFIG, VER, payload)
    # policy range checks answer ERANGE ("integer out of range"), the rest EINVAL
    code = errno.ERANGE if want == "out of range" else errno.EINVAL
    check(f"SET with {name}: {errno.errorcode[code]}{' (' + want + ')' if want else ''}",
          err == code and want in text, f"got {os.strerror(err) if err else 'success'}: '{text}'")
check("the configuration is unchanged after all of them", config() == before)
print(f"{passes} passed, {fails} failed")
sys.exit(1 if fails else 0)
