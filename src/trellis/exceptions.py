"""The one error tree of trellis.

Every error trellis raises on purpose derives from :class:`TrellisError`;
errors of third-party libraries (SQLAlchemy, fsspec, ...) are translated at the
boundary with ``raise ... from exc`` so callers only ever catch ours::

    TrellisError
    ├── ConfigurationError          bad settings, unknown store URL scheme
    ├── DefinitionError             a step or pipeline is defined or called wrongly
    │   ├── InputError              a parameter or input cannot be used
    │   │   └── ParameterError      a pipeline or step parameter is unknown, missing or not JSON
    │   └── HandleError             an output handle used where it cannot be
    ├── StepOutputError             a step returned the wrong number or type of outputs
    ├── MaterializerError           no materializer can save or load a value
    ├── StoreError                  the artifact or metadata store failed
    │   ├── ArtifactStoreError      an artifact store URL cannot be opened, a file is missing
    │   └── MetadataStoreError      the database cannot be opened or written
    │       └── SchemaVersionError  the database was made by a newer trellis
    ├── NotFoundError               no pipeline, run, step or artifact by that name or id
    └── RunFailedError              a pipeline run failed; names the step and run id
        └── StepFailedError         ... because this step raised

Messages say what happened, where, and what to do next.
"""

from __future__ import annotations

__all__ = [
    "ArtifactStoreError",
    "ConfigurationError",
    "DefinitionError",
    "HandleError",
    "InputError",
    "MaterializerError",
    "MetadataStoreError",
    "NotFoundError",
    "ParameterError",
    "RunFailedError",
    "SchemaVersionError",
    "StepFailedError",
    "StepOutputError",
    "StoreError",
    "TrellisError",
]


class TrellisError(Exception):
    """Base class of every error trellis raises on purpose."""

    #: Exit code the CLI uses when this error reaches it.
    exit_code: int = 1


class ConfigurationError(TrellisError):
    """Settings are invalid (environment variables, ``.trellis/config.toml``, arguments)."""

    exit_code = 2


class DefinitionError(TrellisError):
    """A step or pipeline is defined or wired incorrectly."""

    exit_code = 2


class InputError(DefinitionError):
    """A value passed to a step or pipeline cannot be used."""


class ParameterError(InputError):
    """A pipeline or step parameter is unknown, missing or not JSON-serializable."""


class HandleError(DefinitionError):
    """An output handle was used outside the pipeline that made it."""


class StepOutputError(TrellisError):
    """A step returned the wrong number of outputs or a value of the wrong type."""


class MaterializerError(TrellisError):
    """No materializer can save or load a value."""


class StoreError(TrellisError):
    """The artifact store or the metadata store failed."""


class ArtifactStoreError(StoreError):
    """The artifact store cannot be opened, or an artifact's files are missing."""


class MetadataStoreError(StoreError):
    """The metadata database cannot be opened, read or written."""


class SchemaVersionError(MetadataStoreError):
    """The metadata database was created by a newer version of trellis."""


class NotFoundError(TrellisError):
    """No pipeline, run, step or artifact matches the given name or id."""

    exit_code = 3


class RunFailedError(TrellisError):
    """A pipeline run did not succeed.

    Attributes:
        pipeline_name: Name of the pipeline.
        run_id: Id of the failed run (``trellis runs show <run_id>`` shows it).
    """

    def __init__(self, message: str, *, pipeline_name: str, run_id: str) -> None:
        super().__init__(message)
        self.pipeline_name = pipeline_name
        self.run_id = run_id


class StepFailedError(RunFailedError):
    """A step raised; ``__cause__`` is the original exception when it is available.

    Attributes:
        step_name: Invocation id of the step that failed.
        original: ``"ExceptionType: message"`` of the step's error.
    """

    def __init__(
        self,
        message: str,
        *,
        pipeline_name: str,
        run_id: str,
        step_name: str,
        original: str,
    ) -> None:
        super().__init__(message, pipeline_name=pipeline_name, run_id=run_id)
        self.step_name = step_name
        self.original = original
