// Parse throughput of the format readers, each beside a limit or a peer measured in the same run:
//   .eml: parse_mime (MIME -> Message) against GMime's own parse of the same bytes (the limit:
//         building GMime's tree and decoding every part, which parse_mime does on top of);
//   .msg: msg::read_msg against @kenjiuno/msgreader (node, in-process, same files and passes),
//         and .msg -> .eml (read_msg + write_mime) against msgconvert (one process per file);
//   TNEF: tnef::read_tnef + writing out the attachments against ytnef -f (one process per file).
// Usage: formats_bench [--corpus DIR] [--passes N]. Prints a table; see docs/PERFORMANCE.md.
#include <gmime/gmime.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "formats/mime/mime.h"
#include "formats/msg/msg.h"
#include "formats/tnef/tnef.h"

using namespace openmapi;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Input {
  std::string path;
  Bytes data;
};

std::vector<Input> load(const fs::path& dir, const std::string& ext, const std::function<bool(const fs::path&)>& keep) {
  std::vector<Input> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ext || !keep(e.path())) continue;
    std::ifstream in(e.path(), std::ios::binary);
    out.push_back({e.path().string(), Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())});
  }
  std::sort(out.begin(), out.end(), [](const Input& a, const Input& b) { return a.path < b.path; });
  return out;
}

size_t total_bytes(const std::vector<Input>& in) {
  size_t n = 0;
  for (const auto& i : in) n += i.data.size();
  return n;
}

struct Figure {
  std::string what;
  double seconds = 0;
  size_t files = 0, bytes = 0;
  double mb_s() const { return seconds > 0 ? double(bytes) / 1e6 / seconds : 0; }
  double files_s() const { return seconds > 0 ? double(files) / seconds : 0; }
};

template <class F>
Figure time_passes(const std::string& what, const std::vector<Input>& in, int passes, F&& f) {
  auto start = Clock::now();
  for (int p = 0; p < passes; ++p)
    for (const auto& i : in) f(i);
  Figure fig{what, std::chrono::duration<double>(Clock::now() - start).count(), in.size() * size_t(passes),
             total_bytes(in) * size_t(passes)};
  return fig;
}

// GMime alone: parse, then decode every leaf part's content into a null stream.
void gmime_parse(const Bytes& data) {
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(reinterpret_cast<const char*>(data.data()), data.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* msg = g_mime_parser_construct_message(parser, nullptr);
  if (msg) {
    GMimePartIter* iter = g_mime_part_iter_new(GMIME_OBJECT(msg));
    do {
      GMimeObject* obj = g_mime_part_iter_get_current(iter);
      if (obj && GMIME_IS_PART(obj))
        if (GMimeDataWrapper* w = g_mime_part_get_content(GMIME_PART(obj))) {
          GMimeStream* null = g_mime_stream_null_new();
          g_mime_data_wrapper_write_to_stream(w, null);
          g_object_unref(null);
        }
    } while (g_mime_part_iter_next(iter));
    g_mime_part_iter_free(iter);
    g_object_unref(msg);
  }
  g_object_unref(parser);
  g_object_unref(stream);
}

std::string run(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
  }
  return out;
}

double json_number(const std::string& json, const std::string& key) {
  size_t at = json.find("\"" + key + "\":");
  return at == std::string::npos ? -1 : std::atof(json.c_str() + at + key.size() + 3);
}

