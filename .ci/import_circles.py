"""Fails when two or more files of one crate import each other in a circle.

Edges run from a file to the file that defines the module a `crate::…` or `super::…` path names
(in `use` statements, braces expanded, and inline paths; comments and `#[cfg(test)] mod tests`
left out). A parent module and its own children may refer to each other: that is how Rust
modules are built, not a circle. Usage: python3 .ci/import_circles.py [workspace root]"""
import os, re, sys, itertools
root = sys.argv[1] if len(sys.argv) > 1 else "."
def files_of(src):
    out = {}
    for d, _, fs in os.walk(src):
        for f in fs:
            if f.endswith(".rs"):
                p = os.path.join(d, f); rel = os.path.relpath(p, src)[:-3].split(os.sep)
                if rel[-1] in ("mod", "lib", "main"): rel = rel[:-1]
                out[tuple(rel)] = p
    return out
def expand(use):
    # expand braces: a::{b, c::{d}} -> [a::b, a::c::d]
    m = re.search(r"\{", use)
    if not m: return [use]
    depth = 0
    for i in range(m.start(), len(use)):
        if use[i] == "{": depth += 1
        elif use[i] == "}":
            depth -= 1
            if depth == 0: break
    inner = use[m.start()+1:i]; parts = []; depth = 0; cur = ""
    for c in inner:
        if c == "," and depth == 0: parts.append(cur); cur = ""; continue
        if c == "{": depth += 1
        if c == "}": depth -= 1
        cur += c
    parts.append(cur)
    res = []
    for p in parts:
        p = p.strip()
        if p: res += expand(use[:m.start()] + p + use[i+1:])
    return res
total = 0
for crate in sorted(os.listdir(root)):
    src = os.path.join(root, crate, "src")
    if not os.path.isdir(src): continue
    mods = files_of(src); edges = {}
    for mod, path in mods.items():
        text = re.sub(r"//[^\n]*", "", open(path).read())
        text = re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", text, flags=re.S)
        paths = []
        for u in re.findall(r"\buse\s+([^;]+);", text, flags=re.S):
            paths += expand(re.sub(r"\s+", "", u))
        paths += re.findall(r"\b((?:crate|super)(?:::[a-z_][a-z0-9_]*)+)", text)
        is_dir = path.endswith(("mod.rs", "lib.rs", "main.rs"))
        for p in paths:
            segs = p.split("::")
            if segs[0] == "crate": base = []; segs = segs[1:]
            elif segs[0] == "super":
                base = list(mod)
                while segs and segs[0] == "super":
                    base = base[:-1]; segs = segs[1:]
            else: continue
            target = None
            full = base + segs
            for k in range(len(full), 0, -1):
                if tuple(full[:k]) in mods: target = tuple(full[:k]); break
            if target is None or target == mod: continue
            # ignore parent<->child
            if target == mod[:len(target)] or mod == target[:len(mod)]: continue
            edges.setdefault(mod, set()).add(target)
    # SCC (Tarjan)
    index = {}; low = {}; stack = []; on = set(); sccs = []; c = [0]
    sys.setrecursionlimit(10000)
    def strong(v):
        index[v] = low[v] = c[0]; c[0] += 1; stack.append(v); on.add(v)
        for w in edges.get(v, ()):
            if w not in index: strong(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: sccs.append(comp)
    for v in list(mods): 
        if v not in index: strong(v)
    for s in sccs:
        total += 1
        print(crate, ":", " <-> ".join("/".join(x) or "lib" for x in s))
print(f"import circles between files: {total}")
sys.exit(1 if total else 0)
