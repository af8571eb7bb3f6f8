// The demo mailbox: a handful of folders and realistic messages to look at.
#include "cli/common.h"
#include "core/entryid.h"
#include "core/filetime.h"

namespace openmapi::cli {
namespace {

struct Person {
  const char* name;
  const char* email;
};

PropertyBag recipient(const Person& p, int32_t type) {
  OneOffEntryId e;
  e.display_name = p.name;
  e.email_address = p.email;
  return PropertyBag{
      PropValue::i32(tags::PidTagRecipientType, type),
      PropValue::string(tags::PidTagDisplayName, p.name),
      PropValue::string(tags::PidTagAddressType, "SMTP"),
      PropValue::string(tags::PidTagEmailAddress, p.email),
      PropValue::string(tags::PidTagSmtpAddress, p.email),
      PropValue::binary(tags::PidTagEntryId, e.serialize()),
  };
}

int64_t at(const char* iso) { return *parse_filetime(iso); }

Message mail(const Person& from, std::initializer_list<Person> to, std::initializer_list<Person> cc,
             const std::string& prefix, const std::string& topic, const char* when, const std::string& body,
             int32_t importance, bool read) {
  Message m;
  auto& p = m.props;
  p.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  p.set(PropValue::string(tags::PidTagSubjectPrefix, prefix));
  p.set(PropValue::string(tags::PidTagNormalizedSubject, topic));
  p.set(PropValue::string(tags::PidTagSubject, prefix + topic));
  p.set(PropValue::string(tags::PidTagConversationTopic, topic));
  p.set(PropValue::string(tags::PidTagSenderName, from.name));
  p.set(PropValue::string(tags::PidTagSenderEmailAddress, from.email));
  p.set(PropValue::string(tags::PidTagSenderAddressType, "SMTP"));
  p.set(PropValue::string(tags::PidTagSentRepresentingName, from.name));
  p.set(PropValue::string(tags::PidTagSentRepresentingEmailAddress, from.email));
  p.set(PropValue::time(tags::PidTagClientSubmitTime, at(when) - 600'000'000LL));
  p.set(PropValue::time(tags::PidTagMessageDeliveryTime, at(when)));
  p.set(PropValue::i32(tags::PidTagImportance, importance));
  p.set(PropValue::i32(tags::PidTagMessageFlags, read ? msgflag::Read : 0));
  p.set(PropValue::string(tags::PidTagBody, body));
  p.set(PropValue::i32(tags::PidTagInternetCodepage, 65001));
  std::string display_to, display_cc;
  for (const auto& r : to) {
    m.recipients.push_back(recipient(r, recipient_type::To));
    display_to += (display_to.empty() ? "" : "; ") + std::string(r.name);
  }
  for (const auto& r : cc) {
    m.recipients.push_back(recipient(r, recipient_type::Cc));
    display_cc += (display_cc.empty() ? "" : "; ") + std::string(r.name);
  }
  p.set(PropValue::string(tags::PidTagDisplayTo, display_to));
  p.set(PropValue::string(tags::PidTagDisplayCc, display_cc));
  return m;
}

Attachment file(const std::string& name, const std::string& mime, const std::string& content) {
  Attachment a;
  a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
  a.props.set(PropValue::string(tags::PidTagAttachLongFilename, name));
  a.props.set(PropValue::string(tags::PidTagAttachFilename, name.substr(0, 12)));
  a.props.set(PropValue::string(tags::PidTagAttachExtension, name.substr(name.rfind('.'))));
  a.props.set(PropValue::string(tags::PidTagAttachMimeTag, mime));
  a.props.set(PropValue::string(tags::PidTagDisplayName, name));
  a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, Bytes(content.begin(), content.end())));
  a.props.set(PropValue::i32(tags::PidTagAttachSize, int32_t(content.size())));
  a.props.set(PropValue::i32(tags::PidTagRenderingPosition, -1));
  return a;
}

}  // namespace

