// The Python bindings (pybind11): the object model (store/objects.h) and sessions (mapi/) as a
// Python module `openmapi`. Properties are named by their canonical names ("PidTagSubject",
// "PidLidEmail1EmailAddress", "PidNameKeywords") or given as integer tags (0x0037001F); values
// are Python values (int, float, bool, str, bytes, datetime in UTC, lists for multi-valued
// properties). Every failure raises openmapi.MapiError, whose `code` is the MAPI name
// ("MAPI_E_NOT_FOUND") and `scode` the number.
//
// Lifetime: a PyStore keeps its mailbox open while any object of it lives; Session.logoff() and
// Store.logoff() end it (later calls: MAPI_E_END_OF_SESSION). Thread safety: an object is used
// by one Python thread at a time (the GIL is held throughout).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <filesystem>

#include "core/catalog.h"
#include "core/error.h"
#include "mapi/profile.h"
#include "mapi/session.h"
#include "store/objects.h"
#include "store/pst/pst_mailbox.h"

namespace py = pybind11;
using namespace openmapi;

namespace {

// openmapi.MapiError, and the datetime module: kept for the life of the process (never released, so
// nothing is released after the interpreter has finalized).
py::object* g_error = nullptr;

py::module_& datetime_module() {
  static auto* m = new py::module_(py::module_::import("datetime"));
  return *m;
}

[[noreturn]] void raise(ErrorCode code, const std::string& what) { throw_error(code, what); }

// ---- tags and values --------------------------------------------------------------------
PropTag tag_of(store::MapiProp& obj, const py::handle& key, bool create) {
  if (py::isinstance<py::int_>(key)) {
    const auto v = key.cast<long long>();
    if (v < 0 || v > 0xFFFFFFFFll) raise(ErrorCode::MAPI_E_INVALID_PARAMETER, "a property tag is 32 bits");
    return PropTag(uint32_t(v));
  }
  const std::string name = key.cast<std::string>();
  const CatalogEntry* e = catalog_find(name);
  if (!e) raise(ErrorCode::MAPI_E_NOT_FOUND, "no property named '" + name.substr(0, 80) + "' in the catalogue");
  if (!e->name) return e->tag;
  const PropTag id = obj.get_ids_from_names({*e->name}, create)[0];
  if (id.type() == PropType::ErrorCode) raise(ErrorCode::MAPI_E_NOT_FOUND, "the store has no '" + name + "' yet");
  return PropTag(id.id(), e->type);
}

py::object datetime_of(int64_t filetime) {
  py::module_& datetime = datetime_module();
  const py::object utc = datetime.attr("timezone").attr("utc");
  const py::object epoch = datetime.attr("datetime")(1601, 1, 1, 0, 0, 0, 0, utc);
  return epoch + datetime.attr("timedelta")(py::arg("microseconds") = filetime / 10);
}

int64_t filetime_of(const py::handle& dt) {
  py::module_& datetime = datetime_module();
  const py::object utc = datetime.attr("timezone").attr("utc");
  py::object d = py::reinterpret_borrow<py::object>(dt);
  if (d.attr("tzinfo").is_none()) d = d.attr("replace")(py::arg("tzinfo") = utc);
  const py::object epoch = datetime.attr("datetime")(1601, 1, 1, 0, 0, 0, 0, utc);
  const py::object delta = d - epoch;
  const int64_t us = delta.attr("days").cast<int64_t>() * 86400000000ll + delta.attr("seconds").cast<int64_t>() * 1000000ll +
                     delta.attr("microseconds").cast<int64_t>();
  return us * 10;
}

py::object to_py(const PropValue& v) {
  return std::visit(
      [&](const auto& x) -> py::object {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) return py::none();
        else if constexpr (std::is_same_v<T, int64_t>) return v.type() == PropType::Time ? datetime_of(x) : py::int_(x);
        else if constexpr (std::is_same_v<T, int32_t>) {
          if (v.type() == PropType::ErrorCode) return py::none();
          return py::int_(x);
        } else if constexpr (std::is_same_v<T, Bytes>) return py::bytes(reinterpret_cast<const char*>(x.data()), x.size());
        else if constexpr (std::is_same_v<T, std::string>) return py::str(x);
        else if constexpr (std::is_same_v<T, Guid>) return py::str(x.to_string());
        else if constexpr (std::is_same_v<T, std::shared_ptr<const Restriction>>) return py::none();
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          py::list l;
          for (int64_t i : x) l.append(v.type() == PropType::MultipleTime ? datetime_of(i) : py::int_(i));
          return l;
        } else if constexpr (std::is_same_v<T, std::vector<Bytes>>) {
          py::list l;
          for (const Bytes& b : x) l.append(py::bytes(reinterpret_cast<const char*>(b.data()), b.size()));
          return l;
        } else if constexpr (std::is_same_v<T, std::vector<Guid>>) {
          py::list l;
          for (const Guid& g : x) l.append(py::str(g.to_string()));
          return l;
        } else return py::cast(x);
      },
      v.storage());
}

