"""k8snet: Kubernetes networking, learned by doing, on kind or on a namespace sandbox."""
from .errors import K8snetError
from .lab import Lab
from .results import CommandResult, ProbeResult

__version__ = "0.1.0"
__all__ = ["Lab", "K8snetError", "CommandResult", "ProbeResult", "__version__"]
