#!/usr/bin/env python3
"""Writes the hand-made seed corpora of fuzz_plan, fuzz_edits and fuzz_codec
(fuzz/corpus/{plan,edits,codec}/seed_*). Rerun after changing a seed here;
inputs found by fuzzing are added by `fuzz/run.sh TARGET --merge` instead.
The edits input format is described at the top of fuzz/fuzz_edits.cpp."""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed_" + name), "wb") as f:
        f.write(data)


def read(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read()


# -- plan: model answers as the planner receives them --------------------------
def plan(tasks):
    return json.dumps({"tasks": tasks})


def t(i, path, deps=(), **kw):
    d = {"id": i, "action": "create", "type": "file", "path": path, "description": "d",
         "instructions": "i", "depends_on": list(deps)}
    d.update(kw)
    return d


demo = read("configs/demo/answers/plan.json")
write("plan", "demo", demo)
write("plan", "demo_fenced", b"Here is the plan:\n```json\n" + demo + b"\n```\n")
write("plan", "diamond", plan([t("a", "a.js"), t("b", "b.js", ["a"]), t("c", "c.js", ["a"]),
                               t("d", "index.html", ["b", "c", "b"])]))
write("plan", "chain", plan([t("t%d" % i, "js/f%d.js" % i, ["t%d" % (i - 1)] if i else [])
                             for i in range(30)]))
write("plan", "cycle", plan([t("a", "a.js", ["c"]), t("b", "b.js", ["a"]), t("c", "c.js", ["b"])]))
write("plan", "self_dep", plan([t("a", "a.js", ["a"])]))
write("plan", "dep_by_path", plan([t("a", "js/a.js"), t("b", "b.js", ["js/a.js"])]))
write("plan", "dup_id", plan([t("a", "a.js"), t("a", "b.js")]))
write("plan", "dup_path", plan([t("a", "x/../a.js"), t("b", "./a.js")]))
write("plan", "escape", plan([t("a", "../etc/passwd"), t("b", "/abs")]))
write("plan", "reserved", plan([t("a", "generated_files/x.md")]))
write("plan", "no_tasks", '{"tasks": []}')
write("plan", "bad_action", plan([t("a", "a.js", action="rename")]))
write("plan", "mixed", plan([t("a", "css", type="folder"), t("b", "css/s.css", ["a"], action="update",
                                                              edit="search_replace", context_paths=["x"]),
                             t("c", "old.js", action="delete"), {"id": "d", "path": "d.txt"}]))
# Long and wide plans (within libFuzzer's -max_len=65536): a chain walks
# task_graph's iterative topological order and critical path end to end.
write("plan", "long_chain", json.dumps({"tasks": [{"id": "t%d" % i, "path": "f%d" % i, "depends_on": ["t%d" % (i - 1)] if i else []}
                                                  for i in range(1200)]}, separators=(",", ":")))
write("plan", "wide", json.dumps({"tasks": [{"id": "w%d" % i, "path": "d%d/x" % (i % 7) + str(i), "depends_on": ["w0"] if i else []}
                                            for i in range(1200)]}, separators=(",", ":")))
write("plan", "unknown_dep", plan([t("a", "a.js", ["zz", 3])]))

# -- edits: control byte, then NUL-separated parts (see fuzz_edits.cpp) ----------
HTML = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <title>T</title>\n  <!-- <body> -->\n</head>\n"
        "<body class=\"x\">\n  <script>var s = '</body>';</script>\n  <p>hello</p>\n</body>\n</html>\n")


def edit(control, *parts):
    return bytes([control]) + b"\0".join(p.encode() if isinstance(p, str) else p for p in parts)


write("edits", "whole", edit(0, "old\n", "new content\n"))
write("edits", "whole_create", edit(0x8, "", "created\n"))
write("edits", "whole_blank", edit(0, "x", " \n\t"))
write("edits", "whole_too_large", edit(0x10, "x", "y" * 100))
write("edits", "html_body", edit(1, HTML, "<main>new</main>\n"))
write("edits", "html_head_crlf", edit(1 | 4, HTML.replace("\n", "\r\n"), "<title>New</title>\n<meta x>\n"))
write("edits", "html_wrapped", edit(1, HTML, "<html><head></head><body>\n<p>w</p>\n</body></html>"))
write("edits", "html_no_section", edit(1, "plain text, no html\n", "<p>x</p>"))
write("edits", "html_unclosed", edit(1 | 4, "<html><HEAD data-x='<body>'><title>a</title>", "<base>"))
write("edits", "sr_one", edit(2, "a\nb\nc\n", "b\n", "B\n"))
write("edits", "sr_chain", edit(2, "one two three\n", "one", "1", "1 two", "12", "three", ""))
write("edits", "sr_ambiguous", edit(2, "x x x\n", "x", "y"))
write("edits", "sr_not_found", edit(2, "abc\n", "zzz", "y"))
write("edits", "sr_crlf", edit(2, "a\r\nb\r\nc\r\n", "a\nb\n", "A\nB\n"))
write("edits", "sr_empty_search", edit(2, "abc\n", "", "y"))
write("edits", "sr_delete_all", edit(2, "abc", "abc", ""))
write("edits", "json_whole", edit(3, "", read("configs/demo/answers/coder/index.html.json")))
write("edits", "json_fix", edit(3, read("configs/demo/app/js/app.js") if os.path.exists(
    os.path.join(ROOT, "configs/demo/app/js/app.js")) else "x", read("configs/demo/answers/fix_js_app.js.json")))