void fill_demo_mailbox(store::Mailbox& mb) {
  const Person demo{"Demo User", "demo@openmapi.test"};
  const Person alice{"Alice Martin", "alice@example.com"};
  const Person bob{"Bob Chen", "bob@example.org"};
  const Person carol{"Carol Díaz", "carol@example.net"};
  const Person dan{"Dan Okafor", "dan@example.com"};
  const Person erin{"Erin Schröder", "erin@example.de"};

  using store::SpecialFolder;
  auto inbox = mb.special_folder(SpecialFolder::Inbox);
  auto projects = mb.create_folder(inbox, "Projects", "IPF.Note");
  mb.create_folder(projects, "Archive 2025", "IPF.Note");
  mb.create_folder(inbox, "Newsletters", "IPF.Note");

  std::vector<std::pair<store::FolderId, Message>> msgs;
  msgs.emplace_back(inbox, mail(alice, {demo}, {bob}, "", "Quarterly report draft", "2026-11-20T09:12:00Z",
                                "Hi,\r\n\r\nthe Q3 draft is attached. Comments by Friday, please.\r\n\r\nAlice", 1, true));
  msgs.back().second.attachments.push_back(file("Q3-report.csv", "text/csv", "region,revenue\nnorth,1200\nsouth,950\n"));
  msgs.emplace_back(inbox, mail(bob, {demo}, {}, "RE: ", "Quarterly report draft", "2026-11-20T11:40:00Z",
                                "Looks good to me. One typo on page 3.\r\n\r\nBob", 1, true));
  msgs.emplace_back(inbox, mail(carol, {demo, alice}, {}, "", "Team lunch on Thursday?", "2026-11-21T08:05:00Z",
                                "¿Tacos o sushi? Vote by noon.\r\nCarol", 1, false));
  msgs.emplace_back(inbox, mail(dan, {demo}, {erin}, "", "Server maintenance window", "2026-11-21T16:30:00Z",
                                "The mail cluster is patched on Saturday 02:00-04:00 UTC.\r\nDan", 2, false));
  msgs.emplace_back(inbox, mail(erin, {demo}, {}, "", "Grüße aus Berlin", "2026-11-22T10:00:00Z",
                                "Die Konferenz war großartig. Fotos folgen.\r\nErin", 1, false));
  msgs.back().second.attachments.push_back(file("agenda.txt", "text/plain", "Day 1: MAPI\nDay 2: IMAP\n"));
  {
    Message fwd = mail(alice, {demo}, {}, "FW: ", "Server maintenance window", "2026-11-23T07:45:00Z",
                       "FYI, see the original below.\r\n", 1, false);
    Attachment a;
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::EmbeddedMessage));
    a.props.set(PropValue::string(tags::PidTagDisplayName, "Server maintenance window"));
    a.embedded = std::make_unique<Message>(mail(dan, {alice}, {}, "", "Server maintenance window", "2026-11-21T16:30:00Z",
                                                "The mail cluster is patched on Saturday.\r\nDan", 2, true));
    fwd.attachments.push_back(std::move(a));
    msgs.emplace_back(inbox, std::move(fwd));
  }
  msgs.emplace_back(inbox, mail(bob, {demo}, {}, "", "Low priority: new coffee machine", "2026-11-23T13:20:00Z",
                                "It has arrived. Instructions are on the fridge.", 0, false));
  msgs.emplace_back(projects, mail(alice, {demo}, {}, "", "Project Falcon kickoff", "2026-11-18T14:00:00Z",
                                   "Kickoff notes attached.\r\n", 1, true));
  msgs.emplace_back(projects, mail(dan, {demo, bob}, {}, "RE: ", "Project Falcon kickoff", "2026-11-19T09:30:00Z",
                                   "Added the timeline.\r\n", 1, true));
  msgs.emplace_back(mb.special_folder(SpecialFolder::SentItems),
                    mail(demo, {alice}, {}, "RE: ", "Quarterly report draft", "2026-11-20T12:02:00Z",
                         "Thanks, I will review it today.\r\n", 1, true));
  msgs.emplace_back(mb.special_folder(SpecialFolder::Drafts),
                    mail(demo, {carol}, {}, "", "Holiday plans", "2026-11-23T18:00:00Z", "Draft: out from Dec 22.\r\n", 1, true));
  for (auto& [folder, m] : msgs) mb.save_message(folder, m);
}

}  // namespace openmapi::cli