PropValue from_py(PropTag tag, const py::handle& o) {
  auto bytes_of = [](const py::handle& b) {
    const std::string s = b.cast<py::bytes>();
    return Bytes(s.begin(), s.end());
  };
  switch (tag.type()) {
    case PropType::Integer16: return PropValue(tag, int16_t(o.cast<int>()));
    case PropType::Integer32: return PropValue(tag, int32_t(o.cast<long long>()));
    case PropType::Integer64: case PropType::Currency: return PropValue(tag, int64_t(o.cast<long long>()));
    case PropType::Floating32: return PropValue(tag, o.cast<float>());
    case PropType::Floating64: case PropType::FloatingTime: return PropValue(tag, o.cast<double>());
    case PropType::Boolean: return PropValue(tag, o.cast<bool>());
    case PropType::String: case PropType::String8: return PropValue(tag, o.cast<std::string>());
    case PropType::Binary: case PropType::ServerId: return PropValue(tag, bytes_of(o));
    case PropType::Time: return PropValue(tag, filetime_of(o));
    case PropType::Guid: return PropValue(tag, Guid::from_string(o.cast<std::string>()));
    case PropType::MultipleInteger32: {
      std::vector<int32_t> v;
      for (auto i : o) v.push_back(int32_t(i.cast<long long>()));
      return PropValue(tag, v);
    }
    case PropType::MultipleString: case PropType::MultipleString8: {
      std::vector<std::string> v;
      for (auto i : o) v.push_back(i.cast<std::string>());
      return PropValue(tag, v);
    }
    case PropType::MultipleBinary: {
      std::vector<Bytes> v;
      for (auto i : o) v.push_back(bytes_of(i));
      return PropValue(tag, v);
    }
    default: raise(ErrorCode::MAPI_E_INVALID_TYPE, "property type " + type_name(tag.type()) + " cannot be set from Python");
  }
}

py::dict dict_of(const std::vector<PropValue>& values) {
  py::dict d;
  for (const PropValue& v : values) {
    if (v.type() == PropType::ErrorCode) continue;
    std::string name = tag_name(v.tag());
    d[py::str(name)] = to_py(v);
  }
  return d;
}

// ---- objects -------------------------------------------------------------------------------
struct PyStore;
struct PyFolder;
struct PyMessage;

py::object get_item(store::MapiProp& obj, const py::handle& key) {
  const PropTag t = tag_of(obj, key, false);
  auto v = obj.get_prop(t);
  if (!v) {
    // Values too large for GetProps are read through their stream.
    auto r = obj.get_props({t});
    if (r.values[0].type() == PropType::ErrorCode &&
        uint32_t(r.values[0].get<int32_t>()) == uint32_t(ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY)) {
      Bytes b = obj.open_property(t)->read_all();
      if (t.type() == PropType::Binary) return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
      return py::str(std::string(b.begin(), b.end()));
    }
    throw py::key_error(py::str(key).cast<std::string>());
  }
  return to_py(*v);
}

void set_item(store::MapiProp& obj, const py::handle& key, const py::handle& value) {
  const PropTag t = tag_of(obj, key, true);
  const auto problems = obj.set_props({from_py(t, value)});
  if (!problems.empty()) raise(problems[0].error, "cannot set " + tag_name(t));
}

struct PyFolder {
  std::shared_ptr<store::Logon> logon;
  std::shared_ptr<store::Folder> f;
};

struct PyMessage {
  std::shared_ptr<store::Logon> logon;
  std::shared_ptr<store::Message> m;
};

