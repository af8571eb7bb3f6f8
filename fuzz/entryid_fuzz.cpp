// libFuzzer target: every entry-id / XID / PCL / PropertyName parser on arbitrary bytes. A parse may
// fail only with MapiError; a parse that succeeds must serialize back to exactly the input.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/entryid.h"
#include "core/error.h"
#include "core/namedprop.h"

using namespace openmapi;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "entryid_fuzz: %s\n", what);
  std::abort();
}

template <class T>
void round_trip(ByteView in, const char* what) {
  try {
    T v = T::parse(in);
    Bytes out = v.serialize();
    if (out.size() != in.size() || !std::equal(out.begin(), out.end(), in.begin())) fail(what);
    if (!(T::parse(out) == v)) fail(what);
  } catch (const MapiError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  round_trip<LongTermId>(in, "LongTermId");
  round_trip<FolderEntryId>(in, "FolderEntryId");
  round_trip<MessageEntryId>(in, "MessageEntryId");
  round_trip<StoreEntryId>(in, "StoreEntryId");
  round_trip<OneOffEntryId>(in, "OneOffEntryId");
  round_trip<AddressBookEntryId>(in, "AddressBookEntryId");
  round_trip<Xid>(in, "Xid");
  (void)classify_entry_id(in);

  try {
    auto pcl = parse_pcl(in);
    Bytes out = serialize_pcl(pcl);
    if (out.size() != in.size() || !std::equal(out.begin(), out.end(), in.begin())) fail("PCL");
    // With one entry per namespace, merging every entry back in changes nothing.
    bool distinct = true;
    for (size_t i = 0; i < pcl.size(); ++i)
      for (size_t j = i + 1; j < pcl.size(); ++j) distinct &= pcl[i].namespace_guid != pcl[j].namespace_guid;
    auto merged = pcl;
    for (const auto& x : pcl) pcl_merge(merged, x);
    if (distinct && merged != pcl) fail("pcl_merge");
    if (merged.size() != pcl.size()) fail("pcl_merge size");
  } catch (const MapiError&) {
  }

  try {
    BinaryReader r(in);
    PropertyName n = read_property_name(r);
    BinaryWriter w;
    write_property_name(w, n);
    const Bytes& out = w.data();
    if (out.size() != r.position() || !std::equal(out.begin(), out.end(), in.begin())) fail("PropertyName");
    if (n.canonical().canonical() != n.canonical()) fail("PropertyName::canonical");
  } catch (const MapiError&) {
  }

  if (size >= 8) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(data[i]) << (8 * i);
    if (ObjectId::from_u64(v).to_u64() != v) fail("ObjectId");
  }
  return 0;
}