void row(const Figure& f, const Figure* limit) {
  std::printf("  %-44s %9.1f files/s %8.2f MB/s", f.what.c_str(), f.files_s(), f.mb_s());
  if (limit && limit->seconds > 0) std::printf("   x%.2f of %s", f.files_s() / limit->files_s(), limit->what.c_str());
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  fs::path corpus = fs::path(OPENMAPI_SOURCE_DIR) / ".." / "shared" / "corpus";
  int passes = 20;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--corpus" && i + 1 < argc) corpus = argv[++i];
    else if (a == "--passes" && i + 1 < argc) passes = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: formats_bench [--corpus DIR] [--passes N]\n");
      return 2;
    }
  }
  g_mime_init();

  auto eml = load(corpus / "eml", ".eml", [](const fs::path&) { return true; });
  std::printf(".eml: %zu files, %.2f MB, %d passes\n", eml.size(), double(total_bytes(eml)) / 1e6, passes);
  // Warm up (GMime's and our caches), untimed.
  for (const auto& i : eml) {
    NamedPropertyMap names;
    formats::parse_mime(i.data, names);
  }
  Figure gm = time_passes("GMime parse + decode parts (limit)", eml, passes, [](const Input& i) { gmime_parse(i.data); });
  Figure ours = time_passes("openmapi parse_mime", eml, passes, [](const Input& i) {
    NamedPropertyMap names;
    formats::parse_mime(i.data, names);
  });
  row(gm, nullptr);
  row(ours, &gm);

  // Files our reader refuses as damaged (the peers fail on them too: see tests/formats/msg_test.cpp)
  // are left out of the timing.
  auto all_msgs = load(corpus / "msg", ".msg", [](const fs::path&) { return true; });
  std::vector<Input> msgs;
  for (auto& i : all_msgs) {
    try {
      msg::read_msg(i.data);
      msgs.push_back(std::move(i));
    } catch (const MapiError& e) {
      std::printf("(left out: %s: %s)\n", fs::path(i.path).filename().c_str(), e.describe().c_str());
    }
  }
  std::printf("\n.msg: %zu files, %.2f MB, %d passes\n", msgs.size(), double(total_bytes(msgs)) / 1e6, passes);
  Figure rd = time_passes("openmapi read_msg", msgs, passes, [](const Input& i) { msg::read_msg(i.data); });
  std::string files;
  for (const auto& i : msgs) files += " '" + i.path + "'";
  std::string mr = run("node " + std::string(OPENMAPI_SOURCE_DIR) + "/bench/peers/msgreader-bench.js " + std::to_string(passes) + files);
  Figure peer{"@kenjiuno/msgreader (node, in process)", json_number(mr, "seconds"), msgs.size() * size_t(passes),
              total_bytes(msgs) * size_t(passes)};
  row(peer, nullptr);
  row(rd, &peer);

  // One pass: msgconvert starts a perl process per file.
  fs::path tmp = fs::temp_directory_path() / "openmapi-formats-bench";
  fs::create_directories(tmp);
  auto start = Clock::now();
  for (const auto& i : msgs) run("cd '" + tmp.string() + "' && msgconvert '" + i.path + "' >/dev/null 2>&1");
  Figure mc{"msgconvert .msg -> .eml (perl, a process each)", std::chrono::duration<double>(Clock::now() - start).count(),
            msgs.size(), total_bytes(msgs)};
  Figure conv = time_passes("openmapi .msg -> .eml (read_msg + write_mime)", msgs, 1, [](const Input& i) {
    msg::MsgFile f = msg::read_msg(i.data);
    formats::write_mime(f.message, f.names);
  });
  row(mc, nullptr);
  row(conv, &mc);

  auto tnefs = load(corpus / "tnef", ".tnef", [](const fs::path&) { return true; });
  for (auto& i : load(corpus / "tnef", ".dat", [](const fs::path&) { return true; })) tnefs.push_back(std::move(i));
  std::printf("\nTNEF: %zu files, %.2f MB\n", tnefs.size(), double(total_bytes(tnefs)) / 1e6);
  start = Clock::now();
  for (const auto& i : tnefs) {
    fs::path out = tmp / "ytnef";
    fs::remove_all(out);
    fs::create_directories(out);
    run("ytnef -f '" + out.string() + "' '" + i.path + "' >/dev/null 2>&1");
  }
  Figure yt{"ytnef -f DIR (a process each, extracts attachments)", std::chrono::duration<double>(Clock::now() - start).count(),
            tnefs.size(), total_bytes(tnefs)};
  Figure ours_tnef = time_passes("openmapi read_tnef + attachments to files", tnefs, 1, [&](const Input& i) {
    tnef::TnefReadOptions o;
    o.verify_checksums = false;
    tnef::TnefFile f = tnef::read_tnef(i.data, o);
    fs::path out = tmp / "ours";
    fs::create_directories(out);
    size_t n = 0;
    for (const auto& a : f.message.attachments)
      if (const PropValue* d = a.props.find(tags::PidTagAttachDataBinary); d && d->get_if<Bytes>())
        std::ofstream(out / std::to_string(n++), std::ios::binary)
            .write(reinterpret_cast<const char*>(d->get_if<Bytes>()->data()), std::streamsize(d->get_if<Bytes>()->size()));
  });
  Figure ours_tnef_mem = time_passes("openmapi read_tnef (in memory)", tnefs, passes, [](const Input& i) {
    tnef::TnefReadOptions o;
    o.verify_checksums = false;
    tnef::read_tnef(i.data, o);
  });
  row(yt, nullptr);
  row(ours_tnef, &yt);
  row(ours_tnef_mem, nullptr);
  fs::remove_all(tmp);
  return 0;
}
