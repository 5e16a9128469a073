#!/usr/bin/env python3
"""Compares kb's forward pass with llama.cpp's, op by op, on one prompt: every named intermediate
(attn_norm-0, Qcur-0, Kcur-0, Vcur-0, kqv_out-0, ffn_inp-0, ffn_norm-0, ffn_swiglu-0, ffn_out-0,
l_out-0, …, result_norm, result_output), the maximum absolute difference and whether the bits are
equal. The first tensor that differs names the operation to look at (see ARCHITECTURE.md,
"Bit-exact with llama.cpp").

kb's side: `kb generate --raw --dump-tensors DIR` (the release build, bin/kb).
llama.cpp's side: llama-cpp-python's low-level API with an eval callback that copies each tensor
of the prompt's graph as it is computed.

Requires a Python with llama-cpp-python==0.3.36 and numpy (PYTHON, default .venv-llm/bin/python).
For bit-equality build it for the kernels kb reproduces (x86-64 AVX2/FMA/F16C, no AVX-512):
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF" \\
        .venv-llm/bin/pip install llama-cpp-python==0.3.36 numpy

Usage: .venv-llm/bin/python scripts/compare-with-llamacpp.py MODEL.gguf "PROMPT" [--threads N]
Exit status 0 when every tensor is within --tolerance (default 0: bit-equal), 1 otherwise.
"""
import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import llama_cpp

GGML_TYPE_F32 = 0


class GGMLTensor(ctypes.Structure):
    # ggml.h's struct ggml_tensor (ggml as vendored by llama-cpp-python 0.3.36).
    _fields_ = [
        ("type", ctypes.c_int32),
        ("buffer", ctypes.c_void_p),
        ("ne", ctypes.c_int64 * 4),
        ("nb", ctypes.c_size_t * 4),
        ("op", ctypes.c_int32),
        ("op_params", ctypes.c_int32 * 16),
        ("flags", ctypes.c_int32),
        ("src", ctypes.c_void_p * 10),
        ("view_src", ctypes.c_void_p),
        ("view_offs", ctypes.c_size_t),
        ("data", ctypes.c_void_p),
        ("name", ctypes.c_char * 64),
    ]


def kb_tensors(kb, model, prompt, threads, directory):
    subprocess.run([kb, "generate", "--raw", "--model", model, "--prompt", prompt, "--max-tokens", "1",
                    "--temperature", "0", "--threads", str(threads), "--dump-tensors", directory],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(directory, "index.json")) as index:
        entries = json.load(index)
    return {entry["name"]: np.fromfile(os.path.join(directory, entry["name"] + ".f32"), dtype="<f4")
            for entry in entries}


@llama_cpp.llama_log_callback
def quiet(_level, _text, _user_data):
    pass


def llama_tensors(model, prompt, threads, wanted):
    captured = {}

    @llama_cpp.ggml_backend_sched_eval_callback
    def observe(tensor_pointer, ask, _user_data):
        tensor = ctypes.cast(tensor_pointer, ctypes.POINTER(GGMLTensor)).contents
        name = tensor.name.decode(errors="replace")
        if ask:
            return name in wanted
        if name in wanted and tensor.type == GGML_TYPE_F32 and tensor.data:
            count = tensor.ne[0] * tensor.ne[1] * tensor.ne[2] * tensor.ne[3]
            contiguous = tensor.nb[0] == 4 and all(tensor.nb[i] == tensor.nb[i - 1] * tensor.ne[i - 1] for i in range(1, 4))
            if contiguous:
                values = np.ctypeslib.as_array(ctypes.cast(tensor.data, ctypes.POINTER(ctypes.c_float)), shape=(count,))
                captured[name] = values.copy()   # the last tensor of a name wins (llama.cpp names a few twice)
        return True

    llama_cpp.llama_log_set(quiet, None)
    llama_cpp.llama_backend_init()
    model_params = llama_cpp.llama_model_default_params()
    handle = llama_cpp.llama_model_load_from_file(model.encode(), model_params)
    if not handle:
        raise SystemExit(f"llama.cpp cannot load {model}")
    vocab = llama_cpp.llama_model_get_vocab(handle)
    text = prompt.encode()
    ids = (llama_cpp.llama_token * (len(text) + 8))()
    n = llama_cpp.llama_tokenize(vocab, text, len(text), ids, len(ids), True, True)
    tokens = list(ids[:n])
    context_params = llama_cpp.llama_context_default_params()
    context_params.n_ctx = max(512, n + 8)
    context_params.n_batch = context_params.n_ubatch = max(512, n)
    context_params.n_threads = context_params.n_threads_batch = threads
    context_params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED   # as the fixtures: kb has no flash attention
    context_params.cb_eval = observe
    context = llama_cpp.llama_init_from_model(handle, context_params)
    token_array = (llama_cpp.llama_token * n)(*tokens)   # kept alive through the decode
    batch = llama_cpp.llama_batch_get_one(token_array, n)
    if llama_cpp.llama_decode(context, batch) != 0:
        raise SystemExit("llama_decode failed")
    llama_cpp.llama_free(context)
    llama_cpp.llama_model_free(handle)
    return tokens, captured


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("prompt")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=0.0)
    parser.add_argument("--kb", default=os.path.join(os.path.dirname(__file__), "..", "bin", "kb"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        ours = kb_tensors(args.kb, args.model, args.prompt, args.threads, directory)
    tokens, theirs = llama_tensors(args.model, args.prompt, args.threads, set(ours))
    print(f"{len(tokens)} prompt tokens; {len(ours)} tensors from kb, {len(theirs)} with the same name from llama.cpp")
    worst = 0.0
    first_difference = None
    for name, mine in ours.items():
        other = theirs.get(name)
        if other is None:
            print(f"{name:<16} not seen in llama.cpp's graph")
            continue
        if other.size != mine.size:
            print(f"{name:<16} sizes differ: kb {mine.size}, llama.cpp {other.size}")
            first_difference = first_difference or name
            continue
        difference = float(np.max(np.abs(mine - other))) if mine.size else 0.0
        equal = int(np.sum(mine.view(np.uint32) == other.view(np.uint32)))
        worst = max(worst, difference)
        if difference > args.tolerance and first_difference is None:
            first_difference = name
        print(f"{name:<16} max |diff| {difference:.3e}   bit-equal {equal}/{mine.size}")
    if "result_output" in ours and "result_output" in theirs and ours["result_output"].size == theirs["result_output"].size:
        mine, other = ours["result_output"], theirs["result_output"]
        top = np.sort(other)[-2:]
        print(f"next token: kb {int(np.argmax(mine))}, llama.cpp {int(np.argmax(other))} "
              f"({'same' if np.argmax(mine) == np.argmax(other) else 'different'}; llama.cpp's top-2 gap {top[1] - top[0]:.3f})")
    print(f"worst {worst:.3e}; first difference: {first_difference or 'none'}")
    return 0 if first_difference is None else 1


if __name__ == "__main__":
    sys.exit(main())
