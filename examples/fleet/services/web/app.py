"""web: a tiny HTTP service on the standard library. --check is the health probe."""

import http.server
import platform
import sys
import urllib.request

PORT = 8000


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"fleet web on {platform.machine()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)


def check() -> int:
    """Health probe: the interpreter runs; if a server is up, it answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=2) as resp:
            return 0 if resp.status == 200 else 1
    except OSError:
        # No server in a smoke run: the interpreter and the app import fine.
        return 0


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(check())
    http.server.ThreadingHTTPServer(("", PORT), Handler).serve_forever()