struct PyStore {
  std::shared_ptr<store::Logon> logon;
  PyFolder special(const std::string& name) {
    static const std::pair<const char*, store::SpecialFolder> names[] = {
        {"root", store::SpecialFolder::Root},         {"ipm_subtree", store::SpecialFolder::IpmSubtree},
        {"inbox", store::SpecialFolder::Inbox},       {"outbox", store::SpecialFolder::Outbox},
        {"sent_items", store::SpecialFolder::SentItems}, {"deleted_items", store::SpecialFolder::DeletedItems},
        {"drafts", store::SpecialFolder::Drafts},     {"calendar", store::SpecialFolder::Calendar},
        {"contacts", store::SpecialFolder::Contacts}, {"tasks", store::SpecialFolder::Tasks},
        {"notes", store::SpecialFolder::Notes},       {"journal", store::SpecialFolder::Journal},
        {"junk_email", store::SpecialFolder::JunkEmail}};
    for (const auto& [n, f] : names)
      if (name == n) return {logon, logon->open_special(f)};
    raise(ErrorCode::MAPI_E_NOT_FOUND, "no special folder '" + name + "'");
  }
};

std::vector<PyFolder> subfolders(const PyFolder& f) {
  std::vector<PyFolder> out;
  auto t = f.f->hierarchy_table();
  t->set_columns({tags::PidTagEntryId});
  for (;;) {
    auto rows = t->query_rows(200);
    if (rows.empty()) break;
    for (const auto& r : rows)
      if (const auto* e = r[0].get_if<Bytes>()) out.push_back({f.logon, f.logon->open_entry(*e).folder});
  }
  return out;
}

// The contents table as a list of dicts: `columns` (names or tags; default subject, sender,
// delivery time, flags, entry ID), sorted by `sort` ([(name, descending?)]), at most `limit` rows.
py::list table_rows(store::Table& t, store::MapiProp& names, const std::vector<py::object>& columns,
                    const std::vector<std::pair<py::object, bool>>& sort, size_t limit) {
  std::vector<PropTag> cols;
  for (const auto& c : columns) cols.push_back(tag_of(names, c, false));
  if (!cols.empty()) t.set_columns(cols);
  if (!sort.empty()) {
    SortOrderSet s;
    for (const auto& [c, desc] : sort) s.orders.push_back({tag_of(names, c, false), desc ? SortDirection::Descending : SortDirection::Ascending});
    t.sort(s);
  }
  py::list out;
  size_t n = 0;
  while (n < limit) {
    auto rows = t.query_rows(uint32_t(std::min<size_t>(500, limit - n)));
    if (rows.empty()) break;
    for (const auto& r : rows) out.append(dict_of(r));
    n += rows.size();
  }
  return out;
}

PyStore open_store(const std::string& path) {
  if (!std::filesystem::exists(path)) raise(ErrorCode::MAPI_E_NOT_FOUND, "no file '" + path + "'");
  const std::string ext = std::filesystem::path(path).extension().string();
  std::shared_ptr<store::Mailbox> mb = ext == ".pst" || ext == ".ost" ? std::shared_ptr<store::Mailbox>(store::open_pst_mailbox(path))
                                                                     : std::shared_ptr<store::Mailbox>(store::open_sqlite_mailbox(path));
  store::LogonIdentity who;
  who.user = mb->owner_address();  // a local file: its owner's agent, as the C ABI's logons
  return {store::Logon::open(std::move(mb), who)};
}

}  // namespace

