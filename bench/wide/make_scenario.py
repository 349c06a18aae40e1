#!/usr/bin/env python3
"""Builds the WIDE benchmark scenario: 24 independent JS modules and an index.html.

    python3 bench/wide/make_scenario.py          # writes into bench/wide/

Outputs (all generated, not committed):
  bench/wide/request.txt                 the request
  bench/wide/app/                        the expected output (25 files)
  bench/wide/answers/plan.json           planner answer: 25 `create` tasks, NO depends_on
  bench/wide/answers/coder/<path>.json   coder answer per file (edit.json, kind "whole")
  bench/wide/scenario.json               llm-sim scenario wiring them to roles and paths

Every answer is SCRIPTED (written here) and replayed by llm-sim; nothing is generated
by a model. Unlike the demo (configs/demo), whose task graph never has more than ~4 tasks
ready at once, all 25 tasks here are ready as soon as the plan is in, so more coders
can help. Latency: the demo's (coders 150 ms to first token + 400 tokens/s; llm-sim
counts ~4 characters a token), each module ~6-9 KB, so a coding call takes ~4-6 s.
The validator finds nothing: every module is a classic script that passes
`node --check`, and index.html only refers to files that exist. Only the standard library.
"""
import json
import os
import shutil
import subprocess
import sys

# The scenario pieces shared with the demo's generator.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "configs", "demo"))
from scenario_parts import review_clean_rule, scenario, summarize_rule  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "app")
ANSWERS = os.path.join(HERE, "answers")

REQUEST = ("A toolbox page in plain HTML/JS: 24 independent utility modules "
           "(src/m01.js .. src/m24.js, classic scripts, each defining one global namespace "
           "object) and an index.html that loads them all and lists each module's functions.")

TOPICS = [
    ("Strings", "text"), ("Arrays", "list"), ("Dates", "date"), ("Numbers", "num"),
    ("Colors", "color"), ("Checks", "value"), ("Queue", "queue"), ("Events", "event"),
    ("Cache", "cache"), ("Matrix", "matrix"), ("Stats", "sample"), ("Geometry", "point"),
    ("Urls", "url"), ("Csv", "row"), ("Templates", "tpl"), ("Money", "amount"),
    ("Units", "qty"), ("Random", "seed"), ("Sorting", "items"), ("Search", "haystack"),
    ("Graph", "graph"), ("Wrap", "para"), ("Format", "field"), ("Ids", "key"),
]

