from __future__ import annotations

from trellis.hashing import canonical_json, hash_json, source_hash

BASE = '''
@step
def train(data, lr=0.1):
    """Train."""
    return [x * lr for x in data]
'''


def test_canonical_json_ignores_key_order() -> None:
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == '{"a":{"c":3,"d":2},"b":1}'
    assert hash_json({"x": 1, "y": 2}) == hash_json({"y": 2, "x": 1})


def test_source_hash_ignores_comments_docstrings_formatting_and_decorators() -> None:
    reformatted = '''
@step(enable_cache=True)
def train(data,   lr=0.1):  # a new comment
    """A different docstring."""
    # and another
    return [x*lr for x in data]
'''
    assert source_hash(BASE) == source_hash(reformatted)


def test_source_hash_changes_with_logic() -> None:
    changed = BASE.replace("x * lr", "x * lr * 2")
    assert source_hash(BASE) != source_hash(changed)
