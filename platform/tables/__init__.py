"""Parameter tables: a process's own (`tables` in its spec) and global ones shared by all
processes (GlobalTable, versioned). The only door to them.

- `cells`: typed columns, key column, cell checks (`check_tables`, `check_table`).
- `lookups`: what a rule may `lookup` (`tables_for`, `tables_for_version`, pins).
- `grid`: the editing grid and the new-table form.
- `services`: saving process and global tables, history, who pins what, adopting.
- `views`: the admin pages (blueprint `tables`).
"""

from formflow.tables.cells import (
    COLUMN_TYPES,
    Column,
    cell_problem,
    cell_text,
    check_table,
    check_tables,
    columns_of,
    key_column_of,
    normalized,
    parse_cell,
    spec_tables,
    table_content,
    table_sha256,
)
from formflow.tables.grid import Grid, GridColumn, TableDefinition, edit_grid
from formflow.tables.lookups import (
    TableLabels,
    current_global_tables,
    pin_global_tables,
    pinned_versions,
    referenced_tables,
    table_labels,
    tables_for,
    tables_for_version,
)
from formflow.tables.services import (
    GlobalTableRow,
    TableUse,
    adopt_global_tables,
    create_global_table,
    get_global_table,
    global_table_history,
    global_table_version,
    global_tables_page,
    latest_global_version,
    process_table,
    save_global_table,
    save_process_table,
    table_changes,
    table_uses,
)

__all__ = [
    "COLUMN_TYPES",
    "Column",
    "GlobalTableRow",
    "Grid",
    "GridColumn",
    "TableDefinition",
    "TableLabels",
    "TableUse",
    "adopt_global_tables",
    "cell_problem",
    "cell_text",
    "check_table",
    "check_tables",
    "columns_of",
    "create_global_table",
    "current_global_tables",
    "edit_grid",
    "get_global_table",
    "global_table_history",
    "global_table_version",
    "global_tables_page",
    "key_column_of",
    "latest_global_version",
    "normalized",
    "parse_cell",
    "pin_global_tables",
    "pinned_versions",
    "process_table",
    "referenced_tables",
    "save_global_table",
    "save_process_table",
    "spec_tables",
    "table_changes",
    "table_content",
    "table_labels",
    "table_sha256",
    "table_uses",
    "tables_for",
    "tables_for_version",
]
