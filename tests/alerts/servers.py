"""Local receivers for delivery tests: an HTTP server (Slack, SMS gateway, webhook receiver) and
an SMTP server (aiosmtpd), both on 127.0.0.1 in this process, each recording what it received and
answering from a script.

    with HttpReceiver(Reply.retry_after(1), Reply(200)) as slack:
        send_digest(SlackChannel("ops", slack.url_for("/services/T/B/x")), digest, ...)
        first, second = slack.requests
        first.json(), first.headers["content-type"]

    with SmtpReceiver("451 4.3.0 try again later") as smtp:   # then "250 OK"
        send_digest(EmailChannel("ops", ["a@b.example"], smtp.target()), digest, ...)
        smtp.messages[0].message["Subject"]

Replies are used in order, one per request; when the script runs out every further request gets
the ``default`` (200 "ok"; "250 OK").
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast

from aiosmtpd.controller import Controller

from siteledger.delivery import SmtpTarget


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class CapturedRequest:
    """One request as the receiver got it; header names lower-cased."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.monotonic()

    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """A form-encoded body, one value per field."""
        return dict(
            urllib.parse.parse_qsl(self.text(), keep_blank_values=True, strict_parsing=True)
        )

    @property
    def query(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: ``body`` bytes, text, or a function of the request (an echo)."""

    status: int = 200
    body: bytes | str | Callable[[CapturedRequest], bytes | str] = b"ok"
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def retry_after(cls, seconds: float | str, status: int = 429) -> Reply:
        return cls(status, b"rate_limited", {"Retry-After": str(seconds)})

    @classmethod
    def echo(cls, status: int = 500) -> Reply:
        """An error page that repeats the request line and headers (as careless servers do)."""

        def page(request: CapturedRequest) -> str:
            lines = [f"{request.method} {request.path}"]
            lines += [f"{k}: {v}" for k, v in request.headers.items()]
            return "\n".join(lines)

        return cls(status, page)

    def content(self, request: CapturedRequest) -> bytes:
        body = self.body(request) if callable(self.body) else self.body
        return body.encode() if isinstance(body, str) else body


def _reply(value: Reply | int) -> Reply:
    return value if isinstance(value, Reply) else Reply(value, b"" if value == 204 else b"ok")


class HttpReceiver:
    """An HTTP server on 127.0.0.1 (a free port) in a thread; ``start``/``stop`` or ``with``."""

    def __init__(self, *replies: Reply | int, default: Reply | int = 200) -> None:
        self._replies: deque[Reply] = deque(_reply(r) for r in replies)
        self.default = _reply(default)
        self._requests: list[CapturedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def script(self, *replies: Reply | int) -> None:
        """Answer the next requests with ``replies`` (after any still scripted)."""
        with self._lock:
            self._replies.extend(_reply(r) for r in replies)

    @property
    def requests(self) -> list[CapturedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, path: str) -> str:
        return self.url + (path if path.startswith("/") else "/" + path)

    def _answer(self, request: CapturedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            return self._replies.popleft() if self._replies else self.default

    def start(self) -> Self:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = CapturedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                    received_at=time.monotonic(),
                )
                reply = receiver._answer(request)
                content = reply.content(request)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class CapturedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return cast(
            EmailMessage, email.message_from_bytes(self.content, policy=email.policy.default)
        )

    def part(self, subtype: str) -> str:
        """The text of the ``plain`` or ``html`` part, with ``\n`` line ends (CRLF on the wire)."""
        body = self.message.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        return cast(EmailMessage, body).get_content().replace("\r\n", "\n")


class _Inbox:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.receiver._answer(envelope)


class SmtpReceiver:
    """An SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts; ``replies``
    answer the DATA of successive messages ("250 OK" accepts, "451 ..." or "550 ..." refuse).
    Other keyword arguments go to aiosmtpd's ``Controller`` (``tls_context``,
    ``require_starttls``, ``authenticator``, ``auth_required``)."""

    def __init__(self, *replies: str, default: str = "250 OK", **controller: Any) -> None:
        self._replies: deque[str] = deque(replies)
        self.default = default
        self._messages: list[CapturedMail] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(
            _Inbox(self), hostname="127.0.0.1", port=self.port, **controller
        )

    @property
    def messages(self) -> list[CapturedMail]:
        with self._lock:
            return list(self._messages)

    def target(self, **fields: Any) -> SmtpTarget:
        """An SMTP target for this server (``fields`` override the defaults)."""
        return SmtpTarget(**{"host": "127.0.0.1", "port": self.port, "timeout": 5.0, **fields})

    def _answer(self, envelope: Any) -> str:
        with self._lock:
            reply = self._replies.popleft() if self._replies else self.default
            if reply.startswith("250"):
                self._messages.append(
                    CapturedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
                )
            return reply

    def start(self) -> Self:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
