"""API models of the archive. Proof layouts match `steward archive check-proof` files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class KeyOut(BaseModel):
    name: str = Field(description="Key name, also the checkpoint origin")
    key_id: str = Field(description="4-byte key ID in hex (C2SP signed-note)")
    verifier_key: str = Field(
        description="name+hash+base64(0x01||Ed25519 public key), as Go's sumdb/note"
    )


class CheckpointOut(BaseModel):
    size: int
    root: str = Field(description="base64 RFC 9162 root hash")
    signed_at: datetime
    note: str = Field(description="The signed checkpoint (C2SP tlog-checkpoint signed note)")


class TreeOut(BaseModel):
    size: int
    root: str


class EntryOut(BaseModel):
    seq: int = Field(description="Leaf index in the log")
    kind: str = Field(description="event or publication")
    sealed: bool = Field(description="A confidential record: only a salted commitment is public")
    recorded_at: datetime
    leaf: str = Field(description="The exact canonical JSON hashed into the leaf")
    leaf_hash: str = Field(description="base64 SHA-256(0x00 || leaf)")
    document: dict[str, Any]


class EntryPage(BaseModel):
    size: int = Field(description="Entries in the log")
    items: list[EntryOut]


class InclusionProofOut(BaseModel):
    leafIdx: int
    treeSize: int
    root: str
    leafHash: str
    proof: list[str]


class ConsistencyProofOut(BaseModel):
    size1: int
    size2: int
    root1: str
    root2: str
    proof: list[str]


class RevealIn(BaseModel):
    salt: str = Field(description="base64 salt, as revealed by a party")
    content: Any = Field(description="the revealed content (JSON)")


class RevealOut(BaseModel):
    seq: int
    valid: bool
