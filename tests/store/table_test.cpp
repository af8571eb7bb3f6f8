// The table suite (table_suite.h) over the SQLite store.
#include "table_suite.h"

namespace openmapi::table_suite {
std::shared_ptr<Mailbox> table_mailbox(const std::string&, TempDir& dir) {
  return create_sqlite_mailbox(dir.file("mb.sqlite"), {"Test User", "test@example.com", 0});
}
}  // namespace openmapi::table_suite

using openmapi::table_suite::TableTest;
INSTANTIATE_TEST_SUITE_P(Local, TableTest, ::testing::Values(std::string("sqlite")), [](const auto& info) { return info.param; });
