#!/usr/bin/env python3
"""A bounded soak of a live `kb serve`: many concurrent mixed clients for a fixed time.

Standard library only. Each client loops until the deadline, picking one of: search, ask
(non-streaming), ask streaming and abandoned (while queued, or after the first bytes, with a FIN or
a TCP reset), a non-streaming ask or chat completion whose client resets the connection, chat
completion, an upload of a small JSON Lines body with the key, and a bad request (malformed JSON,
wrong types, a missing key, an unknown path, an over-long query). Meanwhile the server's RSS is
sampled from /proc/PID/status.

Passes when:
  - the server is alive at the end and answers /healthz;
  - no request got a 5xx, except 503 with Retry-After on a valid request (an overload refusal, like
    429: both are counted apart as refusals); a bad request always gets a 4xx, a valid one never
    does (but 429);
  - no connection failed other than those the client abandoned itself;
  - after the load, /metrics shows the generation queue and active generations back to zero
    (within --drain-seconds), and one more answer comes back 200;
  - the final RSS is within --rss-slack-mib of the RSS measured after warm-up, before the load.

Prints a summary and exits 1 on any failure. Only loopback addresses are accepted.
"""

import argparse
import http.client
import json
import os
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse
from collections import Counter

ACTIONS = [  # (name, weight)
    ("search", 30),
    ("ask", 12),
    ("ask_stream_abandon", 12),
    ("ask_hang_up", 4),
    ("chat", 10),
    ("upload", 10),
    ("bad_request", 22),
]

QUESTIONS = [
    "How are old logs compressed?",
    "When do backups run?",
    "How fast does the replica take over?",
    "Which port does the service listen on?",
    "混合检索是什么？",
    "How do I restore a backup?",
]