PYBIND11_MODULE(openmapi, m) {
  m.doc() = "OpenMAPI: MAPI stores, folders, messages and sessions from Python";
  m.attr("__version__") = "0.1.0";
  g_error = new py::object(py::exception<MapiError>(m, "MapiError"));
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const MapiError& e) {
      py::object err = (*g_error)(e.describe());
      err.attr("code") = py::str(error_name(e.code()));
      err.attr("scode") = py::int_(uint32_t(e.code()));
      PyErr_SetObject(g_error->ptr(), err.ptr());
    }
  });

  py::class_<PyMessage>(m, "Message", "IMessage: transacted; save() stores the changes")
      .def_property_readonly("id", [](const PyMessage& x) { return x.m->id(); })
      .def_property_readonly("entry_id", [](PyMessage& x) { return get_item(*x.m, py::str("PidTagEntryId")); })
      .def_property_readonly("subject", [](PyMessage& x) { auto v = x.m->get_prop(tags::PidTagSubject); return v ? to_py(*v) : py::str(""); })
      .def("__getitem__", [](PyMessage& x, const py::object& k) { return get_item(*x.m, k); })
      .def("__setitem__", [](PyMessage& x, const py::object& k, const py::object& v) { set_item(*x.m, k, v); })
      .def("__delitem__", [](PyMessage& x, const py::object& k) { x.m->delete_props({tag_of(*x.m, k, false)}); })
      .def("props", [](PyMessage& x) { return dict_of(x.m->get_props({}).values); }, "every property, by canonical name")
      .def_property_readonly("recipients", [](PyMessage& x) {
        py::list l;
        for (const PropertyBag& r : x.m->recipients()) l.append(dict_of(r.values()));
        return l;
      })
      .def("add_recipient", [](PyMessage& x, const std::string& address, const std::string& name, const std::string& kind) {
        const int32_t type = kind == "to" ? 1 : kind == "cc" ? 2 : kind == "bcc" ? 3 : 0;
        if (!type) raise(ErrorCode::MAPI_E_INVALID_PARAMETER, "a recipient is 'to', 'cc' or 'bcc'");
        PropertyBag row;
        row.set(PropValue::string(tags::PidTagDisplayName, name.empty() ? address : name));
        row.set(PropValue::string(tags::PidTagAddressType, "SMTP"));
        row.set(PropValue::string(tags::PidTagEmailAddress, address));
        row.set(PropValue::string(tags::PidTagSmtpAddress, address));
        row.set(PropValue::i32(tags::PidTagRecipientType, type));
        x.m->modify_recipients(store::modrecip::Add, {row});
      }, py::arg("address"), py::arg("name") = "", py::arg("kind") = "to")
      .def_property_readonly("attachments", [](PyMessage& x) {
        py::list l;
        for (const PropertyBag& a : x.m->attachments()) l.append(dict_of(a.values()));
        return l;
      })
      .def("attachment_data", [](PyMessage& x, uint32_t number) {
        Bytes b = x.m->open_attach(number)->open_property(tags::PidTagAttachDataBinary)->read_all();
        return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
      })
      .def("attach", [](PyMessage& x, const std::string& name, const py::bytes& data) {
        auto a = x.m->create_attach();
        a->set_props({PropValue::i32(tags::PidTagAttachMethod, 1), PropValue::string(tags::PidTagAttachLongFilename, name),
                      PropValue::string(tags::PidTagAttachFilename, name), PropValue::string(tags::PidTagDisplayName, name)});
        const std::string d = data;
        auto s = a->open_property(tags::PidTagAttachDataBinary, store::open_flags::Create | store::open_flags::ReadWrite);
        s->write(reinterpret_cast<const uint8_t*>(d.data()), d.size());
        s->commit();
        a->save_changes();
        return a->number();
      }, "adds a file attachment; returns its number")
      .def("save", [](PyMessage& x) { x.m->save_changes(); })
      .def("submit", [](PyMessage& x) { x.m->submit(); }, "saves and queues the message for the server's spooler")
      .def("set_read", [](PyMessage& x, bool read) { x.m->set_read_flag(read ? store::readflag::SuppressReceipt : store::readflag::ClearReadFlag); },
           py::arg("read") = true);

  py::class_<PyFolder>(m, "Folder", "IMAPIFolder")
      .def_property_readonly("name", [](PyFolder& x) { auto v = x.f->get_prop(tags::PidTagDisplayName); return v ? to_py(*v) : py::str(""); })
      .def_property_readonly("id", [](const PyFolder& x) { return x.f->id(); })
      .def_property_readonly("entry_id", [](PyFolder& x) { return get_item(*x.f, py::str("PidTagEntryId")); })
      .def("__getitem__", [](PyFolder& x, const py::object& k) { return get_item(*x.f, k); })
      .def("props", [](PyFolder& x) { return dict_of(x.f->get_props({}).values); })
      .def("subfolders", &subfolders)
      .def("create_folder", [](PyFolder& x, const std::string& name, bool open_if_exists) {
        return PyFolder{x.logon, x.f->create_folder(name, "IPF.Note", store::FolderType::Generic, open_if_exists ? store::folder_flags::OpenIfExists : 0)};
      }, py::arg("name"), py::arg("open_if_exists") = false)
      .def("create_message", [](PyFolder& x) { return PyMessage{x.logon, x.f->create_message()}; })
      .def("__len__", [](PyFolder& x) { return x.f->contents_table()->row_count(); })
      .def("messages", [](PyFolder& x, size_t limit) {
        std::vector<PyMessage> out;
        auto t = x.f->contents_table();
        t->set_columns({tags::PidTagEntryId});
        while (out.size() < limit) {
          auto rows = t->query_rows(uint32_t(std::min<size_t>(200, limit - out.size())));
          if (rows.empty()) break;
          for (const auto& r : rows)
            if (const auto* e = r[0].get_if<Bytes>()) out.push_back({x.logon, x.logon->open_entry(*e).message});
        }
        return out;
      }, py::arg("limit") = size_t(-1), "the messages, opened read-only")
      .def("table", [](PyFolder& x, const std::vector<py::object>& columns, const std::vector<std::pair<py::object, bool>>& sort, size_t limit) {
        auto t = x.f->contents_table();
        return table_rows(*t, *x.f, columns, sort, limit);
      }, py::arg("columns") = std::vector<py::object>{}, py::arg("sort") = std::vector<std::pair<py::object, bool>>{},
         py::arg("limit") = size_t(-1), "the contents table: a dict per row")
      .def("delete_messages", [](PyFolder& x, const std::vector<PyMessage>& ms, bool hard) {
        std::vector<store::MessageId> ids;
        for (const auto& msg : ms)
          if (msg.m->id()) ids.push_back(*msg.m->id());
        x.f->delete_messages(ids, hard);
      }, py::arg("messages"), py::arg("hard") = false);

  py::class_<PyStore>(m, "Store", "IMsgStore: a mailbox or a PST file")
      .def_property_readonly("display_name", [](PyStore& s) { auto v = s.logon->get_prop(tags::PidTagDisplayName); return v ? to_py(*v) : py::str(""); })
      .def("__getitem__", [](PyStore& s, const py::object& k) { return get_item(*s.logon, k); })
      .def("props", [](PyStore& s) { return dict_of(s.logon->get_props({}).values); })
      .def("folder", &PyStore::special, "a special folder: root, ipm_subtree, inbox, outbox, sent_items, deleted_items, drafts, "
                                      "calendar, contacts, tasks, notes, journal, junk_email")
      .def_property_readonly("inbox", [](PyStore& s) { return s.special("inbox"); })
      .def_property_readonly("root", [](PyStore& s) { return s.special("ipm_subtree"); })
      .def("open_entry", [](PyStore& s, const py::bytes& id) -> py::object {
        const std::string b = id;
        auto e = s.logon->open_entry(Bytes(b.begin(), b.end()), false);
        if (e.folder) return py::cast(PyFolder{s.logon, e.folder});
        return py::cast(PyMessage{s.logon, e.message});
      })
      .def("logoff", [](PyStore& s) { s.logon->logoff(); });

  py::class_<mapi::Session, std::shared_ptr<mapi::Session>>(m, "Session", "a MAPI session on a profile of `openmapi profile`")
      .def_property_readonly("stores", [](mapi::Session& s) {
        std::vector<PyStore> out;
        for (size_t i = 0; i < s.store_count(); ++i) out.push_back({s.open_msg_store(i)});
        return out;
      })
      .def_property_readonly("default_store", [](mapi::Session& s) { return PyStore{s.default_store()}; })
      .def_property_readonly("profile", [](mapi::Session& s) { return s.profile().name; })
      .def("resolve_name", [](mapi::Session& s, const std::string& text) {
        const mapi::AddressEntry e = s.address_book().resolve_name(text);
        py::dict d;
        d["display_name"] = e.display_name;
        d["address_type"] = e.address_type;
        d["email_address"] = e.email_address;
        d["entry_id"] = py::bytes(reinterpret_cast<const char*>(e.entry_id.data()), e.entry_id.size());
        return d;
      })
      .def("logoff", &mapi::Session::logoff);

  m.def("open_store", &open_store, py::arg("path"), "opens a mailbox file (.sqlite) or a PST/OST file (read-only)");
  m.def("logon", [](const std::string& profile) {
    mapi::ProfileStore ps(mapi::ProfileStore::default_path());
    return mapi::Session::logon_as_owner(profile.empty() ? ps.get_default() : ps.get(profile));
  }, py::arg("profile") = "", "a session on the named profile (default: the default profile)");
  m.def("tag", [](const std::string& name) {
    const CatalogEntry* e = catalog_find(name);
    if (!e) raise(ErrorCode::MAPI_E_NOT_FOUND, "no property named '" + name.substr(0, 80) + "'");
    return e->name ? py::object(py::none()) : py::object(py::int_(e->tag.value));
  }, "the tag of a property of a fixed id (None for named properties)");
}