# Function templates: (name suffix, doc, body). {n} = the noun, {N} = the module's
# namespace, {i} = the module number. Each body is valid ES5.
FUNCS = [
    ("Count", "Counts the {n} entries that satisfy a predicate.",
     """function {f}(entries, predicate) {{
    var total = 0;
    if (!Array.isArray(entries)) return 0;
    for (var k = 0; k < entries.length; k++) {{
      if (typeof predicate !== 'function' || predicate(entries[k], k)) total += 1;
    }}
    return total;
  }}"""),
    ("Group", "Groups {n} entries by the key a function returns for each.",
     """function {f}(entries, keyOf) {{
    var groups = {{}};
    (entries || []).forEach(function (entry, index) {{
      var key = String(keyOf ? keyOf(entry, index) : entry);
      if (!Object.prototype.hasOwnProperty.call(groups, key)) groups[key] = [];
      groups[key].push(entry);
    }});
    return groups;
  }}"""),
    ("Clamp", "Clamps a {n} measure into [low, high]; NaN becomes low.",
     """function {f}(value, low, high) {{
    var v = Number(value);
    if (isNaN(v)) return low;
    if (low > high) {{ var swap = low; low = high; high = swap; }}
    return v < low ? low : (v > high ? high : v);
  }}"""),
    ("Describe", "Describes a {n} value in one short, human-readable line.",
     """function {f}(value) {{
    if (value === null) return 'null';
    if (value === undefined) return 'undefined';
    if (Array.isArray(value)) return 'array of ' + value.length + ' item' + (value.length === 1 ? '' : 's');
    if (typeof value === 'object') return 'object with keys ' + Object.keys(value).slice(0, 5).join(', ');
    if (typeof value === 'string') return 'text "' + (value.length > 24 ? value.slice(0, 21) + '...' : value) + '"';
    return typeof value + ' ' + String(value);
  }}"""),
    ("Merge", "Merges {n} option objects left to right into a new object (shallow).",
     """function {f}() {{
    var out = {{}};
    for (var a = 0; a < arguments.length; a++) {{
      var source = arguments[a];
      if (!source || typeof source !== 'object') continue;
      Object.keys(source).forEach(function (key) {{
        if (source[key] !== undefined) out[key] = source[key];
      }});
    }}
    return out;
  }}"""),
    ("Chunk", "Splits a {n} list into chunks of at most `size` entries.",
     """function {f}(list, size) {{
    var step = Math.max(1, Math.floor(size) || 1);
    var chunks = [];
    for (var start = 0; start < (list || []).length; start += step) {{
      chunks.push(list.slice(start, start + step));
    }}
    return chunks;
  }}"""),
    ("Unique", "Returns the {n} entries without duplicates, keeping the first of each.",
     """function {f}(list, keyOf) {{
    var seen = {{}};
    var out = [];
    (list || []).forEach(function (entry) {{
      var key = keyOf ? String(keyOf(entry)) : typeof entry + ':' + String(entry);
      if (seen[key]) return;
      seen[key] = true;
      out.push(entry);
    }});
    return out;
  }}"""),
    ("Pad", "Pads a {n} label on the left to `width` characters with `fill`.",
     """function {f}(label, width, fill) {{
    var text = label === null || label === undefined ? '' : String(label);
    var pad = fill === undefined || fill === '' ? ' ' : String(fill).charAt(0);
    while (text.length < width) text = pad + text;
    return text;
  }}"""),
    ("Sum", "Adds up a numeric field of the {n} entries, skipping non-numbers.",
     """function {f}(entries, field) {{
    var total = 0;
    (entries || []).forEach(function (entry) {{
      var v = field ? (entry && entry[field]) : entry;
      if (typeof v === 'number' && isFinite(v)) total += v;
    }});
    return Math.round(total * 1e9) / 1e9;
  }}"""),
    ("Escape", "Escapes a {n} text for safe use inside HTML.",
     """function {f}(text) {{
    return String(text === null || text === undefined ? '' : text)
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;');
  }}"""),
    ("Range", "Builds the list of {n} indexes from `start` (inclusive) to `end` (exclusive).",
     """function {f}(start, end, step) {{
    var s = step || 1;
    var out = [];
    if (s > 0) {{ for (var v = start; v < end; v += s) out.push(v); }}
    else {{ for (var w = start; w > end; w += s) out.push(w); }}
    return out;
  }}"""),
    ("Parse", "Parses a `key=value;key=value` {n} spec into an object.",
     """function {f}(spec) {{
    var out = {{}};
    String(spec || '').split(';').forEach(function (part) {{
      var eq = part.indexOf('=');
      if (eq <= 0) return;
      var key = part.slice(0, eq).trim();
      var raw = part.slice(eq + 1).trim();
      var num = Number(raw);
      out[key] = raw !== '' && !isNaN(num) ? num : raw;
    }});
    return out;
  }}"""),
    ("Stringify", "Writes an object back as a `key=value;key=value` {n} spec, keys sorted.",
     """function {f}(obj) {{
    return Object.keys(obj || {{}}).sort().map(function (key) {{
      return key + '=' + String(obj[key]);
    }}).join(';');
  }}"""),
    ("Debounce", "Wraps a {n} callback so it runs once, `wait` ms after the last call.",
     """function {f}(callback, wait) {{
    var timer = null;
    return function () {{
      var self = this;
      var args = arguments;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(function () {{
        timer = null;
        callback.apply(self, args);
      }}, wait || 0);
    }};
  }}"""),
    ("Compare", "Compares two {n} values for sorting: numbers numerically, else as text.",
     """function {f}(a, b) {{
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    var x = String(a).toLowerCase();
    var y = String(b).toLowerCase();
    return x < y ? -1 : (x > y ? 1 : 0);
  }}"""),
    ("Flatten", "Flattens nested {n} lists into one list, `depth` levels deep.",
     """function {f}(list, depth) {{
    var level = depth === undefined ? Infinity : depth;
    var out = [];
    (function walk(items, d) {{
      items.forEach(function (item) {{
        if (Array.isArray(item) && d > 0) walk(item, d - 1);
        else out.push(item);
      }});
    }})(list || [], level);
    return out;
  }}"""),
    ("Pick", "Copies only the named fields of a {n} record.",
     """function {f}(record, fields) {{
    var out = {{}};
    (fields || []).forEach(function (name) {{
      if (record && Object.prototype.hasOwnProperty.call(record, name)) out[name] = record[name];
    }});
    return out;
  }}"""),
    ("Equal", "Deep-compares two {n} values made of objects, arrays and primitives.",
     """function {f}(a, b) {{
    if (a === b) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    var ka = Object.keys(a);
    var kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (var k = 0; k < ka.length; k++) {{
      if (!{f}(a[ka[k]], b[ka[k]])) return false;
    }}
    return true;
  }}"""),
]


