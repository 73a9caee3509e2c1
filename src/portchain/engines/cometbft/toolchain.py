"""Build the pinned CometBFT binary and the Python ABCI bindings, once per machine.

Neither the binary nor the generated protobuf code is committed: both are made at set-up from
the exact CometBFT release we pin, so the wire format we speak is the one the node speaks.

* The binary is built with ``go install`` from the Go module proxy into a per-version cache
  directory outside the repository (``$XDG_CACHE_HOME/portchain/cometbft/<version>/bin``).
* The bindings are generated with ``grpc_tools.protoc`` from the ``.proto`` files that ship
  inside that same module (plus gogoproto's, at the version CometBFT's ``go.mod`` requires)
  into the ignored package ``portchain.engines.cometbft._proto``.

Both steps take a file lock, so parallel test workers or two CLI invocations do not race, and
both are no-ops once their output exists. Run ``python -m portchain.engines.cometbft.toolchain``
at set-up to do both and print the binary's path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from portchain.engines.cometbft._filelock import file_lock

COMETBFT_VERSION = "v0.38.26"
"""The CometBFT release we build and speak ABCI to: the newest v0.38 patch on the module proxy."""

COMETBFT_MODULE = "github.com/cometbft/cometbft"
GOGOPROTO_MODULE = "github.com/cosmos/gogoproto"

PROTO_ROOTS: tuple[str, ...] = ("tendermint/abci/types.proto", "tendermint/types/canonical.proto")
"""The .proto files we need; everything they import is generated too.

``canonical.proto`` (with the block header types it imports) is what the light client of
``light.py`` needs to rebuild the bytes validators sign and the header hash they sign over.
"""

PROTO_PACKAGE = "portchain.engines.cometbft._proto"
"""Import name of the generated bindings; their own imports are rewritten to live under it."""

PROTO_DIR = Path(__file__).resolve().parent / "_proto"
"""Where the generated bindings go (ignored by git)."""

_STAMP_NAME = "STAMP.json"
_GENERATED_TOP_LEVEL = ("tendermint", "gogoproto")
_BUILD_TIMEOUT_SECONDS = 1800
_GO_TIMEOUT_SECONDS = 600


class ToolchainError(RuntimeError):
    """The CometBFT binary or the bindings could not be made; the message says what to do."""


def cache_dir(version: str = COMETBFT_VERSION) -> Path:
    """Per-version cache folder, outside the repository, shared by every checkout on the machine."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "portchain" / "cometbft" / version


def binary_path(version: str = COMETBFT_VERSION) -> Path:
    """Where ``ensure_cometbft`` puts (or finds) the binary for ``version``."""
    return cache_dir(version) / "bin" / "cometbft"


def ensure_cometbft(version: str = COMETBFT_VERSION) -> Path:
    """Return the path of the CometBFT binary, building it with ``go install`` the first time.

    The build goes to a temporary GOBIN and is moved into place only when complete, so a build
    killed half-way never leaves a broken binary that later runs would trust.

    Raises:
        ToolchainError: ``go`` is not on PATH, or the build failed (its output is included).
    """
    target = binary_path(version)
    if _is_executable(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(cache_dir(version) / "build.lock"):
        if _is_executable(target):  # another process built it while we waited
            return target
        go = _require_go()
        print(
            f"portchain: building CometBFT {version} with go install (a few minutes)...",
            file=sys.stderr,
        )
        with tempfile.TemporaryDirectory(prefix="gobin-", dir=target.parent.parent) as gobin:
            env = {**os.environ, "GOBIN": gobin, "CGO_ENABLED": os.environ.get("CGO_ENABLED", "0")}
            _run(
                [go, "install", f"{COMETBFT_MODULE}/cmd/cometbft@{version}"],
                env=env,
                timeout=_BUILD_TIMEOUT_SECONDS,
                what=f"building CometBFT {version}",
            )
            built = Path(gobin) / "cometbft"
            if not _is_executable(built):
                raise ToolchainError(f"go install finished but produced no binary at {built}")
            os.replace(built, target)
    return target


def ensure_bindings(version: str = COMETBFT_VERSION) -> Path:
    """Return the folder of the generated ABCI bindings, generating them the first time.

    Sources are the ``.proto`` files of the pinned CometBFT module and of the gogoproto version
    its ``go.mod`` names, both taken from the Go module cache (``go mod download``). Only message
    classes (and ``.pyi`` stubs) are generated, no gRPC stubs. A stamp file records the CometBFT
    version so that a change of pin regenerates them.

    Raises:
        ToolchainError: ``go`` or ``grpcio-tools`` is missing, or protoc failed.
    """
    if _bindings_current(version):
        return PROTO_DIR
    cache_dir(version).mkdir(parents=True, exist_ok=True)
    with file_lock(cache_dir(version) / "bindings.lock"):
        if _bindings_current(version):
            return PROTO_DIR
        _generate_bindings(version)
    return PROTO_DIR


def _bindings_current(version: str) -> bool:
    """True when the bindings on disk were generated from ``version``."""
    try:
        stamp = json.loads((PROTO_DIR / _STAMP_NAME).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(stamp, dict) or stamp.get("cometbft") != version:
        return False
    return set(PROTO_ROOTS) <= set(stamp.get("sources", ()))  # a root added since: regenerate


def _generate_bindings(version: str) -> None:
    """Run protoc into a scratch folder, fix the imports, then swap the folder into place."""
    try:
        import grpc_tools  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ToolchainError(
            "grpcio-tools is needed to generate the ABCI bindings: pip install grpcio-tools"
        ) from exc
    comet_dir = _module_dir(COMETBFT_MODULE, version)
    gogo_version = _required_version(comet_dir / "go.mod", GOGOPROTO_MODULE)
    gogo_dir = _module_dir(GOGOPROTO_MODULE, gogo_version)
    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
    include_dirs = [comet_dir / "proto", gogo_dir, well_known]
    sources = _import_closure(PROTO_ROOTS, include_dirs)
    to_generate = [s for s in sources if not s.startswith("google/protobuf/")]

    PROTO_DIR.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="_proto-", dir=PROTO_DIR.parent))
    try:
        command = [sys.executable, "-m", "grpc_tools.protoc"]
        command += [f"--proto_path={d}" for d in include_dirs]
        command += [f"--python_out={scratch}", f"--pyi_out={scratch}", *to_generate]
        _run(
            command,
            env=dict(os.environ),
            timeout=_GO_TIMEOUT_SECONDS,
            what="generating ABCI bindings",
        )
        _rewrite_imports(scratch)
        _add_init_files(scratch)
        stamp = {"cometbft": version, "gogoproto": gogo_version, "sources": to_generate}
        (scratch / _STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n")
        scratch.chmod(0o755)  # mkdtemp makes it private; the bindings are ordinary package code
        if PROTO_DIR.exists():
            shutil.rmtree(PROTO_DIR)
        os.replace(scratch, PROTO_DIR)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)