write("edits", "json_section", edit(3, HTML, json.dumps({"kind": "html_section", "section": "head",
                                                          "content": "<title>J</title>", "summary": "s"})))
write("edits", "json_bad", edit(3, "x", '{"kind": "search_replace", "blocks": [{"search": "", "replace": 1}]}'))

# -- codec: one record of each type, as the store writes them ---------------------
write("codec", "meta", json.dumps({"v": 1, "schema_version": 1, "store_id": "ab12cd34", "created_ms": 1764633600000,
                                   "created_by": "codehive 0.1.0"}))
write("codec", "run", json.dumps({"v": 1, "id": "20261121-155900-ab12", "request": "a kanban board",
                                  "config": {"coders": 4, "models": ["m"]}, "state": "budget_stopped",
                                  "state_reason": "budget", "exit_code": 4, "created_ms": 1, "updated_ms": 2}))
write("codec", "task", json.dumps({"v": 1, "id": "t01", "action": "create", "type": "file", "path": "css/style.css",
                                   "description": "d", "instructions": "i", "depends_on": ["t00"],
                                   "context_paths": ["index.html"], "edit": "whole", "plan_index": 3,
                                   "state": "failed", "attempts": 2, "worker": "node-2/coder-3",
                                   "last_error_code": "timeout", "last_reason": "r", "file_hash": "",
                                   "created_ms": 1, "updated_ms": 5, "assigned_ms": 3, "finished_ms": 5,
                                   "history": [{"from": "pending", "to": "assigned", "at_ms": 3, "attempt": 1,
                                                "worker": "w"},
                                               {"from": "assigned", "to": "failed", "at_ms": 5, "attempt": 1,
                                                "reason": "r", "error_code": "timeout"}]}))
write("codec", "file", json.dumps({"v": 1, "path": "js/app.js", "version": 3, "hash": "e3b0c442" * 8, "size": 120,
                                   "deleted": False, "task_id": "t01", "summary": "app", "at_ms": 9}))
write("codec", "file_deleted", json.dumps({"v": 1, "path": "old.js", "version": 2, "hash": "", "size": 0,
                                           "deleted": True}))
write("codec", "review", json.dumps({"v": 1, "round": 2, "issues": [{"file": "index.html", "problem": "p",
                                                                     "instructions": "i"}],
                                     "findings": [{"check": "html", "ok": False, "detail": "x\u00e9"}], "at_ms": 7}))
write("codec", "ledger", json.dumps({"v": 1, "seq": 12, "at_ms": 5, "role": "coder", "model": "gpt-4o-mini",
                                     "prompt_tokens": 1200, "completion_tokens": 300, "latency_ms": 2100,
                                     "tokens_per_s": 142.857, "cost_usd": 0.00036, "attempts": 2,
                                     "outcome": "error", "error_code": "rate_limited", "task_id": "t01", "attempt": 1}))
write("codec", "event", json.dumps({"v": 1, "seq": 1, "type": "run_state", "data": {"state": "done", "n": [1, 2.5]},
                                    "at_ms": 4}))
write("codec", "newer", json.dumps({"v": 2, "seq": 1, "type": "x"}))
write("codec", "bad_type", json.dumps({"v": 1, "seq": -1, "type": 3, "id": "x", "state": "nope"}))
write("codec", "escapes", '{"v":1,"id":"a\\u0000b\\ud83d\\ude00","state":"running","request":"\\"q\\"\\n",'
                          '"path":"p","version":1,"hash":"h","seq":1,"type":"t","round":1,"store_id":"s",'
                          '"schema_version":1}')
write("codec", "not_object", "[1, 2, 3]")
print("seeds written under", CORPUS)
