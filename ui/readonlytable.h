#pragma once

class QTableView;

namespace apex {

// The console's tables show what the engine reported; nothing in them is
// edited. One row is selected at a time and columns size to their contents.
void setUpReadOnlyTable(QTableView *view);

} // namespace apex
