"""Loads files for tests/test_corrupt_files.py in a process of its own, so that a crash or a hang in a
loader fails that test instead of taking pytest down. One JSON request per stdin line:
{"call": "module:function", "pass": "path" | "bytes" | "text", "path": ...}; one JSON reply per line:
{"outcome": "ok"}, "MXNetError" (any subclass too) with its message, or another exception's type name,
message and traceback. It says {"outcome": "ready"} first, once it has imported mxcy."""
import importlib
import json
import os
import sys
import traceback

# Run as a script, this folder comes first on the path, and tests/numpy (mirroring mxcy/numpy) would shadow NumPy.
sys.path.append(sys.path.pop(0))

from mxcy.base import MXNetError  # noqa: E402


def _argument(how, path):
    if how == "path":
        return path
    with open(path, "rb") as f:
        raw = f.read()
    return raw if how == "bytes" else raw.decode("latin-1")  # any bytes become some text


def main():
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr  # nothing a loader prints can garble the replies
    replies.write(json.dumps({"outcome": "ready"}) + "\n")
    replies.flush()
    for line in sys.stdin:
        request = json.loads(line)
        module, name = request["call"].split(":")
        try:
            getattr(importlib.import_module(module), name)(_argument(request["pass"], request["path"]))
            reply = {"outcome": "ok"}
        except MXNetError as err:
            reply = {"outcome": "MXNetError", "message": str(err)}
        except BaseException as err:  # noqa: BLE001 - every outcome is reported to the test
            reply = {"outcome": type(err).__name__, "message": str(err), "traceback": traceback.format_exc()}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
