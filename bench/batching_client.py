#!/usr/bin/env python3
"""Load client for the batching benchmark (issue 16), standard library only.

Scenarios (one JSON object per result on stdout):

- `ask N` (kb serve): N sessions ask at once through POST /v1/ask ("stream": true), one question
  each from QUESTIONS (the demo base's), two rounds: "cold" (first time) and "warm" (again).
- `chat N` (llama-server): the same, through POST /v1/chat/completions, each question with the five
  passages kb's search returns for it (from --passages, written by `passages`) in the same layout as
  kb's answer prompt (numbered blocks, then the question).
- `passages FILE` (kb search): writes those passages for every question (runs `bin/kb search`).
- `rate R` (either, --engine): requests arrive at random (Poisson) at R per second for --duration
  s; TTFT p50/p90. R = 0: 8 requests one after another (the unloaded TTFT).
- `gaps N` (llama-server): N streams decode GEN tokens from 128 random token ids (end of text
  ignored) through POST /completion while a prompt of 600 random token ids arrives every PERIOD s;
  p50/p99/max gap between consecutive tokens of the N streams. (`kb bench batch --arrival-period`
  measures kb's.)

For ask/chat: TTFT p50/p90 (ms, from the request), decode tokens/s per stream (median of
(tokens - 1) / (end - first token)), aggregate tokens/s over the round's wall time, prompt tokens
(median) and the share of them served from cache.
"""
import argparse
import http.client
import json
import random
import statistics
import subprocess
import threading
import time

QUESTIONS = [
    "How do I sort a list of dictionaries by a key?", "What does the argparse module do?",
    "How do I write a descriptor?", "How can I log to a file with the logging module?",
    "How do regular expressions handle greedy matching?", "How do I open a socket connection?",
    "What is an Enum and how do I define one?", "How do I fetch a web page with urllib?",
    "Why is Python installed on my computer?", "How do I port Python 2 code to Python 3?",
    "What are annotations best practices?", "How do I use curses for terminal programs?",
    "How do I handle Unicode strings?", "What is functional programming in Python?",
    "How do I use the ipaddress module?", "How do I embed Python in a C application?",
]
SYSTEM = ("Answer the question from the numbered sources only. Cite the sources you use as [n]. "
          "If the sources do not answer it, say you cannot answer from the knowledge base.")


def question(i):
    base = QUESTIONS[i % len(QUESTIONS)]
    return base if i < len(QUESTIONS) else f"{base} (case {i // len(QUESTIONS)})"


def percentile(values, fraction):
    ordered = sorted(values)
    rank = max(1, int(round(fraction * len(ordered) + 0.5)))
    return ordered[min(rank, len(ordered)) - 1]


def post_stream(port, path, body, on_event):
    """POSTs `body` and calls on_event(event_name, data) for each SSE event; returns (start, end) or an error string."""
    start = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    try:
        connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        if response.status != 200:
            return f"HTTP {response.status}: {response.read()[:200]!r}"
        event = "message"
        for raw in response:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
                if data == "[DONE]" or on_event(event, data) is False:
                    break
            elif line == "":
                if event == "done":
                    break
                event = "message"
        return (start, time.monotonic())
    except OSError as error:
        return str(error)
    finally:
        connection.close()


def ask(port, text, max_tokens):
    arrivals, usage = [], {}

    def on_event(event, data):
        if event == "token":
            arrivals.append(time.monotonic())
        elif event == "usage":
            usage.update(json.loads(data).get("usage", {}))
    span = post_stream(port, "/v1/ask", {"question": text, "stream": True, "max_tokens": max_tokens}, on_event)
    return result(span, arrivals, usage.get("completion_tokens"), usage.get("prompt_tokens"), usage.get("cached_prompt_tokens", 0))


def chat(port, messages, max_tokens):
    arrivals, usage = [], {}

    def on_event(event, data):
        payload = json.loads(data)
        if payload.get("usage"):
            usage.update(payload["usage"])
        for choice in payload.get("choices") or []:
            if (choice.get("delta") or {}).get("content"):
                arrivals.append(time.monotonic())
    span = post_stream(port, "/v1/chat/completions", {"messages": messages, "max_tokens": max_tokens, "temperature": 0,
                                                      "stream": True, "stream_options": {"include_usage": True},
                                                      "cache_prompt": True}, on_event)
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    return result(span, arrivals, usage.get("completion_tokens"), usage.get("prompt_tokens"), cached)


def completion(port, tokens, n_predict):
    arrivals = []

    def on_event(event, data):
        if json.loads(data).get("content"):
            arrivals.append(time.monotonic())
    span = post_stream(port, "/completion", {"prompt": tokens, "n_predict": n_predict, "ignore_eos": True, "stream": True,
                                             "cache_prompt": False}, on_event)
    return result(span, arrivals, len(arrivals), len(tokens), 0)


def result(span, arrivals, completion_tokens, prompt_tokens, cached):
    if isinstance(span, str):
        return {"error": span}
    if not arrivals:
        return {"error": "no tokens"}
    return {"start": span[0], "end": span[1], "arrivals": arrivals, "tokens": completion_tokens or len(arrivals),
            "prompt_tokens": prompt_tokens or 0, "cached": cached or 0}


