"""A stand-in for partd that records each request and replies {} to it, so
that the shell tests can see what partctl sends, and that it sends nothing
for a bad command line. Usage: recorder.py LOG PORTFILE; each request is
one line of LOG, "METHOD PATH BODY"; the port it listens on (on 127.0.0.1)
goes to PORTFILE once it accepts connections."""
import http.server
import os
import sys


class Recorder(http.server.BaseHTTPRequestHandler):
    def record(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        with open(sys.argv[1], "a") as log:
            log.write("%s %s %s\n" % (self.command, self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = record

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_port))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
