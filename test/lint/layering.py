#!/usr/bin/env python3
"""The layering of docs/architecture.md, checked in includes and in CMake.

cli -> server -> actors -> replica, pg, db; move -> pg, db; pg, db -> proto; common below all (only cli
uses move). A folder may include its own files and those of the layers below it, never above;
replica/format/ (pure formats) may not use the object stores or S3. A lower CMake target never
links a higher one. Exits 1 naming each violation."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
# folder -> the project folders its files may include (besides its own)
ALLOWED = {
    "common": [],
    "proto": ["common"],
    "db": ["proto", "common"],
    "pg": ["proto", "common"],
    "move": ["pg", "db", "proto", "common"],
    "replica/format": ["db", "proto", "common"],
    "replica": ["db", "proto", "common"],
    "actors": ["replica", "pg", "db", "proto", "common"],
    "server": ["actors", "replica", "pg", "db", "proto", "common"],
    "cli": ["server", "actors", "replica", "move", "pg", "db", "proto", "common"],
}
LAYERS = ["common", "proto", "db", "pg", "move", "replica", "actors", "server", "cli"]
TARGET_LAYER = {"monolite_common": "common", "monolite_asio": "common", "monolite_proto": "proto",
                "monolite_db": "db", "monolite_pg": "pg", "monolite_move": "move", "monolite_replica_format": "replica", "monolite_replica": "replica",
                "monolite_actors": "actors", "monolite_server": "server", "monolite_cli": "cli"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path):
    rel = path.relative_to(ROOT).as_posix()
    return "replica/format" if rel.startswith("replica/format/") else rel.split("/")[0]


def layer_of_include(included, folder):
    # Under replica/, only the pure formats are told apart, and only from replica/format/ itself.
    if folder == "replica/format" and included.startswith("replica/format/"):
        return "replica/format"
    return included.split("/")[0]


def include_violations():
    out = []
    for folder in ALLOWED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".hpp", ".cpp") or folder_of(path) != folder:
                continue
            for included in INCLUDE.findall(path.read_text()):
                top = layer_of_include(included, folder)
                if top in ALLOWED and top != folder and top not in ALLOWED[folder]:
                    out.append(f"{path.relative_to(ROOT)} includes {included} ({folder} may not use {top})")
    return out


def cmake_violations():
    out = []
    for layer in LAYERS:
        lists = ROOT / layer / "CMakeLists.txt"
        text = lists.read_text()
        for target in re.findall(r"\bmonolite_[a-z_]+\b", text):
            linked = TARGET_LAYER.get(target)
            if linked and LAYERS.index(linked) > LAYERS.index(layer):
                out.append(f"{lists.relative_to(ROOT)} names {target}, a target of the higher layer {linked}")
    return out


def main():
    problems = include_violations() + cmake_violations()
    for p in problems:
        print(p)
    print(f"layering: {len(problems)} violations")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
