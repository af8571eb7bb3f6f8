// vCard <-> IPM.Contact (MS-OXVCARD): every corpus file converts; several are checked against
// expectations written by hand from the files; vCard 3 and 4 round trips keep every field.
#include "formats/vcard/vcard.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/catalog.h"
#include "core/filetime.h"
#include "test_util.h"

using namespace openmapi;
using namespace openmapi::vcard;
using openmapi::testing::code_of;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
std::string vcf(const std::string& name) { return slurp(std::string(OPENMAPI_SHARED_DIR) + "/corpus/vcf/" + name); }

// A contact with the map it was read with, and typed look-ups by canonical name.
struct Contact {
  NamedPropertyMap names;
  Message m;
  std::optional<std::string> s(std::string_view canonical) const {
    const CatalogEntry* e = catalog_find(canonical);
    if (!e) ADD_FAILURE() << canonical;
    PropTag t = e->tag;
    if (e->name) {
      auto id = names.find(*e->name);
      if (!id) return std::nullopt;
      t = PropTag(*id, e->type);
    }
    return m.props.get_string(t);
  }
  std::string str(std::string_view canonical) const { return s(canonical).value_or("<absent>"); }
  std::string date(std::string_view canonical) const {
    auto v = m.props.get_i64(catalog_find(canonical)->tag);
    return v ? format_filetime(*v).substr(0, 10) : "<absent>";
  }
};

std::vector<Contact> read_all(const std::string& text) {
  NamedPropertyMap names;
  auto msgs = read_vcards(text, names);
  std::vector<Contact> out;
  for (auto& m : msgs) out.push_back({names, std::move(m)});
  return out;
}

}  // namespace

TEST(Vcard, Unescape) {
  EXPECT_EQ(unescape_text("a\\,b\\;c\\nd\\\\e\\Nf"), "a,b;c\nd\\e\nf");
  auto parts = split_escaped("a\\;b;c;;d", ';');
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0], "a\\;b");
  EXPECT_EQ(parts[2], "");
}

TEST(Vcard, LineParsing) {
  auto cards = parse_vcard_text(
      "BEGIN:VCARD\r\nVERSION:2.1\r\nitem1.TEL;WORK;VOICE:1\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=0D=\r\n=0Ab\r\n"
      "ADR;TYPE=\"work,postal\";X-Y=\"q:;,r\":;;st\r\n  reet\r\nEND:VCARD\r\n");
  ASSERT_EQ(cards.size(), 1u);
  EXPECT_EQ(cards[0].version, "2.1");
  ASSERT_EQ(cards[0].properties.size(), 3u);
  const auto& tel = cards[0].properties[0];
  EXPECT_EQ(tel.group, "item1");
  EXPECT_EQ(tel.name, "TEL");
  EXPECT_TRUE(tel.has_type("work"));
  EXPECT_TRUE(tel.has_type("VOICE"));
  EXPECT_EQ(cards[0].properties[1].value, "a=0D=0Ab");
  const auto& adr = cards[0].properties[2];
  EXPECT_TRUE(adr.has_type("POSTAL"));
  EXPECT_EQ(adr.value, ";;st reet");
}

