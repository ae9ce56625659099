"""S&OP cycle service."""

import sop_shared.db  # noqa: F401  (sets the metadata naming convention before any model)
