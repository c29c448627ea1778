"""Parameter tables: a process's own (`tables` in its spec) and global ones shared by all
processes (GlobalTable, versioned). The only door to them, with, a layer up,
formflow.processes.parameter_tables for what names process versions.

- `cells`: typed columns, key column, cell checks (`check_tables`, `check_table`).
- `lookups`: what a rule may `lookup` (`tables_for`, `tables_for_version`, pins).
- `grid`: the editing grid and the new-table form.
- `services`: saving global tables, their history, a process version's own table.

Above: formflow.processes.parameter_tables (saving a process's table as a draft, who reads a
global table, adopting the newest) and the admin pages, formflow.admin.table_views.
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
    create_global_table,
    get_global_table,
    global_table_history,
    global_table_version,
    global_tables_page,
    latest_global_version,
    process_table,
    save_global_table,
    table_changes,
)

__all__ = [
    "COLUMN_TYPES",
    "Column",
    "GlobalTableRow",
    "Grid",
    "GridColumn",
    "TableDefinition",
    "TableLabels",
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
    "spec_tables",
    "table_changes",
    "table_content",
    "table_labels",
    "table_sha256",
    "tables_for",
    "tables_for_version",
]
