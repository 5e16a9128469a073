"""Drives a running `kb serve` with the official `openai` Python client (as an SDK user would) and
checks what it gets: the model list, a completion, and a streamed completion whose citations arrive
on the last chunk. Prints a JSON summary; exits non-zero with the reason on any mismatch.

usage: openai_client_check.py BASE_URL API_KEY QUESTION
"""
import json
import sys

from openai import OpenAI


def main():
    base_url, api_key, question = sys.argv[1:4]
    client = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=120)
    models = [m.id for m in client.models.list()]
    assert len(models) == 1, f"expected one model, got {models}"
    model = models[0]

    completion = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": question}], max_tokens=64)
    choice = completion.choices[0]
    assert choice.message.role == "assistant", choice.message.role
    assert choice.message.content, "empty answer"
    assert choice.finish_reason in ("stop", "length"), choice.finish_reason
    citations = (completion.model_extra or {}).get("citations")
    assert isinstance(citations, list), f"no citations extension field: {completion}"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens

    pieces, finish, stream_citations = [], None, None
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": question}], max_tokens=64, stream=True)
    for chunk in stream:
        if chunk.choices:
            delta = chunk.choices[0].delta
            if delta.content:
                pieces.append(delta.content)
            if chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
        extra = chunk.model_extra or {}
        if extra.get("citations") is not None:
            stream_citations = extra["citations"]
    streamed = "".join(pieces)
    assert streamed == choice.message.content, f"streamed {streamed!r} != {choice.message.content!r}"
    assert finish == choice.finish_reason, finish
    assert stream_citations == citations, "streamed citations differ"

    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
        raise AssertionError("an unknown model was accepted")
    except Exception as error:  # openai.NotFoundError
        assert getattr(error, "status_code", None) == 404, repr(error)

    print(json.dumps({"model": model, "answer": choice.message.content, "chunks": len(pieces),
                      "citations": [c["marker"] for c in citations], "titles": [c["title"] for c in citations]}))


if __name__ == "__main__":
    main()