def module_source(i, topic, noun):
    ns = "M%02d" % i
    # Rotate through the templates so each module gets a different selection and order.
    count = 14 + (i % 5)  # 14..18 functions: sizes vary between modules
    picked = [FUNCS[(i * 5 + k) % len(FUNCS)] for k in range(count)]
    names = []
    parts = []
    for (suffix, doc, body) in picked:
        fname = noun + suffix
        names.append(fname)
        params = body.split("(", 1)[1].split(")", 1)[0]
        params = [p.strip() for p in params.split(",") if p.strip()]
        jsdoc = "  /**\n   * %s\n" % doc.format(n=noun)
        jsdoc += "".join("   * @param %s the %s %s.\n" % (p, noun, p) for p in params)
        jsdoc += "   * @returns the result; never throws on missing input.\n   */\n"
        parts.append("%s  %s\n" % (jsdoc, body.format(f=fname)))
    header = (
        "/*\n"
        " * src/m%02d.js: %s helpers (module %d of 24).\n"
        " * Classic script: defines the global %s and nothing else. Pure functions,\n"
        " * no DOM access, ES5 so it runs in any browser and under node.\n"
        " */\n" % (i, topic, i, ns))
    exports = ",\n".join("    %s: %s" % (n, n) for n in names)
    return (header + "var %s = (function () {\n  'use strict';\n\n" % ns
            + "\n".join(parts)
            + "\n  return {\n    name: '%s',\n%s\n  };\n})();\n" % (topic, exports)), names


def index_html(modules):
    scripts = "\n".join('  <script src="src/m%02d.js"></script>' % i for (i, _, _, _) in modules)
    listing = ",\n      ".join("M%02d" % i for (i, _, _, _) in modules)
    return """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Toolbox</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 2em; }
    li { margin: 0.2em 0; }
    code { background: #f2f2f2; padding: 0 0.3em; }
  </style>
</head>
<body>
  <h1>Toolbox</h1>
  <p>Twenty-four utility modules, each a global namespace object.</p>
  <ul id="modules"></ul>
%s
  <script>
    (function () {
      var all = [
      %s
      ];
      var list = document.getElementById('modules');
      all.forEach(function (mod) {
        var item = document.createElement('li');
        var fns = Object.keys(mod).filter(function (k) { return typeof mod[k] === 'function'; });
        item.textContent = mod.name + ': ' + fns.join(', ');
        list.appendChild(item);
      });
    })();
  </script>
</body>
</html>
""" % (scripts, listing)


def chars_to_tokens(n):
    return n / 4.0


