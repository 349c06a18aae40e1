#!/usr/bin/env python3
"""Builds the demo's scripted model answers and scenario from the app sources.

    python3 configs/demo/make_answers.py          # rewrite answers/ and scenario.json
    python3 configs/demo/make_answers.py --check  # exit 1 if they are out of date

Inputs : configs/demo/app/   the final, fixed kanban app (the expected output)
Outputs: configs/demo/answers/plan.json            planner answer (plan.json schema)
         configs/demo/answers/coder/<path>.json    coder answer per file (edit.json, kind "whole")
         configs/demo/answers/review_1.json        first review (review.json): the planted defect
         configs/demo/answers/fix_js_app.js.json   fixer answer (edit.json, kind "search_replace")
         configs/demo/scenario.json                llm-sim scenario wiring them to roles and paths

Every answer is SCRIPTED: written here, by hand, and replayed by llm-sim. No model
generates anything in the demo. The coder answer for js/app.js is the app's js/app.js with
the clearDone() function removed (the planted defect); the fixer answer puts it back, so
the finished run must equal configs/demo/app/ byte for byte. Only the standard library.
"""
import json
import os
import sys

from scenario_parts import review_clean_rule, scenario, summarize_rule

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "app")
ANSWERS = os.path.join(HERE, "answers")

# --- the planted defect ------------------------------------------------------
DEFECT_PATH = "js/app.js"
# The function the coder "forgot". index.html's Clear done button calls it.
CLEAR_DONE_BLOCK = '''/** "Clear done" button: deletes every card in the Done column. */
function clearDone() {
  var removed = removeDoneCards(board);
  commit();
  showToast(removed > 0 ? 'Cleared ' + plural(removed, 'card') + ' from Done.' : 'Nothing to clear.');
}

'''
# The text right after the block: the anchor of the fixer's SEARCH.
FIX_ANCHOR = '/** "Reset" button: forgets the saved board and reloads the seed. */\n'
# The validator's HTML check reports the defect as (workspace/html_check.cpp)
#   [html_handler] index.html:N: onclick="clearDone()" calls clearDone(), which no script
#   of this page defines ...
# The reviewer rule matches that finding in its prompt (index.html's own text has
# `onclick="clearDone()"` but never "calls clearDone(), which no script").
REVIEW_FINDING_REGEX = r"calls clearDone\(\), which no script of this page defines"
# The coder also left clearDone out of the header comment.
COMMENT_FIXED = "   (handleAddSubmit, clearDone, resetBoard).\n"
COMMENT_DEFECT = "   (handleAddSubmit, resetBoard).\n"

