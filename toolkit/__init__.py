"""ddlkit: apply, plan, dump, verify and lint PostgreSQL DDL trees.

Data flows one way: tree (files, order, checksums) -> plan (pure) -> runner (I/O).
"""

__version__ = "0.1.0"
