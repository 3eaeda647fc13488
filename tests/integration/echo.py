#!/usr/bin/env python3
"""Tiny request/response TCP service and clients for the tickle tests.

Stands in for NFS/SMB: a server bound on every node, clients in the client
namespace that talk to a VIP.  Every line printed by a client starts with
epoch milliseconds, so the tests can line events up with corosync's logs.

  echo.py server PORT NAME          answer each line with "NAME <line>"
  echo.py server6 PORT NAME         the same on a dual-stack socket bound to
        ::, as NFS and SMB servers listen (IPv4 clients show up as IPv4-mapped)
  echo.py client ADDR PORT [INTERVAL_MS] [TIMEOUT_S]
        one connection, one request per INTERVAL_MS (default 50); on an
        error (reset, end of file, timeout) it prints the error, reconnects
        and prints "ok_after_reconnect NAME" at the first answer after it
  echo.py hold ADDR PORT N          open N connections, one request each,
        then keep them open and idle, printing "closed I reset|eof" when
        connection I is ended by the other side
"""
import select
import socket
import socketserver
import sys
import threading
import time


def now_ms():
    return int(time.time() * 1000)


def say(*words):
    print(now_ms(), *words, flush=True)


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(self.server.name + b" " + line)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 256


class Server6(Server):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def server(port, name, cls=Server, host="0.0.0.0"):
    srv = cls((host, int(port)), Handler)
    srv.name = name.encode()
    say("listening", port)
    srv.serve_forever()


def server6(port, name):
    server(port, name, Server6, "::")


def request(f, sock, n):
    sock.sendall(b"req %d\n" % n)
    line = f.readline()
    if not line:
        raise EOFError("end of file")
    return line.split()[0].decode()


def client(addr, port, interval_ms="50", timeout_s="60"):
    interval = int(interval_ms) / 1000.0
    timeout = float(timeout_s)
    sock = f = None
    failed = False
    n = 0
    while True:
        try:
            if sock is None:
                sock = socket.create_connection((addr, int(port)), timeout=1)
                sock.settimeout(timeout)
                f = sock.makefile("rb")
            n += 1
            name = request(f, sock, n)
            if failed:
                say("ok_after_reconnect", name)
                failed = False
            elif n == 1:
                say("connected", name)
        except (OSError, EOFError) as e:
            if sock is not None:
                kind = ("reset" if isinstance(e, ConnectionResetError)
                        else "eof" if isinstance(e, EOFError)
                        else "timeout" if isinstance(e, socket.timeout)
                        else type(e).__name__)
                say("error", kind)
                failed = True
                sock.close()
                sock = f = None
                n = 0
            time.sleep(0.02)
            continue
        time.sleep(interval)


def hold(addr, port, count):
    socks = {}
    for i in range(int(count)):
        s = socket.create_connection((addr, int(port)), timeout=5)
        f = s.makefile("rb")
        request(f, s, i)
        s.setblocking(False)
        socks[s] = (i, f)
    say("held", len(socks))
    while socks:
        ready, _, _ = select.select(list(socks), [], [], 1.0)
        for s in ready:
            try:
                if s.recv(4096):
                    continue
                kind = "eof"
            except BlockingIOError:
                continue
            except ConnectionResetError:
                kind = "reset"
            except OSError as e:
                kind = type(e).__name__
            say("closed", socks.pop(s)[0], kind)
            s.close()
    threading.Event().wait()


if __name__ == "__main__":
    cmds = {"server": server, "server6": server6, "client": client, "hold": hold}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
