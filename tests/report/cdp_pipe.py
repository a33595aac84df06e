"""A headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe).

Python's standard library has no WebSocket client; the pipe transport needs none: Chromium reads
NUL-terminated JSON commands on fd 3 and writes NUL-terminated JSON replies and events on fd 4.
"""

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time


class BrowserError(RuntimeError):
    pass


class Chromium:
    def __init__(self, binary="chromium", width=1400, height=1000, timeout_s=30.0):
        self.timeout_s = timeout_s
        self._profile = tempfile.mkdtemp(prefix="vmeval-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Chromium expects the command pipe at fd 3 and the reply pipe at fd 4. The child's ends
        # are moved above 10 (so they cannot be 3 or 4 already) and bash (dash takes no fd above 9)
        # puts them in place.
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)
        to_browser_r, from_browser_w = high_r, high_w
        wire = f'exec "$0" "$@" 3<&{high_r} 4>&{high_w} {high_r}<&- {high_w}>&-'
        if shutil.which(binary) is None:
            shutil.rmtree(self._profile, ignore_errors=True)
            raise BrowserError(f"{binary} not found: install Debian's chromium (setup/install_deps.sh)")

        args = [
            "/bin/bash", "-c", wire, binary, "--headless", "--remote-debugging-pipe",
            # Root in a container has no usable sandbox; the page is our own local file.
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio",
            "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
            f"--user-data-dir={self._profile}", f"--window-size={width},{height}", "about:blank",
        ]
        # A file, not a pipe: nobody reads Chromium's chatter until something fails.
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(args, pass_fds=(high_r, high_w), stdout=subprocess.DEVNULL,
                                      stderr=self._stderr)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._replies = {}
        self._events = queue.Queue()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self.session = None

    def _read_loop(self):
        buf = b""
        while True:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                with self._cond:
                    self._replies[None] = "closed"
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self._replies[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    self._events.put(msg)

    def send(self, method, params=None, session=True):
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        with self._cond:
            while self._next_id not in self._replies:
                if None in self._replies:
                    raise BrowserError(f"chromium exited during {method}: {self._stderr_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrowserError(f"no answer to {method} within {self.timeout_s}s")
                self._cond.wait(left)
            reply = self._replies.pop(self._next_id)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_event(self, method):
        deadline = time.monotonic() + self.timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no {method} event within {self.timeout_s}s")
            try:
                ev = self._events.get(timeout=left)
            except queue.Empty:
                continue
            if ev.get("method") == method:
                return ev

    def open(self, url):
        """Attaches to the first tab and loads url, returning when its load event fired."""
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression):
        """Runs JavaScript in the page, awaiting a returned promise; returns the JSON value."""
        r = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                           "returnByValue": True})
        if "exceptionDetails" in r:
            raise BrowserError(f"page script threw: {json.dumps(r['exceptionDetails'])[:800]}")
        return r["result"].get("value")

    def screenshot(self, path, width=1400, max_height=None):
        """Saves the whole page (or its top max_height pixels) as PNG. The viewport is made as tall
        as the page first: Chromium does not paint the frames of videos outside the viewport."""
        height = int(self.send("Page.getLayoutMetrics")["cssContentSize"]["height"])
        if max_height is not None:
            height = min(height, max_height)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        # Whole clips are loaded for the picture: with preload=metadata headless Chromium keeps a
        # loading spinner over each poster frame.
        self.evaluate("""(async () => {
            const vids = [...document.querySelectorAll('video')];
            vids.forEach(v => { v.preload = 'auto'; });
            for (const end = Date.now() + 10000; Date.now() < end
                 && !vids.every(v => v.readyState >= 4 || v.error);) await new Promise(r => setTimeout(r, 50));
            // Mid-clip frames say more than first frames (a crossfade shows both images).
            await Promise.all(vids.filter(v => !v.error).map(v => new Promise(r => {
                v.addEventListener('seeked', r, {once: true});
                setTimeout(r, 3000);
                v.currentTime = v.duration / 2;
            })));
            // The controls' loading spinner fades out over about a second after the data arrives.
            await new Promise(r => setTimeout(r, 1500));
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        })()""")
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def _stderr_tail(self):
        self._stderr.seek(0)
        return self._stderr.read()[-800:].decode(errors="replace")

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except BrowserError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._to_browser)
        self._stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
