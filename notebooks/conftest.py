"""nbval runs the chapters on the sandbox: the lab's name is sanitized in outputs, and the lab is taken down at the end."""
from __future__ import annotations

import pytest


def pytest_sessionfinish(session, exitstatus) -> None:
    """Leave nothing running: stop the course's lab if the notebooks started one."""
    from k8snet_tutorial.errors import K8snetError
    try:
        from k8snet_tutorial import Lab
        Lab(backend="sandbox").down()
    except K8snetError:
        pass



DEFAULT_CLUSTER = "k8snet"  # the name the stored outputs were made with (k8snet_tutorial.config.DEFAULT_NAME)
PADDING = r"(?<=\S) {2,}(?=\S)"  # the spaces between two columns of a table (kubectl, k8snet status)


def cluster_patterns(name: str | None) -> dict[str, str]:
    """nbval sanitizers that turn the lab's name into one token: `other-worker` and `k8snet-worker` compare equal.

    Only where a name stands as the lab's (a node name, a quoted lab name), so that a word that happens to be
    the lab's name ("other") elsewhere in an output is left alone; the second lab a chapter names itself
    (`k8snet-nft`) is not the default lab's and is left alone too. A name of another length widens or narrows
    kubectl's columns, so then the padding between columns is compared as two spaces (it must come last, after
    the sanitizer file's patterns that rely on kubectl's three-space gaps).
    """
    import re
    name = name or DEFAULT_CLUSTER
    names = "|".join(re.escape(n) for n in dict.fromkeys([DEFAULT_CLUSTER, name]))
    patterns = {rf"\b(?:{names})(?=-(?:control-plane|worker\d*)\b)": "CLUSTER",
                rf"(?<=')(?:{names})(?=')": "CLUSTER"}
    if len(name) != len(DEFAULT_CLUSTER):
        patterns[PADDING] = "  "
    return patterns


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Around nbval's setup of a notebook: find its sanitizer file from any folder, then add the lab-name patterns."""
    import os
    from pathlib import Path
    config = item.config
    option = getattr(config.option, "nbval_sanitize_with", None)
    if option and not Path(option).is_absolute() and not Path(option).exists() \
            and (config.rootpath / option).exists():
        config.option.nbval_sanitize_with = str(config.rootpath / option)  # addopts' path is relative to the repo
    yield
    notebook = item.parent
    if hasattr(notebook, "sanitize_patterns"):  # an nbval notebook, filled from the sanitizer file at its setup
        for regex, replace in cluster_patterns(os.environ.get("K8SNET_CLUSTER")).items():
            notebook.sanitize_patterns.pop(regex, None)
            notebook.sanitize_patterns[regex] = replace  # last, after the file's patterns
