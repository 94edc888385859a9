"""Run the real openssl command line on what the PKI core makes, as independent proof."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class OpenSSL:
    directory: Path

    @staticmethod
    def available() -> bool:
        return shutil.which("openssl") is not None

    def write(self, name: str, data: str | bytes) -> Path:
        path = self.directory / name
        if isinstance(data, str):
            path.write_text(data)
        else:
            path.write_bytes(data)
        return path

    def run(self, *arguments: str | Path) -> subprocess.CompletedProcess[str]:
        """Run openssl in the directory; stdout and stderr together in .stdout, as text."""
        return subprocess.run(
            ["openssl", *map(str, arguments)],
            cwd=self.directory,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            timeout=60,
        )

    def ok(self, *arguments: str | Path) -> str:
        """Run openssl, fail the test with its output unless it succeeds, return the output."""
        result = self.run(*arguments)
        command = " ".join(map(str, arguments))
        assert result.returncode == 0, f"openssl {command} failed:\n{result.stdout}"
        return result.stdout