# --- the plan ----------------------------------------------------------------
# (id, path, description, depends_on, context_paths, instructions, coder summary, tracker summary)
TASKS = [
    ("t01", "css/style.css",
     "Stylesheet for both pages: header, add form, three-column board, cards, toast, about page.",
     [], [],
     [
         "Define CSS custom properties on :root for the palette: background, panel, text, muted, border, accent (plus a darker hover shade), danger, and one colour per column (todo orange, doing blue, done green), a radius and a shadow.",
         "Use box-sizing: border-box everywhere and a system-ui font stack on body with a light grey background.",
         "Style .page-header as a wrapping flex row (title block left, .toolbar of buttons right) and .summary as muted text.",
         "Style .button (filled accent, white text, rounded, also used on <a>), .button.secondary (white with accent text) and .icon-button (26px square, bordered; .danger turns red on hover; :disabled is faded).",
         "Style .add-form as a white wrapping flex row of .field labels (label text above the input/select); .field.grow takes the free width.",
         "Lay out .board as a CSS grid of three equal columns with a 16px gap; .column has a 4px coloured top border chosen by .column-todo, .column-doing, .column-done; .column-header shows the h2 and a pill-shaped .count.",
         "Give .card-list a min-height so empty columns stay droppable, and a highlight for .card-list.drop-target; .empty is centred italic muted text.",
         "Style .card as a white rounded box with a shadow and cursor: grab; .card.dragging is half transparent; .card-footer is a flex row with the .card-date on the left and .card-actions on the right; strike through titles in the done column.",
         "Add a fixed, centred .toast that fades in when it has the class .visible, a muted centred .page-footer, and an .about panel (max-width 760px) for about.html.",
         "Below 760px wide, stack the board columns in one column.",
     ],
     "Stylesheet for the board, cards, add form, toast and about page.",
     "Stylesheet: palette variables, header and toolbar, add form, three-column board grid, cards, toast, about page."),
    ("t02", "data/seed.json",
     "The sample board loaded on a first visit.",
     [], [],
     [
         "Write a JSON object with two keys: \"columns\" and \"cards\".",
         "columns: exactly [{\"id\":\"todo\",\"title\":\"To do\"},{\"id\":\"doing\",\"title\":\"Doing\"},{\"id\":\"done\",\"title\":\"Done\"}].",
         "cards: six realistic work items with ids c1..c6, each with id, column (one of the column ids), title, description (may be empty) and createdAt (ISO 8601, UTC, November 2026).",
         "Put three cards in todo (one of them invites the user to drag it), two in doing and one in done.",
     ],
     "Sample board: three columns and six cards.",
     "Sample board data: the three columns and six starter cards."),
    ("t03", "data/seed.js",
     "The same seed as a script defining window.KANBAN_SEED, for pages opened from file://.",
     ["t02"], ["data/seed.json"],
     [
         "Start with a comment explaining why the file exists: browsers refuse fetch() of local files under file://, so js/storage.js falls back to this copy, which must stay identical to data/seed.json.",
         "Assign the exact contents of data/seed.json to window.KANBAN_SEED (window.KANBAN_SEED = {...};).",
         "Define nothing else.",
     ],
     "Seed board as window.KANBAN_SEED for file:// pages.",
     "Embedded copy of the seed as window.KANBAN_SEED, used when fetch is unavailable."),
    ("t04", "js/util.js",
     "Small global helpers shared by the other scripts.",
     [], [],
     [
         "Classic script (no modules, no exports): every helper is a top-level function declaration.",
         "byId(id): return document.getElementById(id).",
         "makeId(prefix): return prefix + '-' + Date.now() in base 36 + '-' + 4 random base-36 characters.",
         "escapeHtml(text): turn null/undefined into '' and escape & < > \" ' as HTML entities.",
         "formatDate(iso): format an ISO date as day and short month (\"4 Nov\"); return '' for a missing or invalid date.",
         "cloneJson(value): deep copy via JSON.parse(JSON.stringify(value)).",
         "plural(count, word): \"1 card\", \"3 cards\".",
         "Give each function a one-line doc comment.",
     ],
     "Global helpers: byId, makeId, escapeHtml, formatDate, cloneJson, plural.",
     "Helpers: byId, makeId, escapeHtml, formatDate, cloneJson, plural."),
    ("t05", "js/model.js",
     "The board data and all operations on it (no DOM access).",
     ["t04"], ["js/util.js", "data/seed.json"],
     [
         "Document the board shape at the top: {columns:[{id,title}], cards:[{id,column,title,description,createdAt}]}; the order of board.cards is the order within each column.",
         "var DEFAULT_COLUMNS = the three columns todo/To do, doing/Doing, done/Done.",
         "normalizeBoard(data): return null unless data is an object with a cards array; keep valid columns (or DEFAULT_COLUMNS when none); keep only cards with a non-empty title; give cards with a missing or duplicate id a new makeId('card'); put cards with an unknown column in the first column; trim title and description; default createdAt to now. Return a fresh {columns, cards}.",
         "cardsIn(board, columnId), findCard(board, cardId) (null if absent), columnIndex(board, columnId) (-1 if absent).",
         "addCard(board, columnId, title, description): trim; return null for an empty title or unknown column; otherwise push a new card (makeId('card'), createdAt now) and return it.",
         "moveCard(board, cardId, columnId, beforeId): move the card into the column, before the card beforeId when that card is in the same column, else at the end; return false when nothing can change (unknown card or column, or beforeId equals cardId).",
         "shiftCard(board, cardId, step): move the card to the neighbouring column (step -1 left, +1 right) with moveCard; false at the edges.",
         "deleteCard(board, cardId): remove it; return whether it existed.",
         "removeDoneCards(board): remove every card in the last column and return how many were removed.",
     ],
     "Board model: normalize, add, move, shift, delete and clear-done operations.",
     "Board model: normalizeBoard, cardsIn, findCard, addCard, moveCard, shiftCard, deleteCard, removeDoneCards."),
    ("t06", "js/storage.js",
     "Persistence in localStorage and loading of the seed board.",
     ["t03", "t04", "t05"], ["js/model.js", "js/util.js", "data/seed.js"],
     [
         "var STORAGE_KEY = 'codehive-kanban-board-v1'.",
         "loadSavedBoard(): read STORAGE_KEY from localStorage, parse it and pass it through normalizeBoard (model.js); return null when absent; catch every exception (storage disabled, bad JSON), console.warn and return null.",
         "saveBoard(board): JSON.stringify into localStorage; return true, or console.warn and return false on an exception (quota, private mode).",
         "clearSavedBoard(): remove the key, catching exceptions.",
         "embeddedSeed(): normalizeBoard(cloneJson(window.KANBAN_SEED)), or an empty board with DEFAULT_COLUMNS when the global is missing.",
         "loadSeed(): return a Promise that never rejects. If location.protocol is 'file:' or fetch is missing, resolve to embeddedSeed() without calling fetch (Chromium refuses fetch of file:// URLs). Otherwise fetch('data/seed.json', {cache:'no-store'}), treat a non-OK status as an error, normalize the JSON, and on any failure console.warn and resolve to embeddedSeed().",
     ],
     "localStorage persistence and seed loading with a file:// fallback.",
     "Persistence: loadSavedBoard, saveBoard, clearSavedBoard; loadSeed reads data/seed.json or the embedded seed."),
    ("t07", "js/render.js",
     "Draws the board, the summary line and the column options as HTML.",
     ["t04", "t05"], ["js/model.js", "js/util.js", "css/style.css"],
     [
         "Escape every piece of user text with escapeHtml (util.js).",
         "renderCard(card, position, columnCount): <article class=\"card\" draggable=\"true\" data-card-id> with an h3.card-title, an optional p.card-description, and a footer.card-footer holding a <time class=\"card-date\"> (formatDate) and span.card-actions with three button.icon-button elements: data-action=\"left\" (disabled in the first column), data-action=\"right\" (disabled in the last column) and data-action=\"delete\" (class danger); each button carries data-card-id, a title and an aria-label. Do not use inline handlers: app.js delegates clicks.",
         "renderColumn(board, column, position): <section class=\"column column-ID\" data-column-id> with header.column-header (h2 title and span.count), then div.card-list data-column-id containing the cards (cardsIn from model.js) or <p class=\"empty\">No cards yet</p>.",
         "renderBoard(board, root): set root.innerHTML to all columns, then call renderSummary(board).",
         "renderSummary(board): if #summary exists, set its text to e.g. \"6 cards \u00b7 1 done\" (plural from util.js; the last column's title in lower case).",
         "renderColumnOptions(board, select): fill the <select> with one <option value=id> per column.",
     ],
     "Board rendering: cards, columns, summary line and column options.",
     "Rendering: renderCard, renderColumn, renderBoard, renderSummary, renderColumnOptions."),
    ("t08", "js/dnd.js",
     "Drag and drop of cards between and within columns.",
     [], ["css/style.css"],
     [
         "var draggedCardId = null holds the card being dragged.",
         "cardAfterPointer(list, clientY): among list's .card elements that are not .dragging, return the first whose vertical middle is below clientY, or null.",
         "clearDropTargets(root): remove the class drop-target from every .card-list in root.",
         "enableDragAndDrop(root, onDrop): add four delegated listeners on root, once (the board is re-rendered freely): dragstart on a .card records its data-card-id, adds .dragging and sets dataTransfer (effectAllowed 'move', text/plain the id); dragend removes .dragging, clears drop targets and draggedCardId; dragover on a .card-list while dragging calls preventDefault, sets dropEffect 'move' and highlights that list as the only .drop-target; drop on a .card-list calls preventDefault, clears the highlight and calls onDrop(cardId, list's data-column-id, the data-card-id of cardAfterPointer or null).",
         "Do not change the board here: the onDrop callback decides.",
     ],
     "HTML5 drag and drop of cards with drop position and highlight.",
     "Drag and drop: enableDragAndDrop(root, onDrop) with drop-target highlight and drop position."),
    ("t09", "js/app.js",
     "Start-up and user actions; defines the global handlers index.html calls.",
     ["t04", "t05", "t06", "t07", "t08"],
     ["js/util.js", "js/model.js", "js/storage.js", "js/render.js", "js/dnd.js"],
     [
         "Header comment listing the global functions called from inline handlers in index.html: handleAddSubmit, clearDone, resetBoard, and which functions each other script provides.",
         "Globals: var board = null; var toastTimer = null.",
         "commit(): renderBoard(board, byId('board')) then saveBoard(board).",
         "showToast(message): put the text in #toast, add class visible, and remove it after 2.5 s (clear the previous timer).",
         "handleAddSubmit(event): preventDefault; addCard(board, #card-column value, #card-title value, #card-description value); if it returns null toast 'Give the card a title first.' and focus the title; otherwise commit, clear both inputs, focus the title and toast 'Added \u201cTITLE\u201d.'.",
         "handleBoardClick(event): find the closest button[data-action]; 'left'/'right' call shiftCard(board, id, -1/+1) and commit when it returns true; 'delete' calls deleteCard, commits and toasts 'Deleted \u201cTITLE\u201d.'.",
         "handleDrop(cardId, columnId, beforeCardId): moveCard and commit when it returns true.",
         "clearDone(): a top-level function declaration (index.html's Clear done button calls it): removed = removeDoneCards(board); commit(); toast 'Cleared N cards from Done.' (plural) or 'Nothing to clear.'.",
         "resetBoard(): ask window.confirm('Replace the board with the sample cards?'); if confirmed clearSavedBoard(), then loadSeed().then(seed => board = seed, commit, toast 'Board reset.').",
         "startApp(): add the click listener and enableDragAndDrop(root, handleDrop) on #board; board = loadSavedBoard() or, when null, the result of loadSeed(); then renderColumnOptions(board, #card-column) and commit().",
         "Call startApp on DOMContentLoaded.",
     ],
     "App start-up, add/move/delete handlers, drag-and-drop wiring and reset.",
     "App: startApp, commit, showToast and the handlers handleAddSubmit, handleBoardClick, handleDrop, clearDone, resetBoard."),
    ("t10", "index.html",
     "The board page: header with toolbar, add-card form, board container, toast, scripts.",
     ["t01", "t03", "t04", "t05", "t06", "t07", "t08", "t09"],
     ["css/style.css", "js/app.js", "js/render.js"],
     [
         "HTML5 document, lang en, charset utf-8, viewport meta, title 'Kanban board' and <link rel=\"stylesheet\" href=\"css/style.css\">.",
         "header.page-header: h1 'Kanban board' and <p id=\"summary\" class=\"summary\">Loading\u2026</p>; nav.toolbar with <button class=\"button\" onclick=\"clearDone()\">Clear done</button>, <button class=\"button secondary\" onclick=\"resetBoard()\">Reset</button> and <a class=\"button secondary\" href=\"about.html\">About</a>.",
         "<form id=\"add-form\" class=\"add-form\" onsubmit=\"handleAddSubmit(event)\"> with label.field.grow around input#card-title (required, maxlength 120), label.field.grow around input#card-description (optional, maxlength 300), label.field around an empty select#card-column (app.js fills it) and a submit button 'Add card'.",
         "<main id=\"board\" class=\"board\" aria-live=\"polite\"></main>, <div id=\"toast\" class=\"toast\" role=\"status\"></div>, and a footer.page-footer with a one-line usage hint.",
         "At the end of body, classic scripts (no type=module) in dependency order: data/seed.js, js/util.js, js/model.js, js/storage.js, js/render.js, js/dnd.js, js/app.js.",
     ],
     "Board page with toolbar, add-card form and script includes.",
     "Main page: toolbar (Clear done, Reset, About), add-card form, board container; loads seed.js and the six scripts."),
    ("t11", "about.html",
     "A short help page linked from the board.",
     ["t01"], ["css/style.css", "index.html"],
     [
         "Same head as index.html with the title 'About the Kanban board' and the same stylesheet.",
         "header.page-header with h1 'About this board', a one-line .summary, and a .toolbar link 'Back to the board' to index.html.",
         "main.about with three sections (h2 each): how to use it (add, drag or arrow buttons, delete, Clear done, Reset), where the data lives (localStorage; seeded from data/seed.json, or data/seed.js under file://) and a list of the project's files with one line each.",
         "No scripts.",
     ],
     "Help page: usage, storage and file list.",
     "About page: how to use the board, where data is stored, the file list."),
]

