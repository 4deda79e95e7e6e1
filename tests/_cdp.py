"""A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (no websocket).

Used by the browser test (and handy by hand): open a local HTML file in headless Chromium,
collect console messages, exceptions, log entries and network requests, evaluate expressions
and take screenshots. Chromium reads commands from its fd 3 and writes replies to its fd 4,
each message a JSON object followed by a NUL byte.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def _high_pipe() -> tuple[int, int]:
    """A pipe whose two fds are >= 10, so that they never collide with fds 3 and 4."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return ends[0], ends[1]


class CDPError(RuntimeError):
    """The browser answered a command with an error, or did not answer in time."""


class Browser:
    """Headless Chromium driven over a pipe; use as a context manager."""

    def __init__(self, binary: str, *, timeout: float = 60.0, hide_scrollbars: bool = True) -> None:
        """``hide_scrollbars=False`` draws scrollbars as a desktop browser does, taking their
        width from the box they scroll (a tall table's own vertical one, ~15 px)."""
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._id = 0
        self._buf = b""
        self._profile = tempfile.mkdtemp(prefix="vanishlab-chromium-")
        to_child_r, self._to_child = _high_pipe()
        self._from_child, from_child_w = _high_pipe()
        # bash (dash takes one-digit fds only) moves our pipe ends onto fds 3 and 4, where
        # Chromium expects them.
        shown = [f for f in FLAGS if hide_scrollbars or f != "--hide-scrollbars"]
        flags = " ".join([*shown, f"--user-data-dir={self._profile}"])
        command = (
            f"exec {binary} {flags} 3<&{to_child_r} 4>&{from_child_w} "
            f"{to_child_r}<&- {from_child_w}>&-"
        )
        # Chromium keeps its crash reports (~/.config/chromium) and dconf's cache (~/.cache)
        # in the home folder whatever --user-data-dir says: every run of the suite wrote
        # there. Its home is the profile, removed with it.
        home = dict.fromkeys(("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"), self._profile)
        self._proc = subprocess.Popen(
            [shutil.which("bash") or "/bin/bash", "-c", command],
            env={**os.environ, **home},
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.session: str | None = None

    def __enter__(self) -> Browser:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.session = None
            self.send("Browser.close", timeout=10)
        except (CDPError, OSError):
            pass
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stderr is not None:
            self._proc.stderr.close()
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    # ---- protocol

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError("timed out waiting for the browser")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise CDPError("the browser closed the pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a command (to the page session once attached) and return its result."""
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise CDPError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, *, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the next event named ``method`` (events seen meanwhile are kept)."""
        for event in self.events:
            if event["method"] == method:
                return event
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            event = self._read(deadline)
            if "method" in event:
                self.events.append(event)
                if event["method"] == method:
                    return event

    # ---- conveniences

    def open(self, path: Path, *, width: int = 1280, height: int = 4000) -> None:
        """Load a local file in a ``width`` x ``height`` viewport and wait for its load event."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (DevTools is exempt from its CSP)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise CDPError(f"evaluate failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = False, clip: dict | None = None) -> Path:
        """Save a PNG of the viewport, of the whole page, or of ``clip`` (CSS pixels)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
        if clip is not None:
            params["clip"] = {**clip, "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and error log entries so far."""
        out = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in (
                "error",
                "warning",
                "assert",
            ):
                args = [a.get("value", a.get("description", "")) for a in params.get("args", [])]
                out.append(f"console.{params['type']}: {args}")
            elif method == "Runtime.exceptionThrown":
                out.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                entry = params["entry"]
                out.append(f"log {entry['level']} ({entry.get('source')}): {entry.get('text')}")
            elif method == "Network.loadingFailed":
                out.append(f"failed request: {params.get('errorText')}")
        return out

    def requests(self) -> list[str]:
        """URLs of every request the page made."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]
