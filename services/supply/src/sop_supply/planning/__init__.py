"""Pure supply-planning calculations (netting, lot sizing, BOM explosion, safety stock)."""