TEST(Vcard, Errors) {
  NamedPropertyMap names;
  EXPECT_EQ(code_of([&] { read_vcards("", names); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { read_vcards("hello", names); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { read_vcards("BEGIN:VCARD\r\nFN:x\r\n", names); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { read_vcards("END:VCARD\r\n", names); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // A damaged value drops that value only.
  auto c = read_all("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nBDAY:yesterday\r\nPHOTO;ENCODING=b:!!!\r\nEND:VCARD\r\n");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].str("PidTagDisplayName"), "x");
  EXPECT_EQ(c[0].date("PidTagBirthday"), "<absent>");
  EXPECT_TRUE(c[0].m.attachments.empty());
}

TEST(Vcard, EveryCorpusFileConverts) {
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(OPENMAPI_SHARED_DIR) + "/corpus/vcf")) {
    if (e.path().extension() != ".vcf") continue;
    ++files;
    SCOPED_TRACE(e.path().filename().string());
    NamedPropertyMap names;
    std::vector<Message> msgs;
    ASSERT_NO_THROW(msgs = read_vcards(slurp(e.path()), names));
    ASSERT_FALSE(msgs.empty());
    for (const auto& m : msgs) EXPECT_EQ(m.props.get_string(tags::PidTagMessageClass), "IPM.Contact");
  }
  EXPECT_EQ(files, 19u);
}

// Expectations below are written by hand from the files.
TEST(Vcard, Rfc2426Example) {
  auto c = read_all(vcf("rfc2426-example.vcf"));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].str("PidTagDisplayName"), "Frank Dawson");
  EXPECT_EQ(c[0].str("PidTagCompanyName"), "Lotus Development Corporation");
  EXPECT_EQ(c[0].str("PidLidWorkAddressStreet"), "6544 Battleford Drive");
  EXPECT_EQ(c[0].str("PidLidWorkAddressCity"), "Raleigh");
  EXPECT_EQ(c[0].str("PidLidWorkAddressState"), "NC");
  EXPECT_EQ(c[0].str("PidLidWorkAddressPostalCode"), "27613-3502");
  EXPECT_EQ(c[0].str("PidLidWorkAddressCountry"), "U.S.A.");
  EXPECT_EQ(c[0].str("PidTagBusinessTelephoneNumber"), "+1-919-676-9515");
  EXPECT_EQ(c[0].str("PidTagBusinessFaxNumber"), "+1-919-676-9564");
  EXPECT_EQ(c[0].str("PidLidEmail1EmailAddress"), "Frank_Dawson@Lotus.com");
  EXPECT_EQ(c[0].str("PidLidEmail1AddressType"), "SMTP");
  EXPECT_EQ(c[0].str("PidLidEmail1DisplayName"), "Frank Dawson (Frank_Dawson@Lotus.com)");
  EXPECT_EQ(c[0].str("PidLidEmail2EmailAddress"), "fdawson@earthlink.net");
  EXPECT_EQ(c[0].str("PidLidEmail3EmailAddress"), "<absent>");
  EXPECT_EQ(c[0].str("PidTagBusinessHomePage"), "http://home.earthlink.net/~fdawson");
  EXPECT_EQ(c[1].str("PidTagDisplayName"), "Tim Howes");
  EXPECT_EQ(c[1].str("PidLidWorkAddressStreet"), "501 E. Middlefield Rd.");
  EXPECT_EQ(c[1].str("PidLidWorkAddressCity"), "Mountain View");
  EXPECT_EQ(c[1].str("PidLidWorkAddressState"), "CA");
  EXPECT_EQ(c[1].str("PidLidWorkAddressPostalCode"), "94043");
  EXPECT_EQ(c[1].str("PidTagBusinessTelephoneNumber"), "+1-415-937-3419");
  EXPECT_EQ(c[1].str("PidLidEmail1EmailAddress"), "howes@netscape.com");
}

TEST(Vcard, Rfc6350Example) {
  auto c = read_all(vcf("rfc6350-example.vcf"));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].str("PidTagDisplayName"), "Simon Perreault");
  EXPECT_EQ(c[0].str("PidTagSurname"), "Perreault");
  EXPECT_EQ(c[0].str("PidTagGivenName"), "Simon");
  EXPECT_EQ(c[0].str("PidTagGeneration"), "ing. jr,M.Sc.");
  EXPECT_EQ(c[0].date("PidTagBirthday"), "<absent>");  // --0203 has no year
  EXPECT_EQ(c[0].date("PidTagWeddingAnniversary"), "2009-08-08");
  EXPECT_EQ(c[0].str("PidTagCompanyName"), "Viagenie");
  EXPECT_EQ(c[0].str("PidLidWorkAddressStreet"), "2875 Laurier");
  EXPECT_EQ(c[0].str("PidLidWorkAddressCity"), "Quebec");
  EXPECT_EQ(c[0].str("PidLidWorkAddressState"), "QC");
  EXPECT_EQ(c[0].str("PidLidWorkAddressPostalCode"), "G1V 2M2");
  EXPECT_EQ(c[0].str("PidLidWorkAddressCountry"), "Canada");
  EXPECT_EQ(c[0].str("PidTagBusinessTelephoneNumber"), "+1-418-656-9254;ext=102");
  EXPECT_EQ(c[0].str("PidTagMobileTelephoneNumber"), "+1-418-262-6501");
  EXPECT_EQ(c[0].str("PidLidEmail1EmailAddress"), "simon.perreault@viagenie.ca");
  EXPECT_EQ(c[0].str("PidTagPersonalHomePage"), "http://nomis80.org");
}

