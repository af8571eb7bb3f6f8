// POX Autodiscover requests as clients write them (MS-OXDSCLI 2.2.3), and what is not one.
#include <gtest/gtest.h>

#include "server/autodiscover.h"
#include "server/frontend.h"

using namespace openmapi::server;

TEST(Autodiscover, RequestsAreReadWithAnyPrefixAndEntities) {
  auto r = parse_autodiscover_request(
      "<?xml version=\"1.0\"?>\r\n<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">"
      "<Request><EMailAddress>alice@example.com</EMailAddress><AcceptableResponseSchema>"
      "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->email, "alice@example.com");
  EXPECT_EQ(r->schema, "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a");
  auto p = parse_autodiscover_request(
      "<a:Autodiscover xmlns:a=\"urn:x\"><a:Request><a:EMailAddress>\n  o&apos;brien&amp;co@example.com \n</a:EMailAddress></a:Request>"
      "</a:Autodiscover>");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->email, "o'brien&co@example.com");
  EXPECT_EQ(p->schema, "");
}

TEST(Autodiscover, WhatIsNotARequestIsRefused) {
  EXPECT_FALSE(parse_autodiscover_request(""));
  EXPECT_FALSE(parse_autodiscover_request("<Autodiscover><Request></Request></Autodiscover>"));
  EXPECT_FALSE(parse_autodiscover_request("<Autodiscover><Request><EMailAddress/></Request></Autodiscover>"));
  EXPECT_FALSE(parse_autodiscover_request("<Autodiscover><Request><EMailAddress>a&#64;b</EMailAddress></Request></Autodiscover>"));
  EXPECT_FALSE(parse_autodiscover_request("<Autodiscover><Request><EMailAddress>unterminated"));
  EXPECT_FALSE(parse_autodiscover_request("<EMailAddress>a@b.c</EMailAddress>"));  // no Autodiscover element
  std::string big = "<Autodiscover><Request><EMailAddress>a@b.c</EMailAddress>" + std::string(kMaxAutodiscoverRequest, ' ') + "</Request></Autodiscover>";
  EXPECT_FALSE(parse_autodiscover_request(big));
}

TEST(Autodiscover, ResponsesEscapeWhatTheyCarry) {
  AutodiscoverSettings s;
  s.display_name = "A <b> & \"c\"";
  s.email = "a@example.com";
  s.base_url = "https://mail.example.com";
  s.mailbox_id = "g@example.com";
  s.mapi_http = true;
  const std::string x = autodiscover_response(s);
  EXPECT_NE(x.find("<DisplayName>A &lt;b&gt; &amp; &quot;c&quot;</DisplayName>"), std::string::npos);
  EXPECT_NE(x.find("<InternalUrl>https://mail.example.com/mapi/emsmdb/?MailboxId=g@example.com</InternalUrl>"), std::string::npos);
  EXPECT_NE(x.find("<Protocol Type=\"mapiHttp\" Version=\"1\">"), std::string::npos);
  EXPECT_NE(autodiscover_error(500, "x<y").find("<Message>x&lt;y</Message>"), std::string::npos);
}

TEST(Autodiscover, LegacyDnsAreStablePerAddressAndCaseBlind) {
  const std::string a = user_legacy_dn("OpenMAPI", "Alice.Smith@Example.com");
  EXPECT_EQ(a, user_legacy_dn("OpenMAPI", "alice.smith@example.com"));
  EXPECT_NE(a, user_legacy_dn("OpenMAPI", "alice.smith@example.org"));
  EXPECT_EQ(a.rfind("/o=OpenMAPI/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice_smith-", 0), 0u) << a;
}
