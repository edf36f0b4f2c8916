"""nbval runs the chapters on the sandbox: the lab's name is sanitized in outputs, and the lab is taken down at the end."""
from __future__ import annotations


def pytest_sessionfinish(session, exitstatus) -> None:
    """Leave nothing running: stop the course's lab if the notebooks started one."""
    from k8snet_tutorial.errors import K8snetError
    try:
        from k8snet_tutorial import Lab
        Lab(backend="sandbox").down()
    except K8snetError:
        pass


DEFAULT_CLUSTER = "k8snet"  # the name the stored outputs were made with (k8snet_tutorial.config.DEFAULT_NAME)


def cluster_patterns(name: str | None) -> dict[str, str]:
    """nbval sanitizers that turn the lab's name into one token: `other-worker` and `k8snet-worker` compare equal.

    Only where a name stands as the lab's (a node name, a quoted lab name), so that a word that happens to be
    the lab's name ("other") elsewhere in an output is left alone; the second lab a chapter names itself
    (`k8snet-nft`) is not the default lab's and is left alone too.
    """
    import re
    names = "|".join(re.escape(n) for n in dict.fromkeys([DEFAULT_CLUSTER, name or DEFAULT_CLUSTER]))
    return {rf"\b(?:{names})(?=-(?:control-plane|worker\d*)\b)": "CLUSTER",
            rf"(?<=')(?:{names})(?=')": "CLUSTER"}


def pytest_collection_modifyitems(session, config, items) -> None:
    """Give each notebook nbval collected the lab-name sanitizers, and its sanitizer file from any folder."""
    import os
    from pathlib import Path
    option = getattr(config.option, "nbval_sanitize_with", None)
    if option and not Path(option).is_absolute() and not Path(option).exists() \
            and (config.rootpath / option).exists():
        config.option.nbval_sanitize_with = str(config.rootpath / option)  # addopts' path is relative to the repo
    patterns = cluster_patterns(os.environ.get("K8SNET_CLUSTER"))
    for notebook in dict.fromkeys(item.parent for item in items):
        if hasattr(notebook, "sanitize_patterns"):  # an nbval notebook, filled from the file at its setup
            notebook.sanitize_patterns.update(patterns)
