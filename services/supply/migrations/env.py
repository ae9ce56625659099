from alembic import context
from sqlmodel import SQLModel

from sop_shared.migrations import run_env
from sop_supply import models  # noqa: F401  (registers every table of this service)
from sop_supply.settings import get_settings

run_env(context, SQLModel.metadata, get_settings().database_url)
