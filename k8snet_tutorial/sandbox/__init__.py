"""The sandbox backend: a cluster's data plane built for real in unprivileged Linux namespaces."""
