"""Sandbox test: runs inside the plugin's sandbox in CI (python3 -I sandbox/logic.test.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import main  # noqa: E402

assert main.greet("Ada", {"greeting": "Hi"}) == "Hi, Ada!"
assert main.STATE["greetings"] == 1
print("logic.test.py: 2 passed, 0 failed")