def run_all(jobs):
    results = [None] * len(jobs)

    def worker(index):
        results[index] = jobs[index]()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def summarize(results, wall):
    ok = [r for r in results if "error" not in r]
    out = {"requests": len(results), "failures": len(results) - len(ok)}
    if len(ok) < len(results):
        out["first_failure"] = next(r["error"] for r in results if "error" in r)
    if ok:
        ttft = [(r["arrivals"][0] - r["start"]) * 1000 for r in ok]
        rates = [(r["tokens"] - 1) / (r["end"] - r["arrivals"][0]) for r in ok if r["tokens"] > 1 and r["end"] > r["arrivals"][0]]
        prompt = sum(r["prompt_tokens"] for r in ok)
        out.update({"ttft_p50_ms": round(percentile(ttft, 0.5)), "ttft_p90_ms": round(percentile(ttft, 0.9)),
                    "stream_tok_s": round(statistics.median(rates), 1) if rates else None,
                    "aggregate_tok_s": round(sum(r["tokens"] for r in ok) / wall, 1),
                    "prompt_tokens_median": statistics.median(r["prompt_tokens"] for r in ok),
                    "cached_share": round(sum(r["cached"] for r in ok) / prompt, 3) if prompt else None})
    return out


def rounds(args, n, make_job):
    for name in ["cold", "warm"]:
        start = time.monotonic()
        results = run_all([make_job(i) for i in range(n)])
        print(json.dumps({"scenario": args.scenario, "sessions": n, "round": name, **summarize(results, time.monotonic() - start)}),
              flush=True)


def chat_messages(table, text):
    sources = "".join(f"[{k + 1}]\n{passage}\n\n" for k, passage in enumerate(table[text]))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"{sources}Question: {text}"}]


def rate(args, per_second):
    """Poisson arrivals at `per_second` for --duration s (questions cycling through the 50 variants);
    per_second 0: 8 requests one after another (the unloaded time to first token)."""
    table = None
    if args.engine == "llama":
        with open(args.passages) as file:
            table = json.load(file)

    def one(i):
        text = question(i % 50)
        if args.engine == "kb":
            return ask(args.port, text, args.max_tokens)
        return chat(args.port, chat_messages(table, text), args.max_tokens)
    results = []
    if per_second <= 0:
        results = [one(i) for i in range(8)]
    else:
        rng = random.Random(7)
        threads, start, i = [], time.monotonic(), 0
        next_at = start
        while True:
            next_at += rng.expovariate(per_second)
            if next_at - start > args.duration:
                break
            time.sleep(max(0, next_at - time.monotonic()))
            thread = threading.Thread(target=lambda i=i: results.append(one(i)))
            thread.start()
            threads.append(thread)
            i += 1
        for thread in threads:
            thread.join()
    ok = [r for r in results if "error" not in r]
    ttft = [(r["arrivals"][0] - r["start"]) * 1000 for r in ok]
    print(json.dumps({"scenario": "rate", "per_second": per_second, "requests": len(results), "failures": len(results) - len(ok),
                      "ttft_p50_ms": round(percentile(ttft, 0.5)) if ttft else None,
                      "ttft_p90_ms": round(percentile(ttft, 0.9)) if ttft else None}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["ask", "chat", "passages", "gaps", "rate"])
    parser.add_argument("--engine", choices=["kb", "llama"], default="kb", help="rate: which API to drive")
    parser.add_argument("--duration", type=float, default=45, help="rate: seconds of arrivals")
    parser.add_argument("n")
    parser.add_argument("--port", type=int)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--passages", help="passages file (chat)")
    parser.add_argument("--db", help="kb database (passages)")
    parser.add_argument("--period", type=float, default=1.5)
    parser.add_argument("--gen-tokens", type=int, default=200)
    args = parser.parse_args()
    if args.scenario == "passages":
        count = 50
        table = {}
        for i in range(count):
            text = question(i)
            found = json.loads(subprocess.run(["bin/kb", "search", "--db", args.db, "--json", "--top-k", "5", text],
                                              check=True, capture_output=True, text=True).stdout)
            table[text] = [hit["text"] for hit in found["results"]]
        with open(args.n, "w") as file:
            json.dump(table, file)
        return
    if args.scenario == "rate":
        rate(args, float(args.n))
        return
    n = int(args.n)
    if args.scenario == "ask":
        rounds(args, n, lambda i: (lambda: ask(args.port, question(i), args.max_tokens)))
    elif args.scenario == "chat":
        with open(args.passages) as file:
            table = json.load(file)

        rounds(args, n, lambda i: (lambda: chat(args.port, chat_messages(table, question(i)), args.max_tokens)))
    else:
        rng = random.Random(16)
        streams = [[rng.randrange(1000, 30000) for _ in range(128)] for _ in range(n)]
        stop = threading.Event()
        newcomers = []

        def arrive():
            while not stop.wait(args.period):
                prompt = [rng.randrange(1000, 30000) for _ in range(600)]
                thread = threading.Thread(target=lambda p=prompt: newcomers.append(completion(args.port, p, 1)))
                thread.start()
        arriver = threading.Thread(target=arrive)
        arriver.start()
        results = run_all([lambda s=s: completion(args.port, s, args.gen_tokens) for s in streams])
        stop.set()
        arriver.join()
        ok = [r for r in results if "error" not in r]
        gaps = sorted((b - a) * 1000 for r in ok for a, b in zip(r["arrivals"], r["arrivals"][1:]))
        print(json.dumps({"scenario": "gaps", "streams": n, "period_s": args.period, "arrivals": len(newcomers),
                          "failures": len(results) - len(ok),
                          "p50_ms": round(percentile(gaps, 0.5), 1) if gaps else None,
                          "p99_ms": round(percentile(gaps, 0.99), 1) if gaps else None,
                          "max_ms": round(gaps[-1], 1) if gaps else None}), flush=True)


if __name__ == "__main__":
    main()
