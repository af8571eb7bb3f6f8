#include "core/filetime.h"

#include <cstdio>

namespace openmapi {

std::string format_filetime(int64_t ft) {
  using namespace std::chrono;
  if (ft < 0 || ft >= kFileTimeYear10000) return "filetime(" + std::to_string(ft) + ")";
  SysTime t = from_filetime(ft);
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{t - day};
  char buf[64];
  long long frac = hms.subseconds().count();
  if (frac)
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ", int(ymd.year()), unsigned(ymd.month()),
                  unsigned(ymd.day()), int(hms.hours().count()), int(hms.minutes().count()),
                  int(hms.seconds().count()), frac);
  else
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()), unsigned(ymd.month()),
                  unsigned(ymd.day()), int(hms.hours().count()), int(hms.minutes().count()),
                  int(hms.seconds().count()));
  return buf;
}

std::optional<int64_t> parse_filetime(std::string_view text) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  long us = 0;
  std::string str(text);
  int n = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3) return std::nullopt;
  size_t pos = static_cast<size_t>(n);
  if (pos < str.size() && (str[pos] == 'T' || str[pos] == ' ')) {
    int m = 0;
    if (std::sscanf(str.c_str() + pos + 1, "%2d:%2d%n", &h, &mi, &m) != 2) return std::nullopt;
    pos += 1 + m;
    if (pos < str.size() && str[pos] == ':') {
      if (std::sscanf(str.c_str() + pos + 1, "%2d%n", &s, &m) != 1) return std::nullopt;
      pos += 1 + m;
      if (pos < str.size() && str[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < str.size() && str[pos] >= '0' && str[pos] <= '9') {
          if (digits < 6) us = us * 10 + (str[pos] - '0'), ++digits;
          ++pos;
        }
        while (digits++ < 6) us *= 10;
      }
    }
    if (pos < str.size() && str[pos] == 'Z') ++pos;
  }
  if (pos != str.size()) return std::nullopt;
  year_month_day ymd{year(y), month(unsigned(mo)), day(unsigned(d))};
  // FILETIMEs start in 1601; four-digit years end in 9999.
  if (!ymd.ok() || y < 1601 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  SysTime t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(s) + microseconds(us);
  return to_filetime(t);
}

}  // namespace openmapi
