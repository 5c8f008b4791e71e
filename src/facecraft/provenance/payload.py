"""The 32 bits the invisible watermark carries: a facecraft tag and the short id of a provenance record.

Layout (most significant bit first): 12-bit tag ``0xFC5`` then a 20-bit record id. The tag lets
``verify`` tell our mark from chance: an unmarked picture decodes to random bits, which match all 12
tag bits with probability 1/4096, and the reader also demands high per-bit confidence.
"""

import secrets
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PAYLOAD_BITS = 32
TAG_BITS = 12
RECORD_ID_BITS = PAYLOAD_BITS - TAG_BITS
FACECRAFT_TAG = 0xFC5


@dataclass(frozen=True, slots=True)
class WatermarkPayload:
    record_id: int
    tag: int = FACECRAFT_TAG

    def __post_init__(self) -> None:
        if not 0 <= self.record_id < (1 << RECORD_ID_BITS):
            raise ValueError(f"record_id must fit in {RECORD_ID_BITS} bits, got {self.record_id}")
        if not 0 <= self.tag < (1 << TAG_BITS):
            raise ValueError(f"tag must fit in {TAG_BITS} bits, got {self.tag}")

    @property
    def is_facecraft(self) -> bool:
        return self.tag == FACECRAFT_TAG

    @property
    def record_id_hex(self) -> str:
        return f"{self.record_id:05x}"

    def to_bits(self) -> npt.NDArray[np.uint8]:
        value = (self.tag << RECORD_ID_BITS) | self.record_id
        return np.array([(value >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)], dtype=np.uint8)

    @classmethod
    def from_bits(cls, bits: npt.NDArray[np.uint8]) -> "WatermarkPayload":
        if bits.shape != (PAYLOAD_BITS,):
            raise ValueError(f"expected {PAYLOAD_BITS} bits, got shape {bits.shape}")
        value = 0
        for bit in bits:
            value = (value << 1) | int(bit)
        return cls(record_id=value & ((1 << RECORD_ID_BITS) - 1), tag=value >> RECORD_ID_BITS)


def new_record_id() -> int:
    """A random id for a new provenance record (20 bits: unique enough for one user's local store)."""
    return secrets.randbelow(1 << RECORD_ID_BITS)
