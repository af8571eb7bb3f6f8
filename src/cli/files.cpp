#include "cli/files.h"

#include "cli/output_file.h"

#include <filesystem>
#include <functional>
#include <set>
#include <fstream>

#include "formats/ical/ical.h"
#include "formats/mime/mime.h"
#include "formats/msg/msg.h"
#include "formats/tnef/tnef.h"
#include "formats/vcard/vcard.h"
#include "store/store.h"

namespace openmapi::cli {
namespace fs = std::filesystem;

namespace {

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "cannot open '" + path + "'");
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string lower_ext(const std::string& path) {
  std::string e = fs::path(path).extension().string();
  for (char& c : e) c = char(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

}  // namespace

std::string format_of(const std::string& path, const std::string& forced) {
  std::string f = forced;
  if (f.empty()) {
    std::string e = lower_ext(path);
    if (e == ".eml" || e == ".mime") f = "eml";
    else if (e == ".msg") f = "msg";
    else if (e == ".tnef" || e == ".dat") f = "tnef";
    else if (e == ".vcf" || e == ".vcard") f = "vcf";
    else if (e == ".ics" || e == ".ical" || e == ".ifb") f = "ics";
    else if (fs::exists(path)) {
      std::ifstream in(path, std::ios::binary);
      unsigned char magic[8] = {};
      in.read(reinterpret_cast<char*>(magic), 8);
      static const unsigned char cfb[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
      f = std::equal(magic, magic + 8, cfb) ? "msg" : tnef::is_tnef(ByteView(magic, 4)) ? "tnef" : "eml";
    } else {
      f = "eml";
    }
  }
  if (f != "eml" && f != "msg" && f != "tnef" && f != "vcf" && f != "ics")
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "format '" + f + "' is not supported (eml, msg, tnef, vcf, ics)");
  return f;
}

std::vector<MessageFile> read_message_files(const std::string& path, const std::string& forced_format) {
  MessageFile out;
  out.format = format_of(path, forced_format);
  Bytes data = read_bytes(path);
  if (out.format == "msg") {
    msg::MsgFile f = msg::read_msg(data);
    out.message = std::move(f.message);
    out.names = std::move(f.names);
  } else if (out.format == "tnef") {
    out.message = tnef::read_tnef(data, out.names);
  } else if (out.format == "vcf" || out.format == "ics") {
    std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    std::vector<Message> items = out.format == "vcf" ? vcard::read_vcards(text, out.names) : ical::read_ical(text, out.names);
    if (items.empty()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "'" + path + "' holds no " + (out.format == "vcf" ? "vCard" : "event"));
    std::vector<MessageFile> all;
    for (Message& m : items) all.push_back({std::move(m), out.names, out.format});
    return all;
  } else {
    out.message = formats::parse_mime(data, out.names);
  }
  std::vector<MessageFile> one;
  one.push_back(std::move(out));
  return one;
}

MessageFile read_message_file(const std::string& path, const std::string& forced_format) {
  std::vector<MessageFile> items = read_message_files(path, forced_format);
  if (items.size() != 1)
    throw_error(ErrorCode::MAPI_E_TOO_COMPLEX, "'" + path + "' holds " + std::to_string(items.size()) +
                                                   (items.front().format == "vcf" ? " vCards" : " events") +
                                                   "; this command takes one (import message takes them all)");
  return std::move(items.front());
}

void write_message_file(const MessageFile& file, const std::string& path, const std::string& format, bool tnef) {
  Bytes data;
  if (format == "msg") data = msg::write_msg(file.message, file.names);
  else if (format == "tnef") data = tnef::write_tnef(file.message, file.names);
  else if (format == "vcf" || format == "ics") {
    std::string text = format == "vcf" ? vcard::write_vcard(file.message, file.names) : ical::write_ical(file.message, file.names);
    data.assign(text.begin(), text.end());
  } else data = formats::write_mime(file.message, file.names, {.tnef = tnef});
  write_output(path, data);
}

}  // namespace openmapi::cli
