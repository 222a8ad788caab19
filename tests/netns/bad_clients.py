#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Clients that misbehave, for tests/netns/test_control_faults.sh, one subcommand each:
#   slow PATH INTERVAL DURATION  connect to the control socket at PATH and send "reload",
#                                one byte every INTERVAL s, never a newline, for at most
#                                DURATION s; print "dropped AFTER_S ANSWER" when the server
#                                closes (AFTER_S from connect), "held DURATION" if it never did
#   idle HOST PORT SECONDS       open a TCP connection, send nothing, hold it; print
#                                "connected" once it is up
#   hold HOST PORT SECONDS       listen on HOST:PORT (taking the port), print "listening"
import select
import socket
import sys
import time


def slow(path, interval, duration):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    start = time.monotonic()
    payload = b'reload' * 100
    i = 0
    while time.monotonic() - start < duration:
        try:
            s.send(payload[i:i + 1])
        except OSError:
            break  # the server closed: the recv below says so
        i += 1
        r, _, _ = select.select([s], [], [], interval)
        if r:
            break
    answer = b''
    try:
        s.settimeout(0.5)
        while True:
            b = s.recv(4096)
            if not b:
                break
            answer += b
    except OSError:
        pass
    elapsed = time.monotonic() - start
    if elapsed >= duration:
        print('held %.2f' % elapsed)
    else:
        print('dropped %.2f %s' % (elapsed, answer.decode(errors='replace').strip() or '(nothing)'))


def idle(host, port, seconds):
    s = socket.create_connection((host, int(port)))
    print('connected', flush=True)
    time.sleep(seconds)
    s.close()


def hold(host, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, int(port)))
    s.listen(1)
    print('listening', flush=True)
    time.sleep(seconds)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'slow':
        slow(args[0], float(args[1]), float(args[2]))
    elif cmd == 'idle':
        idle(args[0], args[1], float(args[2]))
    elif cmd == 'hold':
        hold(args[0], args[1], float(args[2]))
    else:
        sys.exit('bad_clients.py: unknown command ' + cmd)


if __name__ == '__main__':
    main()
