#!/usr/bin/env python3
"""Checks that Package.swift is the true dependency graph: every module a target imports is one of
its declared dependencies (a target or a product named in its `dependencies`) or a module of the
toolchain. SwiftPM's own explicit-import check misses modules that arrive transitively (A declares
B, B declares C, A imports C and builds); this check does not. `@_exported import` is refused too:
a module's users import what they use themselves.

Usage: scripts/check-imports.py [PACKAGE_DIR]     exit 0 when clean, 1 with one line per problem.
Known exceptions, each with its reason, are listed in PACKAGE_DIR/scripts/check-imports.allow.
"""
import json
import os
import re
import subprocess
import sys

# Modules of the Swift toolchain and the C library: always importable.
TOOLCHAIN = {
    "Foundation", "FoundationEssentials", "FoundationInternationalization", "FoundationNetworking",
    "FoundationXML", "Dispatch", "Glibc", "Musl", "Darwin", "XCTest", "Testing", "Synchronization",
    "_Concurrency", "_StringProcessing", "RegexBuilder", "Observation", "Distributed", "Swift",
    "CoreFoundation", "SwiftShims",
}

IMPORT = re.compile(
    r"^\s*(?P<attrs>(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*)import\s+"
    r"(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?(?P<module>[A-Za-z_][A-Za-z0-9_]*)")


def declared(target):
    names = set()
    for dependency in target["dependencies"]:
        (kind, value), = dependency.items()
        names.add(value[0])   # byName / target: the target's name; product: the product's (= its module's) name
    return names


def target_dir(root, target):
    if target.get("path"):
        return os.path.join(root, target["path"])
    base = "Tests" if target["type"] == "test" else "Sources"
    return os.path.join(root, base, target["name"])


def allowed_exceptions(root):
    path = os.path.join(root, "scripts", "check-imports.allow")
    pairs = set()
    if os.path.exists(path):
        with open(path, encoding="utf-8") as listing:
            for line in listing:
                words = line.split("#", 1)[0].split()
                if len(words) == 2:
                    pairs.add((words[0], words[1]))
    return pairs


def problems(root):
    exceptions = allowed_exceptions(root)
    package = json.loads(subprocess.run(["swift", "package", "--package-path", root, "dump-package"],
                                        check=True, capture_output=True, text=True).stdout)
    found = []
    for target in package["targets"]:
        if target["type"] in ("system", "binary", "plugin", "macro"):
            continue
        allowed = declared(target) | TOOLCHAIN | {target["name"]}
        directory = target_dir(root, target)
        for folder, _, files in os.walk(directory):
            for file in sorted(files):
                if not file.endswith(".swift"):
                    continue
                path = os.path.join(folder, file)
                with open(path, encoding="utf-8") as source:
                    for number, line in enumerate(source, 1):
                        match = IMPORT.match(line)
                        if not match:
                            continue
                        module = match.group("module")
                        where = f"{os.path.relpath(path, root)}:{number}"
                        if "@_exported" in match.group("attrs"):
                            found.append(f"{where}: @_exported import {module} (import it where it is used instead)")
                        if module not in allowed and (target["name"], module) not in exceptions:
                            found.append(f"{where}: target {target['name']} imports {module}, "
                                         f"which its dependencies in Package.swift do not declare")
    return found


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    found = problems(root)
    for line in found:
        print(line)
    print(f"check-imports: {len(found)} problem(s)" if found else "check-imports: every import is declared")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
