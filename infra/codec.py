"""AES-GCM payload encryption: with a key configured, the Temporal server stores ciphertext only.

Every process that reads or writes incident payloads (API, orchestrator, agent, CLI) uses the
same codec through `infra.client.connect`; the API's /codec endpoints let the Temporal UI show
decrypted payloads to those allowed, and exports decrypt with the same key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"


class EncryptionCodec(PayloadCodec):
    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 24, 32):
            raise ValueError("the payload key must be 16, 24 or 32 bytes (base64 in settings)")
        self._aes = AESGCM(key)
        self.key_id = hashlib.sha256(key).hexdigest()[:12]

    @classmethod
    def from_setting(cls, encoded: str) -> EncryptionCodec:
        return cls(base64.b64decode(encoded))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(12)
        sealed = self._aes.encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, "encryption-key-id": self.key_id.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        """Encrypted payloads come back as they were; anything else passes through unchanged."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get("encryption-key-id", b"").decode()
        if key_id != self.key_id:
            raise ValueError(f"payload encrypted with key {key_id!r}, not {self.key_id!r}")
        plain = self._aes.decrypt(payload.data[:12], payload.data[12:], None)
        result = Payload()
        result.ParseFromString(plain)
        return result