def main():
    modules = []
    for i, (topic, noun) in enumerate(TOPICS, start=1):
        src, names = module_source(i, topic, noun)
        modules.append((i, topic, src, names))
    files = {"src/m%02d.js" % i: src for (i, _, src, _) in modules}
    files["index.html"] = index_html(modules)

    tasks = []
    for (i, topic, _, names) in modules:
        path = "src/m%02d.js" % i
        steps = ["Classic script, ES5, no modules: define exactly one global, `var M%02d = (function () { 'use strict'; ... return {...}; })();`." % i,
                 "Start with a comment header naming the file and saying it defines M%02d and nothing else." % i,
                 "Define these pure functions, each with a one-line doc comment: %s." % ", ".join(names),
                 "Return them from the IIFE together with `name: '%s'`." % topic,
                 "No DOM access, no dependencies on other modules."]
        tasks.append({
            "id": "t%02d" % i, "action": "create", "type": "file", "path": path,
            "description": "%s helpers as the global M%02d." % (topic, i),
            "instructions": " ".join("%d. %s" % (k + 1, s) for k, s in enumerate(steps)),
            "depends_on": [], "context_paths": [],
        })
    tasks.append({
        "id": "t25", "action": "create", "type": "file", "path": "index.html",
        "description": "Page that loads the 24 modules and lists each module's functions.",
        "instructions": "1. HTML5 page titled Toolbox with a small inline style. "
                        "2. A <ul id=\"modules\">. "
                        "3. Load src/m01.js .. src/m24.js with classic <script src> tags, in order. "
                        "4. An inline script that, for each of M01..M24, appends an <li> with the "
                        "module's name and its function names. No inline event handlers.",
        "depends_on": [], "context_paths": [],
    })
    plan = {"tasks": tasks}

    # Write app/, answers/, scenario.json, request.txt (fresh).
    for d in (APP, ANSWERS):
        shutil.rmtree(d, ignore_errors=True)
    for rel, text in files.items():
        full = os.path.join(APP, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    def write(rel, text):
        full = os.path.join(HERE, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    write("request.txt", REQUEST + "\n")
    write("answers/plan.json", json.dumps(plan, indent=2) + "\n")
    rules = [{"name": "plan", "match": {"role": "planner"},
              "latency": {"ttft_ms": 600, "tokens_per_s": 1500},
              "responses": [{"file": "answers/plan.json"}]}]
    sizes = []
    for rel, text in sorted(files.items()):
        summary = ("Global M%s: %s helpers." % (rel[5:7], TOPICS[int(rel[5:7]) - 1][0])
                   if rel.startswith("src/") else "Toolbox page: loads the 24 modules and lists their functions.")
        answer = json.dumps({"kind": "whole", "content": text, "summary": summary}, ensure_ascii=False)
        sizes.append((rel, len(answer)))
        write("answers/coder/%s.json" % rel, answer + "\n")
        rules.append({"name": "code " + rel, "match": {"role": "coder", "path": rel},
                      "responses": [{"file": "answers/coder/%s.json" % rel}]})
    rules.append(review_clean_rule())
    for rel in sorted(files):
        summary = ("%s helpers: the global M%s." % (TOPICS[int(rel[5:7]) - 1][0], rel[5:7])
                   if rel.startswith("src/") else "Toolbox page loading src/m01.js..m24.js.")
        rules.append(summarize_rule(rel, summary))
    comment = ("codehive WIDE benchmark: SCRIPTED answers replayed by llm-sim, not generated. "
               "Built by bench/wide/make_scenario.py; 25 independent tasks.")
    write("scenario.json", json.dumps(scenario(comment, rules), indent=2) + "\n")

    # Self-check: every module passes node --check (when node is there).
    node = shutil.which("node")
    if node:
        for rel in sorted(files):
            if rel.endswith(".js"):
                r = subprocess.run([node, "--check", os.path.join(APP, rel)], capture_output=True, text=True)
                if r.returncode != 0:
                    sys.exit("make_scenario.py: %s fails node --check:\n%s" % (rel, r.stderr))
    toks = [n / 4.0 for (_, n) in sizes if _ != "index.html"]
    print("wrote %s: %d files; coder answers %d-%d tokens (~4 chars/token), "
          "%.1f-%.1f s each at 150 ms + 400 tokens/s"
          % (HERE, len(files), min(toks), max(toks), 0.15 + min(toks) / 400, 0.15 + max(toks) / 400))
    return 0


if __name__ == "__main__":
    sys.exit(main())