TEST(Vcard, OutlookVcard21) {
  auto c = read_all(vcf("John_Doe_MS_OUTLOOK.vcf"));
  ASSERT_EQ(c.size(), 1u);
  const Contact& j = c[0];
  EXPECT_EQ(j.str("PidTagSurname"), "Doe");
  EXPECT_EQ(j.str("PidTagGivenName"), "John");
  EXPECT_EQ(j.str("PidTagMiddleName"), "Richter,James");
  EXPECT_EQ(j.str("PidTagDisplayNamePrefix"), "Mr.");
  EXPECT_EQ(j.str("PidTagGeneration"), "Sr.");
  EXPECT_EQ(j.str("PidTagDisplayName"), "Mr. John Richter James Doe Sr.");
  EXPECT_EQ(j.str("PidTagNickname"), "Johny");
  EXPECT_EQ(j.str("PidTagCompanyName"), "IBM");
  EXPECT_EQ(j.str("PidTagDepartmentName"), "Accounting");
  EXPECT_EQ(j.str("PidTagTitle"), "Money Counter");
  EXPECT_EQ(j.str("PidTagProfession"), "Counting Money");
  EXPECT_EQ(j.str("PidTagBusinessTelephoneNumber"), "(905) 555-1234");
  EXPECT_EQ(j.str("PidTagHomeTelephoneNumber"), "(905) 666-1234");
  EXPECT_EQ(j.str("PidLidWorkAddressStreet"), "Cresent moon drive");
  EXPECT_EQ(j.str("PidLidWorkAddressCity"), "Albaney");
  EXPECT_EQ(j.str("PidLidWorkAddressState"), "New York");
  EXPECT_EQ(j.str("PidLidWorkAddressPostalCode"), "12345");
  EXPECT_EQ(j.str("PidLidWorkAddressCountry"), "United States of America");
  EXPECT_EQ(j.str("PidTagHomeAddressStreet"), "Silicon Alley 5,");
  EXPECT_EQ(j.str("PidTagHomeAddressCity"), "New York");
  EXPECT_EQ(j.date("PidTagBirthday"), "1980-03-22");
  EXPECT_EQ(j.date("PidTagWeddingAnniversary"), "2011-01-13");
  EXPECT_EQ(j.str("PidLidEmail1EmailAddress"), "john.doe@ibm.cm");
  EXPECT_EQ(j.str("PidLidInstantMessagingAddress"), "johny5@aol.com");
  EXPECT_EQ(j.str("PidTagManagerName"), "Big Blue");
  EXPECT_EQ(j.str("PidTagAssistant"), "Jenny");
  EXPECT_EQ(j.str("PidTagBusinessHomePage"), "http://www.ibm.com");
  EXPECT_EQ(j.str("PidTagBody").substr(0, 40), "THIS SOFTWARE IS PROVIDED BY GEORGE EL-H");
  ASSERT_EQ(j.m.attachments.size(), 1u);
  const auto& a = j.m.attachments[0].props;
  EXPECT_EQ(a.get_bool(catalog_find("PidTagAttachmentContactPhoto")->tag), true);
  EXPECT_EQ(a.get_string(tags::PidTagAttachMimeTag), "image/jpeg");
  const Bytes& jpeg = a.find(tags::PidTagAttachDataBinary)->get<Bytes>();
  ASSERT_GT(jpeg.size(), 4u);
  EXPECT_EQ(jpeg[0], 0xFF);  // SOI
  EXPECT_EQ(jpeg[1], 0xD8);
  EXPECT_EQ(jpeg[jpeg.size() - 2], 0xFF);  // EOI
  EXPECT_EQ(jpeg[jpeg.size() - 1], 0xD9);
}

TEST(Vcard, Outlook2003QuotedPrintable) {
  auto c = read_all(vcf("outlook-2003.vcf"));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].str("PidTagBody"), "This is the note field!!\r\nSecond line\r\n\r\nThird line is empty\r\n");
  EXPECT_EQ(c[0].str("PidTagCompanyName"), "Company, The");
  EXPECT_EQ(c[0].str("PidTagDepartmentName"), "TheDepartment");
  EXPECT_EQ(c[0].str("PidTagDisplayNamePrefix"), "Mr.");
  EXPECT_EQ(c[0].str("PidTagGeneration"), "III");
  EXPECT_EQ(c[0].str("PidTagBusinessTelephoneNumber"), "BusinessPhone");
  EXPECT_EQ(c[0].str("PidTagHomeTelephoneNumber"), "HomePhone");
  EXPECT_EQ(c[0].str("PidTagMobileTelephoneNumber"), "MobilePhone");
  EXPECT_EQ(c[0].str("PidTagBusinessFaxNumber"), "BusinessFaxPhone");
  EXPECT_EQ(c[0].str("PidLidWorkAddressStreet"), "123 Main St");
  EXPECT_EQ(c[0].str("PidLidWorkAddressCity"), "Austin");
  EXPECT_EQ(c[0].str("PidLidWorkAddressState"), "TX");
  EXPECT_EQ(c[0].date("PidTagBirthday"), "1980-03-21");
  EXPECT_EQ(c[0].str("PidLidEmail1EmailAddress"), "jdoe@hotmail.com");
  EXPECT_EQ(c[0].str("PidTagProfession"), "TheProfession");
}

