"""The transports' cores import no Django, like certificates/pki/."""

import ast
from pathlib import Path

import pytest

import deployments

PURE = ["verification.py", "webhook.py", "credentials.py", "ssh.py"]


@pytest.mark.parametrize("name", PURE)
def test_the_module_imports_no_django(name):
    tree = ast.parse((Path(deployments.__file__).parent / name).read_text())
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [module for module in imported if module.split(".")[0] == "django"]
