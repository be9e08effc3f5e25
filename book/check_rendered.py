#!/usr/bin/env python
"""Open every page of the built book in headless Chromium and check that it really rendered.

    python book/check_rendered.py           # _build/html; screenshots to _build/screenshots
    python book/check_rendered.py --html out/_build/html

For each page listed in ``_toc.yml`` the built HTML is served from 127.0.0.1 and loaded by
``chromium --headless --dump-dom`` with a virtual-time budget, so that MathJax and the widget
manager run; a small probe script added to the served copy records load failures and JavaScript
errors. The post-JavaScript DOM is then inspected here:

* no script or stylesheet comes from another host (MathJax, RequireJS and the widget manager are
  vendored under ``_static/``), and no request for a local file failed;
* every image of a cell output is present and loaded;
* every math element was typeset by MathJax (``mjx-container``, no ``mjx-merror``);
* every table has data rows;
* a page that stores widget state shows a rendered view for each of its widget outputs;
* no JavaScript error was raised.

A screenshot of every page (the opening page, each chapter, the glossary) goes to ``--screenshots``.
Exit status 1 with a list of failures when any check fails, 2 when Chromium is missing.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bookinfo  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1280,1500"]
# External images allowed on a page (they need the network and are not part of the book's output).
ALLOWED_IMAGE_HOSTS = {"colab.research.google.com"}
# JavaScript errors that are known, harmless and not the book's: sphinx-thebe (bundled with
# Jupyter Book 1) adds its inline `const THEBE_JS_URL = ...` script twice to every page; the
# second copy raises at parse time and changes nothing (live code via thebe is not used here).
KNOWN_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)
# Requests a browser makes on its own, not asked for by the page.
IGNORED_REQUESTS = {"/favicon.ico"}
PROBE_ID = "__render_probe__"
PROBE = """<script>(function () {
  var errors = [];
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) {
      errors.push("failed to load " + (t.src || t.href));
    } else {
      errors.push("JavaScript error: " + e.message);
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    errors.push("unhandled rejection: " + (e.reason && (e.reason.message || e.reason)));
  });
  function settled() {
    var views = document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]');
    var shown = document.querySelectorAll(".widget-subarea > *").length;
    var math = document.querySelectorAll(".math").length;
    var typeset = document.querySelectorAll(".math mjx-container").length;
    return shown >= views.length && typeset >= math;
  }
  function report() {
    var images = Array.prototype.map.call(document.images, function (img) {
      return {src: img.currentSrc || img.src, loaded: img.complete && img.naturalWidth > 0};
    });
    var out = document.createElement("pre");
    out.id = "%s"; out.style.display = "none";
    out.textContent = JSON.stringify({images: images, errors: errors});
    document.body.appendChild(out);
  }
  window.addEventListener("load", function () {
    var waited = 0;
    (function poll() {
      if (settled() || waited >= 8000) { report(); return; }
      waited += 250; setTimeout(poll, 250);
    })();
  });
})();</script>""" % PROBE_ID


class Server:
    """A quiet static file server on 127.0.0.1 that can add the probe to the HTML it serves."""

    def __init__(self, folder: Path):
        self.requests: list[tuple[str, int]] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def send_head(self):  # noqa: D102  (add the probe to pages asked for with ?probe)
                parts = urlsplit(self.path)
                if parts.query == "probe" and parts.path.endswith(".html"):
                    page = Path(self.translate_path(parts.path))
                    if page.is_file():
                        html = page.read_text(encoding="utf-8")
                        body = html.replace("<head>", "<head>" + PROBE, 1).encode("utf-8")
                        self.send_response(200)
                        self.send_header("Content-Type", "text/html; charset=utf-8")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        return _Bytes(body)
                return super().send_head()

            def log_request(self, code="-", size="-"):
                status = int(code) if str(code).isdigit() else 0
                server.requests.append((urlsplit(self.path).path, status))

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, relative: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{relative}"

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Bytes:
    """The minimal file object SimpleHTTPRequestHandler.copyfile needs for an in-memory body."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, *args) -> bytes:
        data, self.data = self.data, b""
        return data

    def close(self) -> None:
        pass


def find_chromium(given: str | None) -> str:
    for name in ([given] if given else ["chromium", "chromium-browser", "google-chrome"]):
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError(f"no Chromium found ({given or 'chromium'}); on Debian: "
                            f"apt-get update && apt-get install -y chromium")