REVIEW_ISSUE = {
    "file": "js/app.js",
    "problem": "index.html's \"Clear done\" button has onclick=\"clearDone()\", but none of the scripts index.html loads "
               "defines a function clearDone (js/app.js has handleAddSubmit and resetBoard but no clearDone), so "
               "clicking the button throws \"ReferenceError: clearDone is not defined\" and the Done column is never cleared.",
    "instructions": "1. In js/app.js, add a top-level function declaration `function clearDone()` (global, not nested in "
                    "another function), directly above the doc comment of resetBoard(). "
                    "2. In it, call removeDoneCards(board) (js/model.js) and keep the number it returns in `removed`. "
                    "3. Call commit() to redraw and save the board. "
                    "4. Call showToast('Cleared ' + plural(removed, 'card') + ' from Done.') when removed > 0, "
                    "otherwise showToast('Nothing to clear.'). "
                    "5. Give it a one-line doc comment, and add clearDone to the list of inline-handler functions "
                    "in the comment at the top of the file. Do not change index.html.",
}


def read_app_files():
    files = {}
    for root, _, names in os.walk(APP):
        for name in names:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, APP).replace(os.sep, "/")
            with open(full, "r", encoding="utf-8", newline="") as f:
                files[rel] = f.read()
    return files


def fail(msg):
    sys.exit("make_answers.py: " + msg)


