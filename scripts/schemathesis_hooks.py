"""Schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

Answers run a real model (SmolLM2-135M) on the CPU: a valid request may ask for up to 8,192 tokens,
which would make one example take minutes. Valid lengths above 4 are lowered to 4 before the call;
invalid ones (0, negative, above the maximum, not integers) are sent as generated, so the server's
validation is still tested.

A chat completion names a model (404 for any other) and ends with the user's question (400 for any
other role): valid values of those fields are set to the served model (null) and the user's role, so
that schema-valid requests reach the answer path instead of stopping at those checks.
"""

import schemathesis

ANSWER_PATHS = {"/v1/ask", "/v1/chat/completions"}
LENGTH_FIELDS = ("max_tokens", "max_completion_tokens")
CAP = 4
ROLES = {"system", "developer", "user", "assistant", "tool"}


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path not in ANSWER_PATHS or not isinstance(case.body, dict):
        return
    for field in LENGTH_FIELDS:
        value = case.body.get(field)
        # JSON has one number type: 4000.0 is an integer to the schema (and to the server) too.
        if isinstance(value, (int, float)) and not isinstance(value, bool) and CAP < value <= 8192 \
                and float(value).is_integer():
            case.body[field] = CAP
    if case.operation.path == "/v1/chat/completions":
        if isinstance(case.body.get("model"), str):
            case.body["model"] = None
        messages = case.body.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
            if isinstance(messages[-1].get("role"), str) and messages[-1]["role"] in ROLES:
                messages[-1]["role"] = "user"
