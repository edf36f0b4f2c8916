"""Error types shared by the library and the CLI, each tied to a CLI exit code."""
from __future__ import annotations


class K8snetError(Exception):
    """Base of every error the library raises on purpose; `exit_code` is what the CLI returns."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class UsageError(K8snetError):
    """Bad usage or bad input: a malformed manifest, an unknown pod, a wrong flag."""

    exit_code = 2


class ManifestError(UsageError):
    """A manifest that cannot be applied; the message names the file, the object and the field."""


class NotModelledError(UsageError):
    """A feature the sandbox does not model; the message names it and points to the kind backend."""


class EnvironmentProblem(K8snetError):
    """Something on this machine is missing or broken: a tool, Docker, a namespace permission."""

    exit_code = 3


class LabNotRunning(EnvironmentProblem):
    """No lab of that name is up."""