TEST(Vcard, GmailGroupsAndEscapes) {
  auto c = read_all(vcf("gmail-single.vcf"));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].str("PidTagSurname"), "Dartmouth");
  EXPECT_EQ(c[0].str("PidTagGivenName"), "Greg");
  EXPECT_EQ(c[0].str("PidTagMobileTelephoneNumber"), "555 555 1111");
  EXPECT_EQ(c[0].str("PidTagOtherTelephoneNumber"), "555 555 2222");
  EXPECT_EQ(c[0].str("PidTagHomeAddressStreet"), "123 Home St\r\nHome City, HM 12345");
  EXPECT_EQ(c[0].str("PidTagOtherAddressStreet"), "321 Custom St");
  EXPECT_EQ(c[0].str("PidTagOtherAddressCity"), "Custom City");
  EXPECT_EQ(c[0].str("PidTagOtherAddressStateOrProvince"), "TX");
  EXPECT_EQ(c[0].str("PidTagOtherAddressPostalCode"), "98765");
  EXPECT_EQ(c[0].str("PidTagOtherAddressCountry"), "USA");
  EXPECT_EQ(c[0].date("PidTagBirthday"), "1960-09-10");
  EXPECT_EQ(c[0].str("PidTagBusinessHomePage"), "http://TheProfile.com");
  EXPECT_EQ(c[0].str("PidTagBody"),
            "This is GMail's note field.\r\nIt should be added as a NOTE type.\r\nACustomField: CustomField");
  auto l = read_all(vcf("gmail-list.vcf"));
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[2].str("PidLidEmail1EmailAddress"), "dwhite@gmail.com");
}

TEST(Vcard, EvolutionVcard3) {
  auto c = read_all(vcf("John_Doe_EVOLUTION.vcf"));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].str("PidTagMiddleName"), "Richter, James");
  EXPECT_EQ(c[0].str("PidTagDisplayName"), "Mr. John Richter, James Doe Sr.");
  EXPECT_EQ(c[0].str("PidTagHomeAddressPostOfficeBox"), "ASB-123");
  EXPECT_EQ(c[0].str("PidTagHomeAddressStreet"), "15 Crescent moon drive");
  EXPECT_EQ(c[0].str("PidTagHomeAddressCountry"), "United States of America");
  EXPECT_EQ(c[0].str("PidTagMobileTelephoneNumber"), "905-666-1234");
  EXPECT_EQ(c[0].str("PidTagBusinessTelephoneNumber"), "905-555-1234");
  EXPECT_EQ(c[0].str("PidLidEmail1EmailAddress"), "john.doe@ibm.com");
  EXPECT_EQ(c[0].str("PidTagBusinessHomePage"), "http://www.ibm.com");
  EXPECT_EQ(c[0].date("PidTagBirthday"), "1980-03-22");
  const CatalogEntry* kw = catalog_find("PidNameKeywords");
  auto id = c[0].names.find(*kw->name);
  ASSERT_TRUE(id);
  const PropValue* v = c[0].m.props.find(PropTag(*id, kw->type));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->get<std::vector<std::string>>(), std::vector<std::string>{"VIP"});
  EXPECT_NE(c[0].str("PidTagBody").find("INCIDENTAL, SPECIAL"), std::string::npos);
}

// .vcf -> contact -> .vcf -> contact gives the same contact, in vCard 3 and 4.
TEST(Vcard, RoundTripsKeepEveryField) {
  for (const auto& e : std::filesystem::directory_iterator(std::string(OPENMAPI_SHARED_DIR) + "/corpus/vcf")) {
    SCOPED_TRACE(e.path().filename().string());
    NamedPropertyMap names;
    auto msgs = read_vcards(slurp(e.path()), names);
    for (auto version : {VcardVersion::V3, VcardVersion::V4}) {
      for (const auto& m : msgs) {
        std::string text = write_vcard(m, names, version);
        Message back = read_vcard(text, names);
        for (const auto& v : m.props.values()) {
          const PropValue* b = back.props.find(v.tag());
          EXPECT_TRUE(b && *b == v) << tag_name(v.tag()) << " " << v.to_display() << " vs "
                                    << (b ? b->to_display() : "absent") << "\n" << text;
        }
        EXPECT_EQ(back.props.size(), m.props.size()) << text;
        EXPECT_EQ(back.attachments, m.attachments);
      }
    }
  }
}
