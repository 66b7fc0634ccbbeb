#!/usr/bin/python3
"""The README and docs/: every relative link points to a file of the tree, every #anchor to a
heading of its page (GitHub's anchors: lower case, punctuation dropped, spaces as hyphens),
every docs/ page is reachable from the README, and the README stays short (<= 300 lines).
Usage: docs_links.py SOURCE_DIR; prints each problem, exits 1 if any."""
import glob
import os
import re
import sys

root = sys.argv[1]
pages = ["README.md"] + sorted(os.path.relpath(p, root)
                               for p in glob.glob(os.path.join(root, "docs", "*.md")))


def outside_code(path):
    fence = False
    for n, line in enumerate(open(os.path.join(root, path), encoding="utf-8"), 1):
        if line.startswith("```"):
            fence = not fence
        elif not fence:
            yield n, line.rstrip("\n")


def slug(heading):
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path):
    return {slug(m.group(1)) for _, line in outside_code(path)
            for m in [re.match(r"^#+ (.*)$", line)] if m}


problems = []
linked = set()
for page in pages:
    for n, line in outside_code(page):
        for target in re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", re.sub(r"`[^`]*`", "", line)):
            if re.match(r"^[a-z]+:", target):
                continue  # a web address: not checked (no network in tests)
            path, _, anchor = target.partition("#")
            file = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            if not os.path.exists(os.path.join(root, file)):
                problems.append(f"{page}:{n}: {target}: no file {file}")
                continue
            linked.add(file)
            if anchor and (not file.endswith(".md") or anchor not in anchors(file)):
                problems.append(f"{page}:{n}: {target}: no heading #{anchor} in {file}")

for page in pages[1:]:
    if page not in linked:
        problems.append(f"{page}: no page links to it")
readme_lines = sum(1 for _ in open(os.path.join(root, "README.md"), encoding="utf-8"))
if readme_lines > 300:
    problems.append(f"README.md: {readme_lines} lines, more than 300 (move details to docs/)")

print("\n".join(problems) if problems else f"{len(pages)} pages, links and anchors resolve")
sys.exit(1 if problems else 0)
