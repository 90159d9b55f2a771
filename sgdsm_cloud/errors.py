"""Exceptions that name the rule, the value and the fix.

Every error a user can trigger derives from :class:`SgdsmError`; the CLI prints
its message on one line and exits non-zero instead of showing a traceback.
"""


class SgdsmError(Exception):
    """Base class for errors with a user-facing message."""


class ConfigError(SgdsmError, ValueError):
    """A configuration value is invalid; the message names the key and the fix."""


class StorageError(SgdsmError, OSError):
    """A store or source cannot be reached (credentials, bucket, permissions)."""


class AuthenticationError(SgdsmError):
    """Credentials for a source are missing, wrong or expired (e.g. the Earthdata token); the
    message names the variable to set. Raised before any file is read."""


class BadInputFile(SgdsmError):
    """One raw archive file cannot be used; it is quarantined, the run goes on.

    Attributes:
        path: the file's name or URL.
        reason: one line saying what is wrong.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreContractError(SgdsmError):
    """A zarr store does not follow the cube contract (see ``sgdsm_cloud.cube``)."""


class CheckpointError(SgdsmError):
    """A model checkpoint is missing, tampered with, or not safetensors + JSON."""


class ChunkAlignmentError(SgdsmError, ValueError):
    """A write region does not cover whole chunks or shards of the target store."""


class ClusterError(SgdsmError):
    """The dask cluster cannot be reached, or went away while a run used it."""


class RunInterrupted(ClusterError):
    """A run stopped before all its tasks finished; the tasks that finished are kept, and
    re-running the same command resumes the run (``sgdsm_cloud.cluster``)."""


class WorkerLost(RunInterrupted):
    """A task's worker processes died (killed, or out of memory) as often as dask allows."""


class ClusterLost(RunInterrupted):
    """The scheduler went away, the connection to it closed, or the cluster cancelled the run."""
