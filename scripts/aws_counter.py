#!/usr/bin/env python3
"""aws_counter.py PORT UPSTREAM: a counting proxy in front of the AWS emulator, for `make bench-cost`.

Every request is forwarded to UPSTREAM (moto) as it came and answered as moto answered; it is counted by its
operation: the `X-Amz-Target` header of the JSON protocols (DynamoDB `DynamoDB_20120810.PutItem`, DynamoDB Streams
`DynamoDBStreams_20120810.GetRecords`, Secrets Manager `secretsmanager.GetSecretValue`, CloudWatch ...), else
`METHOD /path`. `GET /__counts` answers the counts so far as a JSON object, operation -> calls; moto's own control
routes (`/moto-api/...`) are forwarded, not counted.
"""

import http.client
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS: dict[str, int] = {}
LOCK = threading.Lock()
# Hop-by-hop headers are the proxy's own business, not the upstream's.
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: urllib.parse.SplitResult

    def log_message(self, *args):  # quiet: moto logs every request already
        pass

    def _forward(self):
        if self.command == "GET" and self.path == "/__counts":
            with LOCK:
                body = json.dumps(COUNTS, sort_keys=True).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        if not self.path.startswith("/moto-api"):
            operation = self.headers.get("x-amz-target") or f"{self.command} {self.path.split('?')[0]}"
            with LOCK:
                COUNTS[operation] = COUNTS.get(operation, 0) + 1
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        finally:
            connection.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: aws_counter.py PORT UPSTREAM_URL")
    Proxy.upstream = urllib.parse.urlsplit(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Proxy)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
