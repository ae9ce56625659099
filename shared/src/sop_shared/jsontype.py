"""Column types that are JSONB on PostgreSQL and JSON on SQLite."""

from sqlalchemy import JSON, BigInteger, Integer
from sqlalchemy.dialects.postgresql import JSONB

JsonColumnType = JSON().with_variant(JSONB(), "postgresql")
#: BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
BigIntId = BigInteger().with_variant(Integer(), "sqlite")