class Soak:
    def __init__(self, args):
        url = urllib.parse.urlsplit(args.url)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            sys.exit(f"soak: refusing {args.url}: only loopback addresses")
        self.host, self.port = url.hostname, url.port or 80
        self.args = args
        self.key = args.key
        self.lock = threading.Lock()
        self.statuses = Counter()  # (action, status) -> count
        self.refusals = Counter()  # action -> 429/503-with-Retry-After count
        self.failures = []  # descriptions
        self.failure_count = 0
        self.requests = 0
        self.abandoned = 0
        self.refused_503 = 0
        self.rss_samples = []
        self.stop_sampling = threading.Event()

    # MARK: - HTTP

    def connection(self, timeout):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=None):
        """One request on a new connection: (status, headers, body bytes)."""
        connection = self.connection(timeout or self.args.request_timeout)
        try:
            data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
            hdrs = {"Content-Type": "application/json", "Connection": "close"}
            hdrs.update(headers or {})
            connection.request(method, path, body=data, headers=hdrs)
            response = connection.getresponse()
            return response.status, dict((k.lower(), v) for k, v in response.getheaders()), response.read()
        finally:
            connection.close()

    def record(self, action, status, headers, valid, body=b""):
        with self.lock:
            self.requests += 1
            self.statuses[(action, status)] += 1
            detail = body[:200].decode(errors="replace")
            if status in (429, 503) and valid and "retry-after" in headers:
                self.refusals[action] += 1
                self.refused_503 += status == 503
            elif status >= 500:
                self.fail(f"{action}: {status} {detail}")
            elif valid and status >= 400:
                self.fail(f"{action}: a valid request got {status} {detail}")
            elif not valid and not 400 <= status < 500:
                self.fail(f"{action}: a bad request got {status} {detail}")

    def fail(self, description):  # under self.lock
        self.failure_count += 1
        if len(self.failures) < 20:
            self.failures.append(description)

    # MARK: - Actions

    def auth(self):
        return {"Authorization": f"Bearer {self.key}"}

    def search(self, rng):
        body = {"query": rng.choice(QUESTIONS), "top_k": rng.randint(1, 10),
                "mode": rng.choice(["hybrid", "lexical", "vector"])}
        status, headers, data = self.request("POST", "/v1/search", body)
        self.record("search", status, headers, True, data)

    def ask(self, rng):
        body = {"question": rng.choice(QUESTIONS), "max_tokens": self.args.max_tokens, "top_k": 2}
        status, headers, data = self.request("POST", "/v1/ask", body)
        self.record("ask", status, headers, True, data)

    def hang_up(self, action, path, body, rng):
        """Sends a request and resets the connection within 300 ms, whatever has come back
        (the answer may be queued, generating or done)."""
        connection = self.connection(self.args.request_timeout)
        try:
            connection.request("POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
            time.sleep(rng.random() * 0.3)
            connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            connection.close()
        with self.lock:
            self.requests += 1
            self.abandoned += 1
            self.statuses[(action, "reset")] += 1

    def ask_hang_up(self, rng):
        """A non-streaming answer whose client leaves before it is written."""
        if rng.random() < 0.5:
            self.hang_up("ask_hang_up", "/v1/ask", {"question": rng.choice(QUESTIONS), "max_tokens": self.args.max_tokens}, rng)
        else:
            self.hang_up("ask_hang_up", "/v1/chat/completions", {"messages": [{"role": "user", "content": rng.choice(QUESTIONS)}],
                                                  "max_tokens": self.args.max_tokens}, rng)

    def ask_stream_abandon(self, rng):
        """A streamed answer left while queued (a reset before any byte came back) or after its
        first bytes (FIN or RST)."""
        body = {"question": rng.choice(QUESTIONS), "stream": True, "max_tokens": self.args.max_tokens * 4}
        if rng.random() < 0.3:
            return self.hang_up("ask_stream_abandon", "/v1/ask", body, rng)
        body = json.dumps(body).encode()
        connection = self.connection(self.args.request_timeout)
        try:
            connection.request("POST", "/v1/ask", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            headers = dict((k.lower(), v) for k, v in response.getheaders())
            data = b""
            if response.status == 200:
                response.read1(64)
                if rng.random() < 0.5 and connection.sock is not None:
                    connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                with self.lock:
                    self.abandoned += 1
            else:
                data = response.read()
            self.record("ask_stream_abandon", response.status, headers, True, data)
        finally:
            connection.close()

    def chat(self, rng):
        body = {"messages": [{"role": "user", "content": rng.choice(QUESTIONS)}],
                "max_tokens": self.args.max_tokens}
        status, headers, data = self.request("POST", "/v1/chat/completions", body)
        self.record("chat", status, headers, True, data)

    def upload(self, rng):
        # A fixed pool of ids and texts, so the base (and the vector index in memory) stays bounded.
        lines = []
        for n in rng.sample(range(self.args.upload_ids), rng.randint(1, 3)):  # distinct ids in one body
            variant = rng.randrange(3)
            lines.append(json.dumps({"id": f"soak-{n}", "title": f"Soak {n}",
                                     "text": f"Soak document {n}, version {variant}. " * (1 + variant),
                                     "metadata": {"soak": "yes"}}))
        body = ("\n".join(lines) + "\n").encode()
        status, headers, data = self.request("POST", "/v1/documents", body,
                                             {**self.auth(), "Content-Type": "application/x-ndjson"})
        self.record("upload", status, headers, True, data)

    BAD = [
        ("POST", "/v1/search", b"{not json", {}),
        ("POST", "/v1/search", b"", {}),
        ("POST", "/v1/search", json.dumps({"query": 3}).encode(), {}),
        ("POST", "/v1/search", json.dumps({"query": "x", "top_k": 0}).encode(), {}),
        ("POST", "/v1/search", json.dumps({"query": "x" * 5000}).encode(), {}),
        ("POST", "/v1/ask", json.dumps({"question": ""}).encode(), {}),
        ("POST", "/v1/ask", json.dumps({"question": "x", "max_tokens": -1}).encode(), {}),
        ("POST", "/v1/ask", json.dumps({"question": "x", "history": [{"role": "system", "content": "x"}]}).encode(), {}),
        ("POST", "/v1/chat/completions", json.dumps({"messages": []}).encode(), {}),
        ("POST", "/v1/chat/completions", json.dumps({"messages": [{"role": "user", "content": "x"}], "n": 2}).encode(), {}),
        ("POST", "/v1/documents", json.dumps({"id": "x", "text": "no key"}).encode(), {}),
        ("POST", "/v1/documents", json.dumps({"id": False, "text": "t"}).encode(), "key"),
        ("DELETE", "/v1/documents/1", None, {}),
        ("GET", "/v1/documents/not-a-number", None, {}),
        ("GET", "/v1/nowhere", None, {}),
        ("PUT", "/v1/search", b"{}", {}),
    ]

    def bad_request(self, rng):
        method, path, body, headers = rng.choice(self.BAD)
        headers = self.auth() if headers == "key" else headers
        status, response_headers, data = self.request(method, path, body, headers)
        self.record("bad_request", status, response_headers, False, data)

    # MARK: - Clients, RSS, metrics

    def client(self, index, deadline):
        rng = random.Random(self.args.seed * 1000 + index)
        names = [name for name, _ in ACTIONS]
        weights = [weight for _, weight in ACTIONS]
        for _ in range(self.args.max_requests_per_client):
            if time.monotonic() >= deadline:
                break
            action = rng.choices(names, weights)[0]
            try:
                getattr(self, action)(rng)
            except (OSError, http.client.HTTPException) as error:
                with self.lock:
                    self.requests += 1
                    self.statuses[(action, type(error).__name__)] += 1
                    self.fail(f"{action}: {type(error).__name__}: {error}")

    def rss_mib(self):
        try:
            with open(f"/proc/{self.args.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def sample_rss(self):
        while not self.stop_sampling.wait(self.args.rss_interval):
            rss = self.rss_mib()
            if rss is not None:
                self.rss_samples.append(rss)

    def gauges(self):
        status, _, body = self.request("GET", "/metrics", timeout=10)
        values = {}
        for line in body.decode(errors="replace").splitlines():
            for name in ("kb_generation_queue_depth", "kb_generations_active"):
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    values[name] = float(line.rsplit(" ", 1)[1])
        return values

    def warm_up(self):
        rng = random.Random(self.args.seed)
        for action in ("search", "ask", "chat", "upload", "search"):
            getattr(self, action)(rng)

    def run(self):
        if self.rss_mib() is None:
            sys.exit(f"soak: no process {self.args.pid} to sample")
        self.warm_up()
        time.sleep(1)
        rss_before = self.rss_mib()
        sampler = threading.Thread(target=self.sample_rss, daemon=True)
        sampler.start()
        started = time.monotonic()
        deadline = started + self.args.duration
        threads = [threading.Thread(target=self.client, args=(i, deadline), daemon=True)
                   for i in range(self.args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()) + self.args.request_timeout + 10)
        load_seconds = time.monotonic() - started
        stuck = sum(thread.is_alive() for thread in threads)

        # After the load: the queue and the slots drain, memory settles.
        drained_after, gauges = None, {}
        drain_start = time.monotonic()
        while time.monotonic() - drain_start < self.args.drain_seconds:
            try:
                gauges = self.gauges()
            except (OSError, http.client.HTTPException):
                gauges = {}
            if gauges and all(gauges.get(name, 1) == 0 for name in ("kb_generation_queue_depth", "kb_generations_active")):
                drained_after = time.monotonic() - drain_start
                break
            time.sleep(0.5)
        # And answering still works: one more answer, on its own, must come back.
        try:
            answer_status = self.request("POST", "/v1/ask", {"question": QUESTIONS[0], "max_tokens": self.args.max_tokens},
                                         timeout=60)[0]
        except (OSError, http.client.HTTPException) as error:
            answer_status = type(error).__name__
        time.sleep(self.args.settle_seconds)
        self.stop_sampling.set()
        rss_after = self.rss_mib()
        alive = rss_after is not None
        try:
            healthy = self.request("GET", "/healthz", timeout=10)[0] == 200
        except (OSError, http.client.HTTPException):
            healthy = False

        problems = []
        if not alive:
            problems.append("the server process is gone")
        elif not healthy:
            problems.append("the server does not answer /healthz")
        if stuck:
            problems.append(f"{stuck} clients still waiting after the load")
        if self.failure_count:
            problems.append(f"{self.failure_count} failed requests")
        if answer_status != 200:
            problems.append(f"an answer after the load got {answer_status}")
        if drained_after is None:
            problems.append(f"generation queue/active not back to 0 within {self.args.drain_seconds} s: {gauges}")
        if alive and rss_before is not None and rss_after - rss_before > self.args.rss_slack_mib:
            problems.append(f"RSS {rss_after:.0f} MiB is more than {self.args.rss_slack_mib} MiB above "
                            f"its pre-load {rss_before:.0f} MiB")

        peak = max(self.rss_samples + [rss_before or 0])
        five_xx = sum(count for (action, status), count in self.statuses.items()
                      if isinstance(status, int) and status >= 500)
        print(f"soak: {self.args.clients} concurrent clients for {load_seconds:.0f} s "
              f"(target {self.args.duration} s), {self.requests} requests "
              f"({self.requests / max(load_seconds, 1e-9):.1f}/s), {self.abandoned} streams abandoned")
        for name, _ in ACTIONS:
            row = {status: count for (action, status), count in sorted(self.statuses.items(), key=str) if action == name}
            print(f"  {name:20} {sum(row.values()):7}  {row}  refusals {self.refusals[name]}")
        print(f"  5xx responses: {five_xx}, of which {self.refused_503} were 503 + Retry-After refusals of valid "
              f"requests; all refusals (429/503 + Retry-After): {sum(self.refusals.values())}")
        print(f"  queue/active after load: {gauges} (drained in "
              f"{'%.1f s' % drained_after if drained_after is not None else 'never'}); "
              f"an answer after the load: {answer_status}")
        rss_line = f"  RSS MiB: before {rss_before:.0f}, peak {peak:.0f}, final "
        rss_line += f"{rss_after:.0f} (bound: final <= before + {self.args.rss_slack_mib})" if alive else "- (process gone)"
        print(rss_line)
        for failure in self.failures:
            print(f"  failure: {failure}")
        if problems:
            print("soak: FAILED: " + "; ".join(problems))
            return 1
        print("soak: passed")
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--key", required=True, help="an API key of the server (for uploads)")
    parser.add_argument("--pid", required=True, type=int, help="the server's process id (RSS is read from /proc)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients (default 200)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--max-tokens", type=int, default=8, help="answer length asked for (default 8)")
    parser.add_argument("--upload-ids", type=int, default=40, help="distinct record ids uploads cycle through")
    parser.add_argument("--request-timeout", type=float, default=150, help="client timeout per request, s")
    parser.add_argument("--max-requests-per-client", type=int, default=100_000, help="a bound on each client's loop")
    parser.add_argument("--drain-seconds", type=float, default=30, help="time for the queue to drain after the load")
    parser.add_argument("--settle-seconds", type=float, default=3, help="wait before the final RSS reading")
    parser.add_argument("--rss-interval", type=float, default=0.5)
    parser.add_argument("--rss-slack-mib", type=float, default=128,
                        help="final RSS may exceed the pre-load RSS by this much (default 128 MiB)")
    return Soak(parser.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
