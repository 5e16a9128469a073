#!/usr/bin/env python3
"""Load client for the batching benchmark (issue 16), standard library only.

Drives any OpenAI-compatible server (`kb serve`, llama.cpp's `llama-server`) through
POST /v1/chat/completions with "stream": true, greedy, the same messages for both, and prints one
JSON object per scenario on stdout:

- `sessions N`: N sessions start together, each asking a RAG-like question (a fixed system prompt,
  five shared sources, a question of its own) for MAX_TOKENS tokens; two rounds, "cold" (first time)
  and "warm" (the same questions again). TTFT p50/p90 (ms, from the request), decode tokens/s per
  stream (median of (tokens - 1) / (end - first token)) and aggregate tokens/s (all streams'
  tokens over the round's wall time).
- `decode N`: N streams of short prompts that ask for long answers, MAX_TOKENS each: aggregate
  decode tokens/s = sum(tokens - 1) / (last end - first first-token).
- `gaps N`: N long streams decode while a new ~600-token prompt arrives every PERIOD seconds; the
  p50/p99/max gap between consecutive tokens of the long streams (ms).
"""
import argparse
import http.client
import json
import statistics
import threading
import time

SYSTEM = ("You answer questions about the company's documents from the sources given. Cite sources as [n]. "
          "If the sources do not hold the answer, say so.")
SOURCES = [
    "The VPN gateway listens on port 4433 and requires a client certificate issued by the internal CA. Certificates are valid for one year.",
    "Database backups run every night at 02:00 UTC and are kept for 35 days in the object store bucket kb-backups.",
    "Passwords can be reset by the user at the self-service portal, or by the help desk after a video identity check.",
    "Old application logs are compressed with zstd after 7 days and deleted after 90 days by the log rotation job.",
    "Invoices are archived for ten years as PDF/A files; the finance team owns the archive and its access list.",
]
QUESTIONS = [
    "Which port does the VPN use?", "When do database backups run?", "How long are backups kept?",
    "How can I reset my password?", "What happens to old logs?", "How long are invoices kept?",
    "Who owns the invoice archive?", "What format are archived invoices in?", "How long is a VPN certificate valid?",
    "Where are backups stored?", "When are logs deleted?", "Who can reset a password for me?",
    "What compresses the logs?", "What does the VPN require?", "Which team owns invoices?", "What is kb-backups?",
]
LONG = "Write the numbers from 1 to 400, separated by commas, and nothing else."


def rag_messages(question, sources=SOURCES):
    context = "\n\n".join(f"[{i + 1}] {text}" for i, text in enumerate(sources))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"{context}\n\nQuestion: {question}"}]


def percentile(values, fraction):
    ordered = sorted(values)
    rank = max(1, int(round(fraction * len(ordered) + 0.5)))
    return ordered[min(rank, len(ordered)) - 1]


def stream(port, messages, max_tokens, model):
    """One streaming chat completion: start, per-token arrival times, end, completion tokens."""
    body = json.dumps({"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}})
    start = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        if response.status != 200:
            return {"error": f"HTTP {response.status}: {response.read()[:200]!r}"}
        arrivals, usage = [], None
        for raw in response:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            event = json.loads(data)
            if event.get("usage"):
                usage = event["usage"]
            for choice in event.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    arrivals.append(time.monotonic())
        end = time.monotonic()
    except OSError as error:
        return {"error": str(error)}
    finally:
        connection.close()
    if not arrivals:
        return {"error": "no tokens"}
    tokens = (usage or {}).get("completion_tokens") or len(arrivals)
    return {"start": start, "arrivals": arrivals, "end": end, "tokens": tokens}


def run_all(jobs):
    """Runs callables on threads at once; returns their results in order."""
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
    failures = [r["error"] for r in results if "error" in r]
    out = {"requests": len(results), "failures": len(failures)}
    if failures:
        out["first_failure"] = failures[0]
    if ok:
        ttft = [(r["arrivals"][0] - r["start"]) * 1000 for r in ok]
        rates = [(r["tokens"] - 1) / (r["end"] - r["arrivals"][0]) for r in ok if r["tokens"] > 1 and r["end"] > r["arrivals"][0]]
        out.update({"ttft_p50_ms": round(percentile(ttft, 0.5)), "ttft_p90_ms": round(percentile(ttft, 0.9)),
                    "stream_tok_s": round(statistics.median(rates), 2) if rates else None,
                    "aggregate_tok_s": round(sum(r["tokens"] for r in ok) / wall, 2),
                    "tokens": sum(r["tokens"] for r in ok)})
    return out


def sessions(args, n):
    for round_name in ["cold", "warm"]:
        questions = [QUESTIONS[i % len(QUESTIONS)] + ("" if i < len(QUESTIONS) else f" (request {i})") for i in range(n)]
        start = time.monotonic()
        results = run_all([lambda q=q: stream(args.port, rag_messages(q), args.max_tokens, args.model) for q in questions])
        print(json.dumps({"scenario": "sessions", "sessions": n, "round": round_name,
                          **summarize(results, time.monotonic() - start)}), flush=True)


def decode(args, n):
    prompts = [[{"role": "user", "content": LONG + f" ({i})"}] for i in range(n)]
    results = run_all([lambda m=m: stream(args.port, m, args.max_tokens, args.model) for m in prompts])
    ok = [r for r in results if "error" not in r]
    span = max(r["end"] for r in ok) - min(r["arrivals"][0] for r in ok) if ok else 0
    print(json.dumps({"scenario": "decode", "streams": n, "failures": len(results) - len(ok),
                      "tokens": sum(r["tokens"] for r in ok),
                      "aggregate_decode_tok_s": round(sum(r["tokens"] - 1 for r in ok) / span, 2) if span else None}), flush=True)


def gaps(args, n):
    long_prompts = [[{"role": "user", "content": LONG + f" ({i})"}] for i in range(n)]
    newcomer = rag_messages("Summarize every source in one sentence each.",
                            SOURCES * 4)  # about 600 tokens
    stop = threading.Event()
    arrivals = []

    def arrive():
        index = 0
        while not stop.wait(args.period):
            thread = threading.Thread(target=lambda: arrivals.append(stream(args.port, newcomer[:1] + [
                {"role": "user", "content": newcomer[1]["content"] + f" ({index})"}], 8, args.model)))
            thread.start()
            index += 1

    arriver = threading.Thread(target=arrive)
    arriver.start()
    results = run_all([lambda m=m: stream(args.port, m, args.max_tokens, args.model) for m in long_prompts])
    stop.set()
    arriver.join()
    ok = [r for r in results if "error" not in r]
    between = [(b - a) * 1000 for r in ok for a, b in zip(r["arrivals"], r["arrivals"][1:])]
    print(json.dumps({"scenario": "gaps", "streams": n, "period_s": args.period, "newcomers": len(arrivals),
                      "failures": len(results) - len(ok),
                      "gap_p50_ms": round(percentile(between, 0.5), 1) if between else None,
                      "gap_p99_ms": round(percentile(between, 0.99), 1) if between else None,
                      "gap_max_ms": round(max(between), 1) if between else None}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", default="default")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--period", type=float, default=1.5)
    parser.add_argument("scenario", choices=["sessions", "decode", "gaps"])
    parser.add_argument("n", type=int)
    args = parser.parse_args()
    {"sessions": sessions, "decode": decode, "gaps": gaps}[args.scenario](args, args.n)


if __name__ == "__main__":
    main()
