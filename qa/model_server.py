"""Runs llama.cpp's OpenAI-compatible server as newsdesk's child, and ends it with newsdesk.

`python -m qa.model_server PARENT_PID <llama_cpp.server arguments>`: a watchdog thread exits the
server when its parent is gone, even after `kill -9`, so no model keeps 1 GB of memory orphaned.
"""

from __future__ import annotations

import os
import sys
import threading
import time


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(0)


def main() -> None:
    parent_pid = int(sys.argv[1])
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    from llama_cpp.server.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()