def chromium(binary: str, url: str, budget_ms: int, *, screenshot: Path | None = None) -> str:
    """Load a page headlessly; return its DOM after the virtual-time budget (or screenshot it)."""
    with tempfile.TemporaryDirectory() as profile:
        command = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                   f"--virtual-time-budget={budget_ms}"]
        command += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
        result = subprocess.run(command + [url], capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        raise RuntimeError(f"chromium exited with {result.returncode} on {url}: "
                           f"{result.stderr.strip()[-2000:]}")
    return result.stdout


def external(url: str | None) -> bool:
    """True for an address on another host (http, https or protocol-relative)."""
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https", "") and bool(parts.netloc)


def check_static(html: str) -> list[str]:
    """Problems visible in the HTML as built: view-time code or styles from other hosts, figure
    images whose alt text is only their file (`figure_alt` gives them their caption)."""
    soup = BeautifulSoup(html, "html.parser")
    found = [f"script from another host: {tag['src']}" for tag in soup.find_all("script", src=True)
             if external(tag["src"])]
    found += [f"stylesheet from another host: {tag['href']}"
              for tag in soup.find_all("link", href=True)
              if external(tag["href"]) and {"stylesheet", "preload"} & set(tag.get("rel", []))]
    found += ["widget manager told to fetch from a CDN (data-jupyter-widgets-cdn)"
              for tag in soup.find_all(attrs={"data-jupyter-widgets-cdn": True})]
    found += [f"figure image described only by its file: {img.get('src')}"
              for img in soup.select("figure img") if img.get("alt", "") in ("", img.get("src"))]
    return found


def check_dom(dom: str, page_url: str) -> tuple[list[str], dict[str, int]]:
    """Problems of the rendered DOM and counts of what rendered (figures, math, tables, widgets)."""
    soup = BeautifulSoup(dom, "html.parser")
    probe_tag = soup.find(id=PROBE_ID)
    if probe_tag is None:
        return ["the page did not finish loading (no probe report)"], {}
    probe = json.loads(probe_tag.get_text())
    found = [error for error in probe["errors"]
             if not any(allowed in error for allowed in (*ALLOWED_IMAGE_HOSTS, *KNOWN_ERRORS))]
    loaded = {image["src"]: image["loaded"] for image in probe["images"]}

    figures = soup.select(".cell_output img")
    for img in figures:
        src = img.get("src", "")
        if not loaded.get(urljoin(page_url, src), False):
            found.append(f"output image not loaded: {src}")

    math = soup.select(".math")
    untypeset = [node for node in math if node.find("mjx-container") is None]
    if untypeset:
        found.append(f"{len(untypeset)} of {len(math)} math elements not typeset by MathJax, "
                     f"e.g. {untypeset[0].get_text()[:60]!r}")
    merrors = soup.find_all("mjx-merror")
    if merrors:
        found.append(f"{len(merrors)} MathJax errors, e.g. {merrors[0].get_text()[:60]!r}")

    tables = soup.find_all("table")
    for table in tables:
        if not table.find("td"):
            found.append("a table has no data cells")

    views = soup.find_all("script", type="application/vnd.jupyter.widget-view+json")
    has_state = soup.find("script", type="application/vnd.jupyter.widget-state+json") is not None
    shown = [area for area in soup.select(".widget-subarea") if area.find(True)]
    if views and not has_state:
        found.append(f"{len(views)} widget outputs but no widget state stored in the notebook")
    elif has_state and len(shown) < len(views):
        found.append(f"only {len(shown)} of {len(views)} widget views rendered")
    counts = {"figures": len(figures), "math": len(math), "tables": len(tables),
              "widgets": len(shown)}
    return found, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=bookinfo.ROOT / "_build" / "html",
                        help="built HTML folder (default: %(default)s)")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="folder for the PNG screenshots (default: <html>/../screenshots)")
    parser.add_argument("--chromium", default=None, help="Chromium binary (default: found on PATH)")
    parser.add_argument("--budget", type=int, default=15000,
                        help="virtual-time budget per page in ms (default: %(default)s)")
    args = parser.parse_args(argv)
    html_dir = args.html.resolve()
    shots = (args.screenshots or html_dir.parent / "screenshots").resolve()
    try:
        binary = find_chromium(args.chromium)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not (html_dir / "index.html").is_file():
        print(f"error: {html_dir / 'index.html'} does not exist: build the book first "
              f"(python book/build.py)", file=sys.stderr)
        return 1

    pages = [name + ".html" for name in bookinfo.toc_docnames()]
    failures: list[str] = []
    with Server(html_dir) as server:
        for page in pages:
            if not (html_dir / page).is_file():
                failures.append(f"{page}: not built")
                continue
            built = (html_dir / page).read_text(encoding="utf-8")
            found = [f"{page}: {problem}" for problem in check_static(built)]
            before = len(server.requests)
            dom = chromium(binary, server.url(page) + "?probe", args.budget)
            problems, counts = check_dom(dom, server.url(page))
            found += [f"{page}: {problem}" for problem in problems]
            found += [f"{page}: request failed with {code}: {path}"
                      for path, code in server.requests[before:]
                      if code >= 400 and path not in IGNORED_REQUESTS]
            summary = ", ".join(f"{value} {key}" for key, value in counts.items())
            print(f"{'FAIL' if found else 'ok  '} {page}: {summary}", flush=True)
            failures += found
        shots.mkdir(parents=True, exist_ok=True)
        for page in pages:  # every page of the book: the opening page, each chapter, the glossary
            target = shots / (Path(page).stem + ".png")
            chromium(binary, server.url(page), args.budget, screenshot=target)
            if not target.is_file() or target.stat().st_size == 0:
                failures.append(f"{page}: no screenshot written to {target}")
            else:
                print(f"screenshot: {target}")
    if failures:
        print(f"\n{len(failures)} rendering failure(s):", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print(f"all {len(pages)} page(s) rendered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
