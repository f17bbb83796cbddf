"""Old-photo restoration: damage detection, inpainting, global restoration, finishing."""

from daguerre.restore.pipeline import RestoreOptions, RestorePipeline, RestoreResult, restore

__all__ = ["RestoreOptions", "RestorePipeline", "RestoreResult", "restore"]
