"""The shapes of the API's JSON objects, for type checkers and editors (they are plain dicts)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, TypedDict


class Project(TypedDict, total=False):
    id: str
    name: str
    slug: str
    description: str
    created_at: str
    role: Optional[str]


class Asset(TypedDict, total=False):
    id: str
    set: str
    name: str
    role: str
    original_name: str
    format: str
    width: int
    height: int
    channels: int
    bit_depth: str
    colour_space: str
    byte_size: int
    sha256: str
    source: Optional[str]
    metadata: Dict[str, Any]
    download_url: str
    thumbnail_url: Optional[str]


class AssetSet(TypedDict, total=False):
    id: str
    name: str
    kind: str
    job: Optional[str]
    tags: List[str]
    created_at: str
    asset_count: int
    download_url: str
    assets: List[Asset]


class Upload(TypedDict, total=False):
    set: AssetSet
    assets: List[Asset]
    previews_job: Optional[str]


class Job(TypedDict, total=False):
    id: str
    url: str
    kind: str
    params: Dict[str, Any]
    inputs: Dict[str, Any]
    status: str  # queued, running, succeeded, failed, cancelled
    progress: float  # 0..1
    stage: str
    error: str
    attempts: int
    output_set: Optional[str]
    result: Any
    queued_at: str
    started_at: Optional[str]
    finished_at: Optional[str]


class JobKind(TypedDict, total=False):
    kind: str
    title: str
    queue: str
    output_kind: str
    params: Dict[str, Dict[str, Any]]
    inputs: Dict[str, Dict[str, Any]]
