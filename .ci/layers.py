#!/usr/bin/env python3
"""Checks studybot's import graph: no circle between source files or between top-level
modules, no import from a lower layer to a higher one (core <- store <- app <- transports),
no transport importing another. Parses `crate::` and `super::` paths in src/ (code after a
file's first `#[cfg(test)]` is left out: tests may reach anywhere).

Usage: python3 .ci/layers.py [src] [--dot]   (--dot also prints the graph for Graphviz)
Prints each problem and a count; exits 1 if there is any (CI runs it, README's Layout)."""
import os, re, sys
from collections import defaultdict

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
SRC = ARGS[0] if ARGS else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

def module_of(path):
    rel = os.path.relpath(path, SRC)[:-3]
    parts = rel.split(os.sep)
    if parts[-1] in ("mod", "lib"): parts = parts[:-1]
    return tuple(parts)

files = {}
for root, _, names in os.walk(SRC):
    for n in names:
        if n.endswith(".rs") and n != "main.rs":
            p = os.path.join(root, n)
            files[module_of(p)] = p

def resolve(segs):
    """The longest module prefix of a path that is a file."""
    for k in range(len(segs), 0, -1):
        if tuple(segs[:k]) in files: return tuple(segs[:k])
    return None

def code_lines(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if s.startswith("#[cfg(test)]"): break
            if s.startswith("//"): continue
            out.append(line.split("//")[0] if "\"" not in line else line)
    return "".join(out)

PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
GROUP = re.compile(r"\b(crate|super)::((?:[a-z_][a-z0-9_]*::)*)\{([^}]*)\}", re.S)
edges = defaultdict(set)
for mod, path in files.items():
    text = code_lines(path)
    is_dir = os.path.basename(path) == "mod.rs"
    base = list(mod) if is_dir else list(mod[:-1])
    targets = []
    for m in GROUP.finditer(text):
        prefix = [s for s in m.group(2).split("::") if s]
        for item in m.group(3).split(","):
            item = item.strip().split(" as ")[0]
            segs = prefix + [s for s in item.split("::") if s and s != "self"]
            targets.append((m.group(1), segs))
    for m in PATH.finditer(text):
        targets.append((m.group(1), [s for s in m.group(2).split("::") if s]))
    for kind, segs in targets:
        if kind == "super":
            up = list(base)
            while segs and segs[0] == "super": segs = segs[1:]; up = up[:-1]
            segs = up + segs
        t = resolve(segs)
        if t and t != mod and t != ():
            edges[mod].add(t)

# Every top-level module of src/lib.rs, with its layer: 0 the pure core (and what every
# layer may read: config, telemetry, progress), 1 the store, 2 the app, 3 the transports.
# An import may point to its own layer or lower, never higher; a transport never imports
# another transport. src/main.rs is the binary: it may import anything, so it is not read.
# A module that lib.rs declares and this table does not name is a problem too.
LAYER = {
    # the pure core
    "text": 0, "reply": 0, "command": 0, "plan": 0, "schedule": 0, "messages": 0,
    "quiz": 0, "review": 0, "record": 0, "limits": 0, "webapp": 0,
    # issue 21's shared vocabulary (callback data, display names, calendar, sentences)
    "vocab": 0, "calendar": 0, "callback": 0, "names": 0, "sentences": 0,
    "daily": 0, "weekly": 0,
    # read by every layer: settings, metrics counters, progress bars
    "config": 0, "telemetry": 0, "progress": 0,
    "store": 1,
    "app": 2,
    # the transports: Telegram (with the Mini App's HTTP server, telegram/web), the
    # terminal console, the control socket
    "telegram": 3, "console": 3, "control": 3,
}
def layer(mod):
    if not mod: return 0
    return LAYER.get(mod[0])

problems = []
# Every module lib.rs declares must have a layer.
with open(os.path.join(SRC, "lib.rs"), encoding="utf-8") as f:
    declared = re.findall(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", f.read(), re.M)
for name in declared:
    if name not in LAYER:
        problems.append(f"module missing from the layer table (.ci/layers.py): {name}")
for a, bs in sorted(edges.items()):
    for b in sorted(bs):
        la, lb = layer(a), layer(b)
        if la is None or lb is None:
            problems.append(f"unknown layer: {'/'.join(a)} -> {'/'.join(b)}")
        elif lb > la:
            problems.append(f"upward import: {'/'.join(a)} (layer {la}) -> {'/'.join(b)} (layer {lb})")
        elif la == 3 and lb == 3 and a[0] != b[0]:
            problems.append(f"transport imports another transport: {'/'.join(a)} -> {'/'.join(b)}")

# Circles between files (Tarjan), and between top-level core modules.
def sccs(nodes, adj):
    index, low, stack, on, out, i = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def visit(v):
        index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
        for w in adj.get(v, ()):
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(comp)
    for v in nodes:
        if v not in index: visit(v)
    return out

# Every edge counts, a child's `super::` import of its parent's mod.rs included: a mod.rs
# that imports its children while they import it is a circle like any other.
for comp in sccs(sorted(files), edges):
    names = sorted("/".join(c) or "lib" for c in comp)
    problems.append("circle between files: " + ", ".join(names))
top = defaultdict(set)
for a, bs in edges.items():
    for b in bs:
        if a[:1] != b[:1] and a and b: top[a[:1]].add(b[:1])
for comp in sccs(sorted(top), top):
    problems.append("circle between modules: " + ", ".join(sorted(c[0] for c in comp)))

if "--dot" in sys.argv:
    print("digraph imports {")
    for a, bs in sorted(edges.items()):
        for b in sorted(bs): print(f'  "{"/".join(a)}" -> "{"/".join(b)}";')
    print("}")
for p in problems: print(p)
print(f"{len(files)} files, {sum(len(b) for b in edges.values())} imports, {len(problems)} problems")
sys.exit(1 if problems else 0)
