#!/usr/bin/env python3
"""Load client for POST /v1/ask (issue 6), standard library only.

Runs CONCURRENCY sessions against a running `kb serve`; each session takes the next question from
a shared list and asks it with "stream": true, timestamping the request, the first `token` event
(time to first token, TTFT) and the end of the stream. A pass sends max(len(questions),
concurrency) requests. Two passes are run: "cold" (the first time the server sees these
questions) and "warm" (the same questions again, so the prefix cache may hold their prompts: the
share of prompt tokens served from it is printed, from the `usage` event's cached_prompt_tokens).

Prints one JSON object per pass on stdout: TTFT p50/p90 (ms), decode tokens/s per request
(median; (completion_tokens - 1) / (end - first token)), aggregate generated tokens/s over the
pass's wall time, cached-prompt share, request count and failures.
"""
import argparse
import http.client
import json
import statistics
import threading
import time

QUESTIONS = [
    "How do I sort a list of dictionaries by a key?",
    "What does the argparse module do?",
    "How do I write a descriptor?",
    "How can I log to a file with the logging module?",
    "How do regular expressions handle greedy matching?",
    "How do I open a socket connection?",
    "What is an Enum and how do I define one?",
    "How do I fetch a web page with urllib?",
    "Why is Python installed on my computer?",
    "How do I port Python 2 code to Python 3?",
    "What are annotations best practices?",
    "How do I use curses for terminal programs?",
    "How do I handle Unicode strings?",
    "What is functional programming in Python?",
    "How do I use the ipaddress module?",
    "How do I embed Python in a C application?",
]


def percentile(values, fraction):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(round(fraction * len(ordered) + 0.5)))
    return ordered[min(rank, len(ordered)) - 1]


def ask(host, port, question, max_tokens, top_k=None):
    """One streaming ask; returns a dict of timings and usage, or {"error": ...}."""
    request = {"question": question, "stream": True, "max_tokens": max_tokens}
    if top_k:
        request["top_k"] = top_k
    body = json.dumps(request)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=600)
    try:
        connection.request("POST", "/v1/ask", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        if response.status != 200:
            return {"error": f"HTTP {response.status}: {response.read()[:200]!r}"}
        first_token = None
        event = None
        usage = None
        tokens = 0
        error = None
        for raw in response:  # SSE lines
            line = raw.decode("utf-8").rstrip("\r\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                if event == "token":
                    tokens += 1
                    if first_token is None:
                        first_token = time.perf_counter()
                elif event == "usage":
                    usage = json.loads(line[6:])["usage"]
                elif event == "error":
                    error = line[6:]
            elif line == "" and event == "done":
                break
        ended = time.perf_counter()
    finally:
        connection.close()
    if error or usage is None or first_token is None:
        return {"error": error or "no usage/token event"}
    completion = usage["completion_tokens"]
    return {
        "ttft": first_token - started,
        "decode_tps": (completion - 1) / (ended - first_token) if completion > 1 and ended > first_token else None,
        "completion_tokens": completion,
        "prompt_tokens": usage["prompt_tokens"],
        "cached_prompt_tokens": usage.get("cached_prompt_tokens", 0),
        "seconds": ended - started,
    }


def run_pass(host, port, questions, concurrency, max_tokens, top_k):
    total = max(len(questions), concurrency)
    work = [questions[i % len(questions)] for i in range(total)]
    lock = threading.Lock()
    results = []

    def session():
        while True:
            with lock:
                if not work:
                    return
                question = work.pop(0)
            result = ask(host, port, question, max_tokens, top_k)
            with lock:
                results.append(result)

    started = time.perf_counter()
    threads = [threading.Thread(target=session) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    good = [r for r in results if "error" not in r]
    failures = [r["error"] for r in results if "error" in r]
    if not good:
        return {"requests": len(results), "failed": len(failures), "errors": failures[:3]}
    decode = [r["decode_tps"] for r in good if r["decode_tps"]]
    prompt = sum(r["prompt_tokens"] for r in good)
    return {
        "requests": len(results),
        "failed": len(failures),
        "ttft_p50_ms": round(percentile([r["ttft"] for r in good], 0.5) * 1000, 1),
        "ttft_p90_ms": round(percentile([r["ttft"] for r in good], 0.9) * 1000, 1),
        "decode_tokens_per_s_median": round(statistics.median(decode), 2) if decode else None,
        "aggregate_tokens_per_s": round(sum(r["completion_tokens"] for r in good) / wall, 2),
        "mean_prompt_tokens": round(prompt / len(good), 1),
        "cached_prompt_share": round(sum(r["cached_prompt_tokens"] for r in good) / prompt, 3) if prompt else 0,
        "wall_s": round(wall, 1),
        "errors": failures[:3],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--questions", type=int, default=8, help="distinct questions per pass (at most %d)" % len(QUESTIONS))
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--top-k", type=int, default=None, help="sources per answer (server default 5); fewer = shorter prompts")
    args = parser.parse_args()
    questions = QUESTIONS[: max(1, min(args.questions, len(QUESTIONS)))]
    for name in ["cold", "warm"]:
        load = open("/proc/loadavg").read().split()[:3]
        result = run_pass(args.host, args.port, questions, args.concurrency, args.max_tokens, args.top_k)
        result.update({"pass": name, "concurrency": args.concurrency, "max_tokens": args.max_tokens, "top_k": args.top_k,
                       "load_before": " ".join(load), "load_after": " ".join(open("/proc/loadavg").read().split()[:3])})
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
