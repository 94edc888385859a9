"""The PKI core and the domain checks stay plain Python: nothing in them imports Django."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_pki_core_and_the_domain_checks_import_no_django():
    modules = sorted(
        f"certificates.pki.{path.stem}"
        for path in (ROOT / "certificates" / "pki").glob("*.py")
        if path.stem != "__init__"
    )
    modules.append("certificates.domain_checks")
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
