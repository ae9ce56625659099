from alembic import context
from sqlmodel import SQLModel

from sop_demand import models  # noqa: F401  (registers every table of this service)
from sop_demand.settings import get_settings
from sop_shared.migrations import run_env

run_env(context, SQLModel.metadata, get_settings().database_url)