_IMPORT_LINE = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', re.MULTILINE)


def _import_closure(roots: tuple[str, ...], include_dirs: list[Path]) -> list[str]:
    """Every .proto reachable from ``roots`` by ``import``, sorted, as include-relative paths."""
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = next((d / name for d in include_dirs if (d / name).is_file()), None)
        if path is None:
            raise ToolchainError(f"{name} is not in any of {[str(d) for d in include_dirs]}")
        pending.extend(_IMPORT_LINE.findall(path.read_text()))
    return sorted(seen)


def _rewrite_imports(root: Path) -> None:
    """Make generated modules import each other as ``portchain...._proto.tendermint...``.

    protoc writes absolute imports such as ``from tendermint.crypto import keys_pb2``; rather
    than put top-level ``tendermint`` and ``gogoproto`` packages on ``sys.path``, where they
    could clash with other libraries, we move them under our own package.
    """
    tops = "|".join(_GENERATED_TOP_LEVEL)
    pattern = re.compile(rf"^(\s*)(from|import)\s+({tops})(\.|\s)", re.MULTILINE)
    for path in [*root.rglob("*.py"), *root.rglob("*.pyi")]:
        text = path.read_text()
        path.write_text(pattern.sub(rf"\1\2 {PROTO_PACKAGE}.\3\4", text))


def _add_init_files(root: Path) -> None:
    """protoc makes folders, not packages; give each an ``__init__.py`` so imports are regular."""
    (root / "__init__.py").write_text(
        '"""Generated at set-up by toolchain.ensure_bindings; do not edit."""\n'
    )
    for folder in root.rglob("*"):
        if folder.is_dir() and not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text("")


def _module_dir(module: str, version: str) -> Path:
    """Download ``module@version`` into the Go module cache and return its source folder."""
    go = _require_go()
    with tempfile.TemporaryDirectory(prefix="gomod-") as neutral_cwd:  # not inside any go.mod
        output = _run(
            [go, "mod", "download", "-json", f"{module}@{version}"],
            env=dict(os.environ),
            timeout=_GO_TIMEOUT_SECONDS,
            what=f"downloading {module}@{version}",
            cwd=neutral_cwd,
        )
    info = json.loads(output)
    if info.get("Error") or not info.get("Dir"):
        raise ToolchainError(f"go mod download {module}@{version}: {info.get('Error', 'no Dir')}")
    return Path(info["Dir"])


def _required_version(go_mod: Path, module: str) -> str:
    """The version of ``module`` that a ``go.mod`` requires (a ``replace`` of it is refused)."""
    text = go_mod.read_text()
    if re.search(rf"^\s*(replace\s+)?{re.escape(module)}\s.*=>", text, re.MULTILINE):
        raise ToolchainError(f"{go_mod} replaces {module}; pick its .proto files by hand")
    found = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", text, re.MULTILINE)
    if found is None:
        raise ToolchainError(f"{go_mod} does not require {module}")
    return found.group(1)


def _require_go() -> str:
    go = shutil.which("go")
    if go is None:
        raise ToolchainError(
            "the Go toolchain ('go') is not on PATH; it is needed to build CometBFT and to fetch "
            "its .proto files. Install Go 1.22 or newer, put it on PATH, and retry."
        )
    return go


def _run(
    command: list[str], *, env: dict[str, str], timeout: float, what: str, cwd: str | None = None
) -> str:
    """Run a set-up command; on failure raise with its output, which is what a person needs."""
    try:
        done = subprocess.run(
            command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(
            f"{what} took longer than {timeout:.0f}s: {' '.join(command)}"
        ) from exc
    if done.returncode != 0:
        raise ToolchainError(
            f"{what} failed (exit {done.returncode}): {' '.join(command)}\n"
            f"{done.stdout}{done.stderr}"
        )
    return done.stdout


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def main() -> int:
    """Set-up entry point: build what is missing and print the binary's path."""
    try:
        binary = ensure_cometbft()
        ensure_bindings()
    except ToolchainError as exc:
        print(f"portchain: {exc}", file=sys.stderr)
        return 1
    print(binary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
