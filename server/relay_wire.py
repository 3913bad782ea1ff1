"""The relay channel's fast path: face frames taken straight off the socket's bytes.

Theory of operation
-------------------
aiohttp parses websocket frames into a queue and wakes the handler's task once per message:
a future, a task step and a message object for each 64-byte face frame, which at 15 frames/s
per member is a large share of a relay server's CPU (``bench/relay.py``). Once a relay
channel is authenticated, :class:`FastPathParser` sits in front of aiohttp's parser (the
connection's payload parser, fed by ``data_received``) and splits the byte stream into whole
websocket frames itself:

- a final, masked, uncompressed **binary** frame of at most :data:`MAX_FAST_PAYLOAD` bytes is
  unmasked and handed to ``on_binary`` at once, synchronously;
- any other **whole** frame (text, ping, pong, close) is passed, byte for byte, to aiohttp's
  parser, so aiohttp still does everything else: autoping, the close handshake, text
  messages for the handler's loop;
- anything unusual (fragmented or compressed frames, reserved bits, unmasked or long frames)
  switches the parser to pass-through for good: from then on aiohttp sees every byte,
  including the unusual frame itself, and applies its own checks (1002/1009 closes).

Frames are never split between the two parsers: aiohttp only ever receives whole frames,
so its state between frames is empty, as when it reads the stream itself. The switch to the
fast path happens before the server answers the handshake, and a client sends frames only
after that answer (``docs/protocol.md``). :class:`FastPathProtocol` then takes the
transport's ``data_received`` itself, one call less per read than going through aiohttp's
connection handler, and passes every other transport event on to that handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final, Protocol

MAX_FAST_PAYLOAD: Final[int] = 125
"""Largest payload taken on the fast path: frames whose length fits the 7-bit field."""

_FIN_BINARY: Final[int] = 0x82
"""First header byte of a final, uncompressed binary frame with no reserved bits."""

_FIN: Final[int] = 0x80
"""FIN set, no reserved (compression) bits: the high nibble of a whole, plain frame."""

_WHOLE_OPCODES: Final[frozenset[int]] = frozenset({0x1, 0x2, 0x8, 0x9, 0xA})
"""Text, binary, close, ping, pong: the frames this parser keeps whole (no continuations)."""

_MASKED: Final[int] = 0x80


class PayloadParser(Protocol):
    """What aiohttp's connection calls on its payload parser (``WebSocketReader``)."""

    def feed_data(self, data: bytes) -> tuple[bool, bytes]: ...

    def feed_eof(self) -> None: ...


def unmask(payload: bytes, mask: bytes) -> bytes:
    """``payload`` XOR the repeating 4-byte ``mask`` (RFC 6455 section 5.3)."""
    size = len(payload)
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        size, "little"
    )


class FastPathParser:
    """Sits where aiohttp's websocket parser sat; see the module docstring."""

    def __init__(self, inner: PayloadParser, on_binary: Callable[[bytes], None]) -> None:
        self._inner = inner
        self._on_binary = on_binary
        self._buffer = b""
        self.passthrough = False
        """True once an unusual frame handed the stream to aiohttp for good."""
        self.fast_frames = 0
        """Binary frames taken on the fast path."""

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        """Take bytes from the connection (``RequestHandler.data_received``)."""
        if self.passthrough:
            return self._inner.feed_data(data)
        buf = self._buffer + data if self._buffer else bytes(data)
        size = len(buf)
        pos = 0
        forward_from = -1
        while size - pos >= 2:
            first, second = buf[pos], buf[pos + 1]
            length = second & 0x7F
            if (
                first & 0xF0 != _FIN
                or first & 0x0F not in _WHOLE_OPCODES
                or not second & _MASKED
                or length > MAX_FAST_PAYLOAD
            ):
                forward_from = pos
                break
            end = pos + 6 + length
            if end > size:
                break
            if first == _FIN_BINARY:
                self.fast_frames += 1
                self._on_binary(unmask(buf[pos + 6 : end], buf[pos + 2 : pos + 6]))
            else:
                eof, _ = self._inner.feed_data(buf[pos:end])  # text, ping, pong, close
                if eof:
                    self._buffer = b""
                    return True, b""
            pos = end
            if self.passthrough:  # a handler turned the fast path off meanwhile
                forward_from = pos
                break
        if forward_from >= 0:
            self.passthrough = True
            self._buffer = b""
            rest = buf[forward_from:]
            return self._inner.feed_data(rest) if rest else (False, b"")
        self._buffer = buf[pos:]
        return False, b""

    def feed_eof(self) -> None:
        """The connection ended: aiohttp's reader ends the handler's loop."""
        self._buffer = b""
        self._inner.feed_eof()


class ConnectionHandler(Protocol):
    """The parts of aiohttp's connection handler (``RequestHandler``) the transport calls."""

    def eof_received(self) -> bool | None: ...

    def connection_lost(self, exc: BaseException | None) -> None: ...

    def pause_writing(self) -> None: ...

    def resume_writing(self) -> None: ...

    def close(self) -> None: ...


class FastPathProtocol(asyncio.Protocol):
    """The transport's protocol once the fast path is on: bytes go straight to the
    :class:`FastPathParser` (aiohttp's handler would only forward them there after its own
    checks), and every other transport event still goes to aiohttp's handler, which keeps
    owning the connection's lifecycle."""

    def __init__(self, handler: ConnectionHandler, parser: FastPathParser) -> None:
        self._handler = handler
        self._parser = parser

    def data_received(self, data: bytes) -> None:
        """Bytes from the socket: parse them; the close frame's end of stream closes."""
        eof, _ = self._parser.feed_data(data)
        if eof:
            self._handler.close()

    def eof_received(self) -> bool | None:
        """The peer half-closed: aiohttp decides."""
        return self._handler.eof_received()

    def connection_lost(self, exc: BaseException | None) -> None:
        """The connection ended: aiohttp's handler tears down (and ends the parser)."""
        self._handler.connection_lost(exc)

    def pause_writing(self) -> None:
        """Flow control, as aiohttp's handler does it."""
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        """Flow control, as aiohttp's handler does it."""
        self._handler.resume_writing()
