"""Memory: RSS idle, with many idle keep-alive connections, and sampled under a soak."""
import socket
import time

from .procs import rss_kib

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def breakdown(pid: int) -> dict:
    """VmRSS split into anonymous memory, file pages (mapped files) and shared memory (the -shm file),
    plus the peak VmHWM, in MiB."""
    return {f: mib(rss_kib(pid, f)) for f in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM")}


def open_idle_connections(port: int, n: int) -> list:
    """n keep-alive connections that each sent one GET /healthz, read the answer, and stay open."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(HEALTHZ)
        socks.append(s)
    for s in socks:
        buf = b""
        while b'"ok"' not in buf:
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError("server closed an idle connection before answering")
            buf += chunk
    return socks


def still_open(socks: list) -> int:
    """How many of the connections still answer a second request."""
    alive = 0
    for s in socks:
        try:
            s.sendall(HEALTHZ)
            alive += b"200 OK" in s.recv(4096)
        except OSError:
            pass
    return alive


def idle_and_connections(pid: int, port: int, n: int = 256) -> dict:
    time.sleep(1)
    idle = rss_kib(pid)
    socks = open_idle_connections(port, n)
    try:
        time.sleep(1)
        with_conns = rss_kib(pid)
        alive = still_open(socks)
    finally:
        for s in socks:
            s.close()
    return {"idle_mib": mib(idle), f"with_{n}_idle_connections_mib": mib(with_conns),
            "connections_still_open": alive, "connections": n}


def sample_while(pid: int, running, interval: float = 10.0) -> list:
    """RSS samples (MiB) every `interval` seconds while running() is true, plus one at the end."""
    samples = [mib(rss_kib(pid))]
    next_at = time.monotonic() + interval
    while running():
        time.sleep(min(1.0, max(0.0, next_at - time.monotonic())))
        if time.monotonic() >= next_at:
            samples.append(mib(rss_kib(pid)))
            next_at += interval
    samples.append(mib(rss_kib(pid)))
    return samples
