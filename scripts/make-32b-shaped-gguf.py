#!/usr/bin/env python3
"""Writes a GGUF with exactly the metadata, tensor names, shapes and types of Qwen2.5-32B-Instruct
Q4_K_M (64 blocks, d 5120, FFN 27648, 40 heads / 8 KV heads, vocabulary 152,064; Q4_K matrices,
Q6_K for ffn_down and attn_v in llama.cpp's `use_more_bits` layers and for output, F32 norms and
QKV biases; 19.85 GB) but random, well-formed weights: every Q4_K sub-block has scale = minimum = 32
and dmin = 7.5·d, so weights are 32·d·(q − 7.5), centred with a standard deviation near 0.02, and
Q6_K blocks scale 8 (norms 1, biases 0). The tokenizer (and chat template) is copied from a small
Qwen2.5 GGUF, padded to the vocabulary with `[PADn]` tokens as llama.cpp's converter pads.

It is for load, memory and speed tests of a model of the production size (its text is noise).

usage: scripts/make-32b-shaped-gguf.py TOKENIZER_GGUF OUT_GGUF [--layers N]
"""
import argparse
import os
import struct
import sys

import numpy as np

# GGUF value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR = {U8: 'B', I8: 'b', U16: 'H', I16: 'h', U32: 'I', I32: 'i', F32: 'f', BOOL: '?', U64: 'Q', I64: 'q', F64: 'd'}
TYPE_F32, TYPE_Q4_K, TYPE_Q6_K = 0, 12, 14
BLOCK = {TYPE_Q4_K: (256, 144), TYPE_Q6_K: (256, 210)}
ALIGN = 32


def read_kvs(path):
    """The key-value pairs of a GGUF file as (key, type, raw encoded value bytes)."""
    with open(path, 'rb') as f:
        data = f.read(64 << 20)  # the metadata of a small model is well inside this
    pos = 0

    def take(n):
        nonlocal pos
        pos += n
        return data[pos - n:pos]

    def u(fmt):
        return struct.unpack('<' + fmt, take(struct.calcsize(fmt)))[0]

    if take(4) != b'GGUF':
        sys.exit(f'{path}: not a GGUF file')
    version, _, n_kv = u('I'), u('Q'), u('Q')
    if version != 3:
        sys.exit(f'{path}: GGUF version {version}, expected 3')

    def skip_value(t):
        if t == STRING:
            take(u('Q'))
        elif t == ARRAY:
            et, n = u('I'), u('Q')
            if et == STRING:
                for _ in range(n):
                    take(u('Q'))
            else:
                take(n * struct.calcsize(SCALAR[et]))
        else:
            take(struct.calcsize(SCALAR[t]))

    kvs = []
    for _ in range(n_kv):
        key = take(u('Q')).decode()
        t = u('I')
        start = pos
        skip_value(t)
        kvs.append((key, t, data[start:pos]))
    return kvs


def enc_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack('<Q', len(b)) + b


def kv(key, t, value):
    if t == STRING:
        raw = enc_str(value)
    else:
        raw = struct.pack('<' + SCALAR[t], value)
    return (key, t, raw)


def use_more_bits(i, n):
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def tensors(layers):
    d, ff, heads, kv_heads, vocab = 5120, 27648, 40, 8, 152064
    kv_dim = d // heads * kv_heads
    out = [('token_embd.weight', (d, vocab), TYPE_Q4_K)]
    for i in range(layers):
        p = f'blk.{i}.'
        more = use_more_bits(i, layers)
        out += [
            (p + 'attn_norm.weight', (d,), TYPE_F32),
            (p + 'attn_q.weight', (d, d), TYPE_Q4_K), (p + 'attn_q.bias', (d,), TYPE_F32),
            (p + 'attn_k.weight', (d, kv_dim), TYPE_Q4_K), (p + 'attn_k.bias', (kv_dim,), TYPE_F32),
            (p + 'attn_v.weight', (d, kv_dim), TYPE_Q6_K if more else TYPE_Q4_K), (p + 'attn_v.bias', (kv_dim,), TYPE_F32),
            (p + 'attn_output.weight', (d, d), TYPE_Q4_K),
            (p + 'ffn_norm.weight', (d,), TYPE_F32),
            (p + 'ffn_gate.weight', (d, ff), TYPE_Q4_K), (p + 'ffn_up.weight', (d, ff), TYPE_Q4_K),
            (p + 'ffn_down.weight', (ff, d), TYPE_Q6_K if more else TYPE_Q4_K),
        ]
    out += [('output_norm.weight', (d,), TYPE_F32), ('output.weight', (d, vocab), TYPE_Q6_K)]
    return out


def nbytes(shape, t):
    count = int(np.prod(shape))
    if t == TYPE_F32:
        return 4 * count
    per, size = BLOCK[t]
    return count // per * size


def f16_bits(x):
    return np.array([x], dtype=np.float16).view(np.uint16)[0]