def make_defective(app_js):
    if app_js.count(CLEAR_DONE_BLOCK + FIX_ANCHOR) != 1:
        fail("clearDone block not found exactly once before resetBoard in app/js/app.js")
    if app_js.count(COMMENT_FIXED) != 1:
        fail("header comment line not found exactly once in app/js/app.js")
    bad = app_js.replace(CLEAR_DONE_BLOCK, "").replace(COMMENT_FIXED, COMMENT_DEFECT)
    if "clearDone" in bad:
        fail("the defective app.js still mentions clearDone")
    return bad


def fix_blocks():
    return [
        {"search": COMMENT_DEFECT, "replace": COMMENT_FIXED},
        {"search": FIX_ANCHOR, "replace": CLEAR_DONE_BLOCK + FIX_ANCHOR},
    ]


def apply_blocks(text, blocks):
    for b in blocks:
        if text.count(b["search"]) != 1:
            fail("fixer SEARCH text does not match exactly once: %r" % b["search"][:60])
        text = text.replace(b["search"], b["replace"])
    return text


def check_app(files):
    paths = [t[1] for t in TASKS]
    if sorted(paths) != sorted(files):
        fail("plan paths %s differ from app files %s" % (sorted(paths), sorted(files)))
    ids = {t[0] for t in TASKS}
    for t in TASKS:
        for d in t[3]:
            if d not in ids:
                fail("%s depends on unknown task %s" % (t[0], d))
        for c in t[4]:
            if c not in files:
                fail("%s has unknown context path %s" % (t[0], c))
    seed = json.loads(files["data/seed.json"])
    js = files["data/seed.js"]
    body = js[js.index("window.KANBAN_SEED = ") + len("window.KANBAN_SEED = "):].strip().rstrip(";")
    if json.loads(body) != seed:
        fail("data/seed.js and data/seed.json differ")
    for t in TASKS:
        if len(t[7]) > 300 or len(t[6]) > 300:
            fail("summary of %s longer than 300 characters" % t[1])


