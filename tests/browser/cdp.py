"""Just enough of the Chrome DevTools Protocol to drive a page in headless Chromium.

No browser-automation package is needed: Chromium is started with a debugging port, and a
small RFC 6455 websocket client (client handshake, masked text frames, fragmented replies,
ping/pong) carries CDP's JSON commands to the page.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)
_WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA


class CdpError(RuntimeError):
    """Chromium answered a command with an error, or a page script threw."""


class WebSocket:
    """A client websocket over an asyncio stream (text messages only, as CDP needs)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, url: str) -> WebSocket:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        key = base64.b64encode(os.urandom(16))
        writer.write(
            f"GET {parts.path} HTTP/1.1\r\n"
            f"Host: {parts.hostname}:{parts.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        await writer.drain()
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status, *lines = head.split("\r\n")
        if " 101 " not in status:
            raise CdpError(f"websocket handshake refused: {status}")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
        expected = base64.b64encode(hashlib.sha1(key + _WEBSOCKET_GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != expected:
            raise CdpError("websocket handshake: wrong Sec-WebSocket-Accept")
        return cls(reader, writer)

    async def send(self, text: str) -> None:
        await self._frame(_TEXT, text.encode())

    async def receive(self) -> str:
        """The next complete text message, answering pings on the way."""
        message = b""
        while True:
            first, second = await self.reader.readexactly(2)
            opcode, final = first & 0x0F, bool(first & 0x80)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(length)
            if opcode == _PING:
                await self._frame(_PONG, payload)
                continue
            if opcode == _CLOSE:
                raise CdpError("Chromium closed the DevTools connection")
            if opcode == _PONG:
                continue
            message += payload
            if final:
                return message.decode()

    async def close(self) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            await self._frame(_CLOSE, b"")
        self.writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await self.writer.wait_closed()

    async def _frame(self, opcode: int, payload: bytes) -> None:
        # Client frames are always masked (RFC 6455 section 5.3).
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)
        await self.writer.drain()


class Page:
    """One page target: send CDP commands, evaluate scripts, wait for what the page shows."""

    def __init__(self, socket: WebSocket) -> None:
        self.socket = socket
        self._next_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        call_id = self._next_id
        await self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self.socket.receive())
            if message.get("id") != call_id:
                continue  # an event, or the answer to an abandoned call
            if "error" in message:
                raise CdpError(f"{method}: {message['error']}")
            result: dict[str, Any] = message["result"]
            return result

    async def evaluate(self, expression: str) -> Any:
        """The value of a script run in the page (awaited if it is a promise)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise CdpError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, *, within_s: float = 30.0) -> Any:
        """Poll until the script's value is truthy; fail with what the page last showed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if loop.time() > deadline:
                shown = await self.evaluate("document.body ? document.body.innerText : ''")
                raise AssertionError(f"page never showed {expression!r}; it shows:\n{shown}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def chromium_page(chromium: str, profile: Path, url: str) -> AsyncIterator[Page]:
    """Headless Chromium opened on ``url``, driven through its DevTools websocket."""
    log = (profile.parent / "chromium.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        url,
        stdout=log,
        stderr=log,
    )
    socket: WebSocket | None = None
    try:
        port = await _debugging_port(profile, process)
        async with httpx.AsyncClient() as client:
            targets = (await client.get(f"http://127.0.0.1:{port}/json/list")).json()
        page_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        socket = await WebSocket.connect(page_url)
        yield Page(socket)
    finally:
        if socket is not None:
            await socket.close()
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


async def _debugging_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    """Chromium writes the port it chose into the profile once DevTools listens."""
    active = profile / "DevToolsActivePort"
    for _ in range(600):
        if active.exists():
            lines = active.read_text().splitlines()
            if lines and lines[0].isdigit():
                return int(lines[0])
        if process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    log = (profile.parent / "chromium.log").read_text(errors="replace")[-2000:]
    raise CdpError(f"Chromium did not open its DevTools port; its log ends:\n{log}")
