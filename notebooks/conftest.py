"""nbval runs the chapters on the sandbox; when it is done, the lab they shared is taken down."""
from __future__ import annotations


def pytest_sessionfinish(session, exitstatus) -> None:
    """Leave nothing running: stop the course's lab if the notebooks started one."""
    from k8snet_tutorial.errors import K8snetError
    try:
        from k8snet_tutorial import Lab
        Lab(backend="sandbox").down()
    except K8snetError:
        pass