def dump(obj, indent=None):
    return json.dumps(obj, indent=indent, ensure_ascii=False) + ("\n" if indent else "")


def build():
    files = read_app_files()
    check_app(files)
    defective = make_defective(files[DEFECT_PATH])
    blocks = fix_blocks()
    if apply_blocks(defective, blocks) != files[DEFECT_PATH]:
        fail("applying the fixer's blocks to the defective app.js does not give app/js/app.js")

    out = {}  # path relative to configs/demo -> text
    plan = {"tasks": []}
    for (tid, path, desc, deps, ctx, steps, _, _) in TASKS:
        plan["tasks"].append({
            "id": tid, "action": "create", "type": "file", "path": path,
            "description": desc,
            "instructions": " ".join("%d. %s" % (i + 1, s) for i, s in enumerate(steps)),
            "depends_on": deps, "context_paths": ctx,
        })
    out["answers/plan.json"] = dump(plan, 2)

    for (_, path, _, _, _, _, coder_summary, _) in TASKS:
        content = defective if path == DEFECT_PATH else files[path]
        out["answers/coder/%s.json" % path] = dump(
            {"kind": "whole", "content": content, "summary": coder_summary})

    out["answers/review_1.json"] = dump({"issues": [REVIEW_ISSUE]}, 2)
    out["answers/fix_js_app.js.json"] = dump(
        {"kind": "search_replace", "blocks": blocks,
         "summary": "Adds the missing clearDone() handler called by index.html's Clear done button."}, 2)

    rules = [{
        "name": "plan",
        "match": {"role": "planner"},
        "latency": {"ttft_ms": 600, "tokens_per_s": 1500},
        "responses": [{"file": "answers/plan.json"}],
    }]
    for (_, path, *_rest) in TASKS:
        rules.append({"name": "code " + path, "match": {"role": "coder", "path": path},
                      "responses": [{"file": "answers/coder/%s.json" % path}]})
    # The reviewer's answer depends on what it is shown, not on how often it was asked:
    # while the validator's finding about the missing clearDone() handler is in the prompt
    # it reports the defect, otherwise it answers "no issues". A review asked again (a run
    # killed with the reviewer call in flight and resumed) therefore gets the same answer.
    rules.append({
        "name": "review: clearDone finding",
        "match": {"role": "reviewer", "prompt_regex": REVIEW_FINDING_REGEX},
        "latency": {"ttft_ms": 500, "tokens_per_s": 150},
        "responses": [{"file": "answers/review_1.json"}],
    })
    rules.append(review_clean_rule())
    rules.append({"name": "fix " + DEFECT_PATH, "match": {"role": "fixer", "path": DEFECT_PATH},
                  "responses": [{"file": "answers/fix_js_app.js.json"}]})
    for (_, path, _, _, _, _, _, tracker_summary) in TASKS:
        rules.append(summarize_rule(path, tracker_summary))
    out["scenario.json"] = dump(scenario(
        "codehive demo: SCRIPTED answers replayed by llm-sim, not generated. "
        "Built by configs/demo/make_answers.py from configs/demo/app/; see configs/demo/README.md.", rules), 2)
    return out


def main():
    check = "--check" in sys.argv[1:]
    out = build()
    stale = []
    for rel, text in sorted(out.items()):
        full = os.path.join(HERE, rel)
        try:
            with open(full, "r", encoding="utf-8", newline="") as f:
                current = f.read()
        except OSError:
            current = None
        if current == text:
            continue
        stale.append(rel)
        if not check:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8", newline="") as f:
                f.write(text)
    # answers no longer produced
    for root, _, names in os.walk(ANSWERS):
        for name in names:
            rel = os.path.relpath(os.path.join(root, name), HERE).replace(os.sep, "/")
            if rel not in out:
                stale.append(rel + " (obsolete)")
                if not check:
                    os.remove(os.path.join(HERE, rel))
    if check:
        if stale:
            print("out of date: " + ", ".join(stale))
            return 1
        print("answers and scenario are up to date")
        return 0
    print("wrote %d file(s)%s" % (len(stale), (": " + ", ".join(stale)) if stale else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
