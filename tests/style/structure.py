#!/usr/bin/env python3
"""The structure rules of partd's C code (issue: one description per
concept), checked on every run:

- no file in libpart/, partd/ or partctl/ over 1,000 lines;
- no function over 80 lines (from the line that opens its definition to its
  closing brace);
- no include circle: with a module being a .c file and its header(s) of the
  same name, no two modules include each other, directly or round a loop.
  Files named PREFIX-*.c that share a private header PREFIX.h or
  PREFIX-internal.h (manager-*.c, plan-*.c, hv-libvirt-*.c) are one module.

Prints each breach with file and line, then `N passed, N failed`; exits 1
on any breach. Usage: structure.py [REPO]"""
import os
import re
import sys

MAX_FILE = 1000
MAX_FUNCTION = 80
DIRS = ("libpart", "partd", "partctl")


def sources(repo):
    for d in DIRS:
        for root, _, files in os.walk(os.path.join(repo, d)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(root, f)


# a function definition starts at column 0 with a name and "(", and is not a
# declaration (those end with ";") or a macro
DEF = re.compile(r"^(?!static\s+const\b)(?:[A-Za-z_][\w\s\*]*?[\s\*])?([A-Za-z_]\w*)\s*\(")


def functions(lines):
    """Yields (name, first line, length) of each function defined."""
    i = 0
    while i < len(lines):
        m = DEF.match(lines[i])
        if not m or lines[i].startswith(("#", " ", "\t", "}")) or lines[i].rstrip().endswith(";"):
            i += 1
            continue
        # the signature may span lines; the body opens with "{" at column 0
        j = i
        while j < len(lines) and not lines[j].startswith("{"):
            if lines[j].rstrip().endswith(";"):
                break
            j += 1
        if j >= len(lines) or not lines[j].startswith("{"):
            i = j + 1
            continue
        k = j + 1
        while k < len(lines) and not lines[k].startswith("}"):
            k += 1
        yield m.group(1), i + 1, k - i + 1
        i = k + 1


def module_of(rel, names):
    """(component, module) of a file: its name without the extension, or the
    longest PREFIX of it (cut at a "-") that has a private header PREFIX.h or
    PREFIX-internal.h in the same component."""
    comp = rel.split(os.sep)[0]
    base = os.path.splitext(os.path.basename(rel))[0]
    if base.endswith("-internal"):
        base = base[: -len("-internal")]
    parts = base.split("-")
    for n in range(len(parts) - 1, 0, -1):
        prefix = "-".join(parts[:n])
        if (comp, prefix + ".h") in names or (comp, prefix + "-internal.h") in names:
            return (comp, prefix)
    return (comp, base)


def include_graph(repo):
    graph, where = {}, {}
    headers = {}
    names = set()
    for path in sources(repo):
        headers.setdefault(os.path.basename(path), []).append(path)
        rel = os.path.relpath(path, repo)
        names.add((rel.split(os.sep)[0], os.path.basename(path)))
    for path in sources(repo):
        rel = os.path.relpath(path, repo)
        mod = module_of(rel, names)
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            target = os.path.basename(m.group(1))
            for h in headers.get(target, []):
                tmod = module_of(os.path.relpath(h, repo), names)
                if tmod != mod:
                    graph.setdefault(mod, set()).add(tmod)
                    where.setdefault((mod, tmod), f"{rel}:{n}")
    return graph, where


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main():
    repo = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), "..", ".."))
    passed = failed = 0
    longest = []
    for path in sources(repo):
        rel = os.path.relpath(path, repo)
        lines = open(path, encoding="utf-8").read().split("\n")
        if len(lines) - 1 > MAX_FILE:
            print(f"FAIL {rel}: {len(lines) - 1} lines (at most {MAX_FILE})")
            failed += 1
        else:
            passed += 1
        for name, first, length in functions(lines):
            longest.append((length, f"{rel}:{first} {name}"))
            if length > MAX_FUNCTION:
                print(f"FAIL {rel}:{first}: {name}() is {length} lines (at most {MAX_FUNCTION})")
                failed += 1
            else:
                passed += 1
    graph, where = include_graph(repo)
    for comp in cycles(graph):
        names = ", ".join(f"{d}/{m}" for d, m in comp)
        edges = [where[(a, b)] for a in comp for b in comp if (a, b) in where]
        print(f"FAIL include circle between {names} ({'; '.join(edges)})")
        failed += 1
    passed += 1 if not cycles(graph) else 0
    longest.sort(reverse=True)
    print("longest functions: " + ", ".join(f"{w} ({n})" for n, w in longest[:5]))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
