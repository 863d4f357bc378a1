"""Slow clients are cut off. uvicorn closes idle keep-alive connections, but a client that sends
half a request line and then nothing held its connection (and a file descriptor) open forever: 900
such connections stayed open in the hostile run (issue 11). Here the request head must arrive
within HEADER_DEADLINE_S of the connection opening or of the previous response; the body has its
own deadline where it is read (`server/api/body.py`)."""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_DEADLINE_S = 20.0  # the default; `fieldcards serve` sets Config.header_deadline_s on the class


class DeadlineH11Protocol(H11Protocol):
    _head_timer: asyncio.TimerHandle | None = None
    header_deadline_s = HEADER_DEADLINE_S  # set from Config by `fieldcards serve`

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._between_requests() and self._head_timer is None:
            self._arm()  # bytes of a new request on a kept-alive connection: its head has a deadline too
        super().data_received(data)
        if not self._between_requests():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(self.header_deadline_s, self._too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _too_slow(self) -> None:
        self._head_timer = None
        if self._between_requests() and not self.transport.is_closing():
            self.transport.close()
