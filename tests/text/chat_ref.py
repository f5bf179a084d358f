#!/usr/bin/env python3
"""Reference chat prompts: renders a Jinja chat template with jinja2 the way
HF's apply_chat_template does (trim_blocks, lstrip_blocks, raise_exception).

usage: chat_ref.py render TEMPLATE_FILE MESSAGES.json BOS EOS GEN(0|1)
       chat_ref.py gguf-template MODEL.gguf   (prints tokenizer.chat_template)
"""
import json
import struct
import sys


def gguf_template(path):
    # Only the metadata is walked: enough to find one string key.
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'GGUF':
        raise SystemExit('not a GGUF file: ' + path)
    off = 4
    _ver, _nt, nkv = struct.unpack_from('<IQQ', data, off)
    off += 20
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def read_str(o):
        n, = struct.unpack_from('<Q', data, o)
        return data[o + 8:o + 8 + n], o + 8 + n

    def skip(t, o):
        if t in sizes:
            return o + sizes[t]
        if t == 8:
            return read_str(o)[1]
        et, n = struct.unpack_from('<IQ', data, o)
        o += 12
        if et in sizes:
            return o + n * sizes[et]
        for _ in range(n):
            o = skip(et, o)
        return o

    for _ in range(nkv):
        key, off = read_str(off)
        t, = struct.unpack_from('<I', data, off)
        off += 4
        if key == b'tokenizer.chat_template' and t == 8:
            return read_str(off)[0].decode()
        off = skip(t, off)
    raise SystemExit('no tokenizer.chat_template in ' + path)


def render(tmpl_path, msgs_path, bos, eos, gen):
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(msg):
        raise jinja2.exceptions.TemplateError(msg)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=['jinja2.ext.loopcontrols'])
    env.globals['raise_exception'] = raise_exception
    tmpl = env.from_string(open(tmpl_path, encoding='utf-8').read())
    msgs = json.load(open(msgs_path, encoding='utf-8'))
    out = tmpl.render(messages=msgs, bos_token=bos, eos_token=eos, add_generation_prompt=gen == '1')
    sys.stdout.write(out)


if __name__ == '__main__':
    if sys.argv[1] == 'gguf-template':
        sys.stdout.write(gguf_template(sys.argv[2]))
    else:
        render(*sys.argv[2:7])