def write_tensor(f, name, shape, t, rng):
    if t == TYPE_F32:
        value = 0.0 if name.endswith('.bias') else 1.0
        f.write(np.full(shape[0], value, dtype=np.float32).tobytes())
        return
    per, size = BLOCK[t]
    blocks = int(np.prod(shape)) // per
    chunk = max(1, (64 << 20) // size)
    d = 1.25e-4
    for start in range(0, blocks, chunk):
        n = min(chunk, blocks - start)
        raw = np.frombuffer(rng.bytes(n * size), dtype=np.uint8).reshape(n, size).copy()
        if t == TYPE_Q4_K:
            raw[:, 0:2] = np.frombuffer(struct.pack('<H', f16_bits(d)), dtype=np.uint8)
            raw[:, 2:4] = np.frombuffer(struct.pack('<H', f16_bits(7.5 * d)), dtype=np.uint8)
            raw[:, 4:12] = 160   # 6-bit scales and minimums of sub-blocks 0-3: 32 (low bits), high bits 2 of 4-7
            raw[:, 12:16] = 0    # low 4 bits of sub-blocks 4-7's scales and minimums (32 = 2 << 4 | 0)
        else:
            raw[:, 192:208] = 8  # int8 scales
            raw[:, 208:210] = np.frombuffer(struct.pack('<H', f16_bits(d)), dtype=np.uint8)
        f.write(raw.tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('tokenizer_gguf')
    ap.add_argument('out')
    ap.add_argument('--layers', type=int, default=64, help='blocks (64 for the real shape; fewer for a quick check)')
    args = ap.parse_args()

    source = {k: (t, raw) for k, t, raw in read_kvs(args.tokenizer_gguf)}
    vocab = 152064
    tokens_t, tokens_raw = source['tokenizer.ggml.tokens']
    # The token list: its strings, then [PADn] up to the vocabulary; types likewise (5: unused).
    pos = 12
    n_tokens = struct.unpack('<Q', tokens_raw[4:12])[0]
    if n_tokens > vocab:
        sys.exit(f'{args.tokenizer_gguf}: {n_tokens} tokens, more than {vocab}')
    tokens = tokens_raw[12:]
    for i in range(n_tokens, vocab):
        tokens += enc_str(f'[PAD{i}]')
    types_raw = source['tokenizer.ggml.token_type'][1]
    types = types_raw[12:] + struct.pack(f'<{vocab - n_tokens}i', *([5] * (vocab - n_tokens)))

    kvs = [
        kv('general.architecture', STRING, 'qwen2'),
        kv('general.type', STRING, 'model'),
        kv('general.name', STRING, 'Qwen2.5 32B Instruct (shape only, random weights)'),
        kv('general.basename', STRING, 'Qwen2.5'),
        kv('general.size_label', STRING, '32B'),
        kv('qwen2.block_count', U32, args.layers),
        kv('qwen2.context_length', U32, 32768),
        kv('qwen2.embedding_length', U32, 5120),
        kv('qwen2.feed_forward_length', U32, 27648),
        kv('qwen2.attention.head_count', U32, 40),
        kv('qwen2.attention.head_count_kv', U32, 8),
        kv('qwen2.rope.freq_base', F32, 1000000.0),
        kv('qwen2.attention.layer_norm_rms_epsilon', F32, 1e-6),
        kv('general.file_type', U32, 15),
        ('tokenizer.ggml.model', *source['tokenizer.ggml.model']),
        ('tokenizer.ggml.pre', *source['tokenizer.ggml.pre']),
        ('tokenizer.ggml.tokens', ARRAY, struct.pack('<IQ', STRING, vocab) + tokens),
        ('tokenizer.ggml.token_type', ARRAY, struct.pack('<IQ', I32, vocab) + types),
        ('tokenizer.ggml.merges', *source['tokenizer.ggml.merges']),
    ]
    for key in ['tokenizer.ggml.eos_token_id', 'tokenizer.ggml.padding_token_id', 'tokenizer.ggml.bos_token_id',
                'tokenizer.ggml.add_bos_token', 'tokenizer.chat_template']:
        if key in source:
            kvs.append((key, *source[key]))
    kvs.append(kv('general.quantization_version', U32, 2))

    table = tensors(args.layers)
    header = b'GGUF' + struct.pack('<IQQ', 3, len(table), len(kvs))
    for key, t, raw in kvs:
        header += enc_str(key) + struct.pack('<I', t) + raw
    offset = 0
    for name, shape, t in table:
        header += enc_str(name) + struct.pack('<I', len(shape)) + struct.pack(f'<{len(shape)}Q', *shape)
        header += struct.pack('<IQ', t, offset)
        offset += (nbytes(shape, t) + ALIGN - 1) // ALIGN * ALIGN
    header += b'\0' * (-len(header) % ALIGN)

    rng = np.random.default_rng(32)
    tmp = args.out + '.partial'
    with open(tmp, 'wb') as f:
        f.write(header)
        for i, (name, shape, t) in enumerate(table):
            write_tensor(f, name, shape, t, rng)
            f.write(b'\0' * (-nbytes(shape, t) % ALIGN))
            if i % 50 == 0:
                print(f'{name} … {f.tell() / 1e9:.1f} GB', file=sys.stderr)
    os.replace(tmp, args.out)
    print(f'{args.out}: {len(table)} tensors, {os.path.getsize(args.out):,} bytes')


if __name__ == '__main__':
    main()
