#!/usr/bin/env python3
"""Makerdeck test-rig STAND-IN for a service whose real image cannot be built here.

It is NOT the real service: it answers the real one's port and health/status endpoints (with the
same status codes and JSON shapes as far as Makerdeck looks at them), marks every response with
`X-Makerdeck-Stand-In: true`, and answers everything else with 501. Which service it plays comes
from STAND_IN_SERVICE (kapacitor, chronograf, grafana, portainer), set by the image.
Extra command-line arguments (a compose `command:` meant for the real image) are ignored.
"""
import json
import os
import signal
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE = os.environ.get("STAND_IN_SERVICE", "")
IMAGE = os.environ.get("STAND_IN_IMAGE", SERVICE)
VERSION = os.environ.get("STAND_IN_VERSION", "0.0.0")
PORT = int(os.environ.get("STAND_IN_PORT", "0") or 0)


def no_content(extra=None):
    return (204, extra or {}, None)


def as_json(obj, status=200, extra=None):
    return (status, {"Content-Type": "application/json", **(extra or {})}, json.dumps(obj).encode())


def html(title):
    body = f"<!doctype html><title>{title} (stand-in)</title><h1>{title}</h1><p>Makerdeck test-rig stand-in for {IMAGE}: not the real service.</p>\n"
    return (200, {"Content-Type": "text/html; charset=utf-8"}, body.encode())


# path -> () -> (status, headers, body). Paths match exactly, with or without a trailing slash.
ROUTES = {
    "kapacitor": {
        "/kapacitor/v1/ping": lambda: no_content({"X-Kapacitor-Version": VERSION}),
        "/kapacitor/v1preview/ping": lambda: no_content({"X-Kapacitor-Version": VERSION}),
        "/kapacitor/v1/debug/vars": lambda: as_json({"version": VERSION, "stand_in": True}),
    },
    "chronograf": {
        "/ping": lambda: no_content(),
        "/chronograf/v1": lambda: as_json(
            {
                "layouts": "/chronograf/v1/layouts",
                "sources": "/chronograf/v1/sources",
                "me": "/chronograf/v1/me",
                "dashboards": "/chronograf/v1/dashboards",
                "config": {"self": "/chronograf/v1/config", "auth": "/chronograf/v1/config/auth"},
                "environment": "/chronograf/v1/env",
                "external": {"statusFeed": ""},
                "flux": {"ast": "/chronograf/v1/flux/ast", "self": "/chronograf/v1/flux", "suggestions": "/chronograf/v1/flux/suggestions"},
                "version": VERSION,
                "stand_in": True,
            }
        ),
        "/": lambda: html("Chronograf"),
    },
    "grafana": {
        "/api/health": lambda: as_json({"commit": "makerdeck-stand-in", "database": "ok", "version": VERSION}),
        "/login": lambda: html("Grafana"),
        "/": lambda: html("Grafana"),
    },
    "portainer": {
        "/api/system/status": lambda: as_json({"Version": VERSION, "InstanceID": "makerdeck-stand-in"}),
        "/api/status": lambda: as_json({"Version": VERSION, "InstanceID": "makerdeck-stand-in"}),
        "/api/system/version": lambda: as_json({"ServerVersion": VERSION, "UpdateAvailable": False, "LatestVersion": VERSION}),
        "/": lambda: html("Portainer"),
    },
}


class Handler(BaseHTTPRequestHandler):
    server_version = f"makerdeck-stand-in/{SERVICE}"
    protocol_version = "HTTP/1.1"

    def route(self):
        path = self.path.split("?", 1)[0]
        table = ROUTES[SERVICE]
        fn = table.get(path) or table.get(path.rstrip("/") or "/")
        if fn is None:
            return as_json({"error": f"makerdeck stand-in for {IMAGE}: {path} is not implemented", "stand_in": True}, 501)
        return fn()

    def respond(self, send_body):
        status, headers, body = self.route()
        self.send_response(status)
        self.send_header("X-Makerdeck-Stand-In", "true")
        for k, v in headers.items():
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        if send_body and body and status != 204:
            self.wfile.write(body)

    def do_GET(self):
        self.respond(True)

    def do_HEAD(self):
        self.respond(False)

    def other(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.respond(True)

    do_POST = do_PUT = do_PATCH = do_DELETE = other

    def log_message(self, fmt, *args):
        sys.stdout.write("stand-in %s: %s %s\n" % (SERVICE, self.address_string(), fmt % args))
        sys.stdout.flush()


def health_path():
    return {"kapacitor": "/kapacitor/v1/ping", "chronograf": "/ping", "grafana": "/api/health", "portainer": "/api/system/status"}[SERVICE]


def main():
    if SERVICE not in ROUTES or not PORT:
        sys.exit(f"stand-in: STAND_IN_SERVICE must be one of {sorted(ROUTES)} and STAND_IN_PORT set (got {SERVICE!r}, {PORT!r})")
    if "--check" in sys.argv[1:]:  # usable as a healthcheck: exit 0 iff the health endpoint answers 2xx
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{health_path()}", timeout=3) as r:
                sys.exit(0 if 200 <= r.status < 300 else 1)
        except Exception as e:  # noqa: BLE001
            sys.exit(f"stand-in check failed: {e}")
    ignored = f" (ignoring arguments {sys.argv[1:]})" if sys.argv[1:] else ""
    print(f"makerdeck stand-in for {IMAGE} {VERSION}: NOT the real {SERVICE}; serving its health endpoints on :{PORT}{ignored}", flush=True)
    httpd = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    httpd.daemon_threads = True
    # PID 1 in a container gets no default SIGTERM action: stop on it (docker stop) and on SIGINT.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
