"""Names and identifiers as Kubernetes makes them: pod-template-hash, random-looking suffixes, UIDs."""
from __future__ import annotations

import hashlib
import json
import uuid

# k8s.io/apimachinery/pkg/util/rand: consonants and digits that cannot spell words.
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
_NAMESPACE_UUID = uuid.UUID("6b38736e-6574-4c61-6200-000000000000")


def fnv32a(data: bytes) -> int:
    """32-bit FNV-1a, the hash the Deployment controller uses for the pod template."""
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(s: str) -> str:
    """rand.SafeEncodeString: map each byte onto the consonant/digit alphabet."""
    return "".join(ALPHANUMS[b % len(ALPHANUMS)] for b in s.encode())


def pod_template_hash(template: dict, collision_count: int = 0) -> str:
    """A ReplicaSet's pod-template-hash: FNV-1a of the template, printed in decimal, then safe-encoded."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))


def suffix(seed: str, length: int = 5) -> str:
    """A deterministic stand-in for the random 5-character suffix of generated names."""
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(ALPHANUMS[b % len(ALPHANUMS)] for b in digest[:length])


def uid(seed: str) -> str:
    """A deterministic UID for an object."""
    return str(uuid.uuid5(_NAMESPACE_UUID, seed))


def short_hash(seed: str, length: int = 8) -> str:
    """Hex digits for interface and namespace names (veth1a2b3c4d, cni-…)."""
    return hashlib.sha256(seed.encode()).hexdigest()[:length]
