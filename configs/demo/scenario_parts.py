"""Pieces of an llm-sim scenario that the demo (configs/demo/make_answers.py)
and the wide benchmark (bench/wide/make_scenario.py) build alike: a clean
review, a summary per file, and the scenario around the rules. Stdlib only;
dict order is kept, so the JSON written stays as it was."""


def review_clean_rule():
    """Every review not matched before: no issues."""
    return {"name": "review: clean", "match": {"role": "reviewer"},
            "latency": {"ttft_ms": 500, "tokens_per_s": 150},
            "responses": [{"json": {"issues": []}}]}


def summarize_rule(path, summary):
    """The summarizer's line for `path`."""
    return {"name": "summarize " + path, "match": {"role": "summarizer", "path": path},
            "latency": {"ttft_ms": 80, "tokens_per_s": 400},
            "responses": [{"json": {"summary": summary}}]}


def scenario(comment, rules):
    """The scenario around `rules`: both demo models, a fast latency, no
    random faults, OpenAI json_schema accepted, 404 for anything unmatched."""
    return {
        "_comment": comment,
        "models": ["gpt-4o-mini", "qwen2.5-coder:7b"],
        "latency": {"ttft_ms": 150, "tokens_per_s": 400},
        "random_faults": {"rate": 0.0, "kinds": ["429", "500"]},
        "openai_json_schema": True,
        "rules": rules,
        "default": {"fault": "404"},
    }
