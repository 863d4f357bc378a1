"""Slow clients are cut off (issue 11): a half-sent request head and a trickled body no longer
hold a connection and a worker for ever. A real `fieldcards serve`, with the deadlines shortened."""

from __future__ import annotations

import socket
import sqlite3
from urllib.parse import urlparse

from tests.conftest import Server, start_server, stop_server


def test_a_half_sent_head_is_cut_off_and_a_trickled_body_gets_408(tmp_path):
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup", env={"FIELDCARDS_HEADER_DEADLINE_S": "1", "FIELDCARDS_BODY_DEADLINE_S": "1"})
    srv = Server(url, data, proc)
    try:
        token = srv.user("rep1")
        address = (urlparse(url).hostname, urlparse(url).port)
        with socket.create_connection(address, timeout=10) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            assert slow.recv(1024) == b""  # the server closed it (our own 10 s timeout would raise instead)
        with socket.create_connection(address, timeout=10) as slow:
            slow.sendall(
                b"POST /api/v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + token.encode()
                + b'\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"device"'
            )
            answer = slow.recv(4096)
            while b'"fields"' not in answer and (more := slow.recv(4096)):
                answer += more
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            assert b'"code":"timeout"' in answer
        with socket.create_connection(address, timeout=10) as fine:  # and the server still serves
            fine.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert fine.recv(1024).startswith(b"HTTP/1.1 200")
    finally:
        assert "Traceback" not in stop_server(srv.proc)


def test_a_client_that_goes_away_in_the_middle_of_its_body_leaves_no_traceback(tmp_path):
    """A phone that loses its signal while it sends a sync (the connection closes before the body
    has arrived): nothing is applied, the server logs a line, not an unhandled error, and serves on."""
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup")
    srv = Server(url, data, proc)
    try:
        token = srv.user("rep1")
        address = (urlparse(url).hostname, urlparse(url).port)
        for _ in range(3):
            with socket.create_connection(address, timeout=10) as gone:
                gone.sendall(
                    b"POST /api/v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + token.encode()
                    + b'\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"device": "d1", "mutations": ['
                )
        with socket.create_connection(address, timeout=10) as fine:
            fine.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert fine.recv(1024).startswith(b"HTTP/1.1 200")
    finally:
        output = stop_server(srv.proc)
    assert "Traceback" not in output and "unhandled error" not in output, output
    with sqlite3.connect(data / "fieldcards.db") as conn:  # nothing of the half-sent syncs was applied
        assert conn.execute("SELECT count(*) FROM devices WHERE id = 'd1'").fetchone()[0] == 0
