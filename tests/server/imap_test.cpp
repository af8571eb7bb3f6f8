// The IMAP command reader, sequence sets, modified UTF-7 and the MIME structure FETCH reports,
// against the examples of RFC 3501 / RFC 9051 (the ENVELOPE and BODY of 7.4.2 / 7.5.2, the
// mailbox name of 5.1.3) and the syntax of section 9.
#include <gtest/gtest.h>

#include <algorithm>

#include "server/imap.h"
#include "server/imap_mime.h"

using namespace openmapi::server;

namespace {

std::vector<ImapReader::Result> drain(ImapReader& r) {
  std::vector<ImapReader::Result> out;
  while (true) {
    auto x = r.next();
    if (x.event == ImapReader::Event::NeedInput) break;
    const bool stop = x.event == ImapReader::Event::Fatal || x.event == ImapReader::Event::Continue;
    out.push_back(std::move(x));
    if (stop) break;
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

}  // namespace

TEST(ImapReader, ReadsPipelinedCommandsWithQuotedStringsListsAndSections) {
  ImapReader r;
  const std::string in = "a1 LOGIN alice \"pa\\\"ss\\\\\"\r\na2 uid fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.100>)\r\n";
  r.feed(in.data(), in.size());
  auto got = drain(r);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(got[0].event, ImapReader::Event::Command);
  EXPECT_EQ(got[0].command.tag, "a1");
  EXPECT_EQ(got[0].command.name, "LOGIN");
  ASSERT_EQ(got[0].command.args.size(), 2u);
  EXPECT_EQ(got[0].command.args[0].text, "alice");
  EXPECT_EQ(got[0].command.args[1].text, "pa\"ss\\");
  EXPECT_EQ(got[0].command.args[1].kind, ImapArg::Kind::String);
  EXPECT_EQ(got[1].command.name, "UID FETCH");
  ASSERT_EQ(got[1].command.args.size(), 2u);
  EXPECT_EQ(got[1].command.args[0].text, "1:*");
  ASSERT_EQ(got[1].command.args[1].kind, ImapArg::Kind::List);
  ASSERT_EQ(got[1].command.args[1].list.size(), 2u);
  EXPECT_EQ(got[1].command.args[1].list[1].text, "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.100>");
}

TEST(ImapReader, ASynchronisingLiteralAsksForContinuationAndLiteralPlusDoesNot) {
  ImapReader r;
  std::string in = "a1 LOGIN {5}\r\n";
  r.feed(in.data(), in.size());
  auto got = drain(r);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, ImapReader::Event::Continue);
  in = "al\r\nc {3+}\r\npw\n\r\n";  // the literal holds a CRLF and an LF: they are data
  r.feed(in.data(), in.size());
  got = drain(r);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].event, ImapReader::Event::Command);
  ASSERT_EQ(got[0].command.args.size(), 2u);
  EXPECT_EQ(got[0].command.args[0].text, "al\r\nc");
  EXPECT_EQ(got[0].command.args[1].text, "pw\n");
}

TEST(ImapReader, RefusesAnOversizedLiteralBeforeReadingIt) {
  ImapLimits limits;
  limits.max_append = 1000;
  ImapReader r(limits);
  std::string in = "a1 APPEND INBOX {50000000}\r\na2 NOOP\r\n";
  r.feed(in.data(), in.size());
  auto got = drain(r);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].event, ImapReader::Event::Reply);
  EXPECT_EQ(got[0].reply.rfind("a1 NO [TOOBIG]", 0), 0u) << got[0].reply;
  EXPECT_EQ(got[1].command.name, "NOOP");  // the connection goes on
  // A non-synchronising one is already on its way: the connection ends.
  in = "a3 APPEND INBOX {50000000+}\r\nxxxx";
  r.feed(in.data(), in.size());
  got = drain(r);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, ImapReader::Event::Fatal);
  EXPECT_EQ(got[0].reply.rfind("* BYE [TOOBIG]", 0), 0u);
  // A size that is no number at all is refused the same way.
  ImapReader r2(limits);
  in = "a1 APPEND INBOX {99999999999999999999999999}\r\n";
  r2.feed(in.data(), in.size());
  got = drain(r2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].reply.rfind("a1 NO [TOOBIG]", 0), 0u);
}

TEST(ImapReader, ALineOverTheLimitEndsTheConnectionAndSyntaxErrorsAreBad) {
  ImapLimits limits;
  limits.max_line = 100;
  ImapReader r(limits);
  std::string in = "a1 NOOP " + std::string(200, 'x');
  r.feed(in.data(), in.size());
  auto got = drain(r);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, ImapReader::Event::Fatal);

  ImapReader r3;
  in = "a1 FETCH 1 (FLAGS\r\n\"x BAD\r\n+ NOOP\r\nb2 SELECT \"unterminated\r\nc3 LIST " + std::string(40, '(') + "\r\n";
  r3.feed(in.data(), in.size());
  got = drain(r3);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].reply.rfind("a1 BAD", 0), 0u) << got[0].reply;
  EXPECT_EQ(got[1].reply.rfind("* BAD", 0), 0u) << got[1].reply;  // no valid tag
  EXPECT_EQ(got[2].reply.rfind("* BAD", 0), 0u) << got[2].reply;  // '+' is no tag character
  EXPECT_EQ(got[3].reply.rfind("b2 BAD", 0), 0u) << got[3].reply;
  EXPECT_EQ(got[4].reply.rfind("c3 BAD", 0), 0u) << got[4].reply;  // nests too deep
}

TEST(ImapReader, ReadsBareLinesForIdleAndAuthenticate) {
  ImapReader r;
  std::string in = "DONE\r\nAGFsaWNlAHB3\r\n";
  r.feed(in.data(), in.size());
  bool too_long = false;
  EXPECT_EQ(r.line(too_long).value_or(""), "DONE");
  EXPECT_EQ(r.line(too_long).value_or(""), "AGFsaWNlAHB3");
  EXPECT_FALSE(r.line(too_long));
  EXPECT_FALSE(too_long);
}

TEST(ImapSequenceSet, ParsesRangesStarAndRefusesZero) {
  auto s = parse_sequence_set("2,4:7,9,12:*", 15);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->contains(2));
  EXPECT_TRUE(s->contains(5));
  EXPECT_FALSE(s->contains(8));
  EXPECT_TRUE(s->contains(15));
  EXPECT_FALSE(s->contains(16));
  auto reversed = parse_sequence_set("7:4", 15);  // RFC 9051 9: the same as 4:7
  ASSERT_TRUE(reversed);
  EXPECT_TRUE(reversed->contains(5));
  EXPECT_FALSE(parse_sequence_set("0", 15));
  EXPECT_FALSE(parse_sequence_set("1,", 15));
  EXPECT_FALSE(parse_sequence_set("4294967296", 15));
  EXPECT_EQ(format_sequence_set({1, 2, 3, 5, 7, 8}), "1:3,5,7:8");
}

TEST(ImapStrings, QuotesWhatItCanAndSendsTheRestAsLiterals) {
  EXPECT_EQ(imap_string("a \"b\" \\c"), "\"a \\\"b\\\" \\\\c\"");
  EXPECT_EQ(imap_string("two\r\nlines"), "{10}\r\ntwo\r\nlines");
  EXPECT_EQ(imap_string("Gr\xc3\xbc\xc3\x9f" "e"), "{7}\r\nGr\xc3\xbc\xc3\x9f" "e");
  EXPECT_EQ(imap_string("Gr\xc3\xbc\xc3\x9f" "e", true), "\"Gr\xc3\xbc\xc3\x9f" "e\"");
  EXPECT_EQ(imap_nstring(std::nullopt), "NIL");
}

TEST(ImapMailboxNames, ModifiedUtf7AsRfc3501Shows) {
  // RFC 3501 5.1.3: "~peter/mail/台北/日本語" is "~peter/mail/&U,BTFw-/&ZeVnLIqe-".
  const std::string utf8 = "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
  EXPECT_EQ(mutf7_encode(utf8), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(mutf7_decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").value_or(""), utf8);
  EXPECT_EQ(mutf7_encode("Tom & Jerry"), "Tom &- Jerry");
  EXPECT_EQ(mutf7_decode("Tom &- Jerry").value_or(""), "Tom & Jerry");
  EXPECT_FALSE(mutf7_decode("&U,BTFw"));  // no terminating '-'
  EXPECT_FALSE(mutf7_decode("&Jjo!-"));   // '!' is no modified base64
}

TEST(ImapMime, EnvelopeOfRfc3501Example) {
  const std::string msg =
      "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
      "From: Terry Gray <gray@cac.washington.edu>\r\n"
      "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
      "To: imap@cac.washington.edu\r\n"
      "cc: minutes@CNRI.Reston.VA.US,\r\n"
      "   John Klensin <KLENSIN@MIT.EDU>\r\n"
      "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
      "\r\n"
      "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";
  const MimeEntity top = parse_mime_structure(msg);
  EXPECT_EQ(imap_envelope(msg, top, false),
            "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) "
            "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
            "\"<B27397-0100000@cac.washington.edu>\")");
  // RFC 3501 7.4.2's single-part BODY: ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92), here for this body.
  EXPECT_EQ(lower(imap_body_structure(msg, top, false, false)), "(\"text\" \"plain\" (\"charset\" \"us-ascii\") nil nil \"7bit\" 55 1)");
}

TEST(ImapMime, MultipartBodyOfRfc3501ExampleAndItsSections) {
  // The multipart BODY of RFC 3501 7.4.2, with parts of the sizes and line counts it gives.
  auto lines_of = [](size_t lines, size_t bytes) {
    const size_t per = bytes / lines;
    std::string s;
    for (size_t i = 0; i + 1 < lines; ++i) s += std::string(per - 2, char('a' + i % 26)) + "\r\n";
    return s + std::string(bytes - s.size() - 2, 'z') + "\r\n";
  };
  const std::string p1 = lines_of(23, 1152), p2 = lines_of(73, 4554);
  ASSERT_EQ(p1.size(), 1152u);
  ASSERT_EQ(p2.size(), 4554u);
  const std::string msg = "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: MULTIPART/MIXED; BOUNDARY=\"b\"\r\n\r\npreamble\r\n--b\r\n"
                          "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n" + p1 +
                          "\r\n--b\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\r\n"
                          "Content-ID: <960723163407.20117h@cac.washington.edu>\r\nContent-Description: Compiler diff\r\n"
                          "Content-Transfer-Encoding: BASE64\r\n\r\n" + p2 + "\r\n--b--\r\nepilogue\r\n";
  const MimeEntity top = parse_mime_structure(msg);
  EXPECT_EQ(lower(imap_body_structure(msg, top, false, false)),
            lower("((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)(\"TEXT\" \"PLAIN\" (\"CHARSET\" "
                  "\"US-ASCII\" \"NAME\" \"cc.diff\") \"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" "
                  "4554 73) \"MIXED\")"));
  std::string error;
  EXPECT_EQ(imap_section(msg, top, "1", error).value_or("?"), p1);
  EXPECT_EQ(imap_section(msg, top, "2", error).value_or("?"), p2);
  EXPECT_EQ(imap_section(msg, top, "2.MIME", error).value_or("?").rfind("Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\r\n", 0), 0u);
  EXPECT_EQ(imap_section(msg, top, "HEADER.FIELDS (SUBJECT)", error).value_or("?"), "Subject: x\r\n\r\n");
  EXPECT_EQ(imap_section(msg, top, "", error).value_or("?"), msg);
  EXPECT_FALSE(imap_section(msg, top, "3", error));
  EXPECT_TRUE(error.empty());
  EXPECT_FALSE(imap_section(msg, top, "1.BOGUS", error));
  EXPECT_FALSE(error.empty());
}

TEST(ImapMime, EmbeddedMessagesGroupsAndBinary) {
  const std::string msg =
      "From: \"Doe, Jane\" <jane@example.org>\r\nTo: friends: a@example.org, b@example.org;, c@example.org\r\n"
      "Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
      "--outer\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=\r\nsse\r\n"
      "--outer\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\ninner body\r\n"
      "--outer--\r\n";
  const MimeEntity top = parse_mime_structure(msg);
  const std::string env = imap_envelope(msg, top, false);
  EXPECT_NE(env.find("((\"Doe, Jane\" NIL \"jane\" \"example.org\"))"), std::string::npos) << env;
  EXPECT_NE(env.find("((NIL NIL \"friends\" NIL)(NIL NIL \"a\" \"example.org\")(NIL NIL \"b\" \"example.org\")(NIL NIL NIL NIL)"
                     "(NIL NIL \"c\" \"example.org\"))"),
            std::string::npos)
      << env;
  std::string error;
  EXPECT_EQ(imap_binary_section(msg, top, "1", error).value_or("?"), "Gr\xc3\xbcsse");
  EXPECT_EQ(imap_section(msg, top, "2.HEADER", error).value_or("?"), "Subject: inner\r\nContent-Type: text/plain\r\n\r\n");
  EXPECT_EQ(imap_section(msg, top, "2.TEXT", error).value_or("?"), "inner body");
  EXPECT_EQ(imap_section(msg, top, "2.1", error).value_or("?"), "inner body");
  const std::string bs = imap_body_structure(msg, top, true, false);
  EXPECT_NE(bs.find("(\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" "), std::string::npos) << bs;
  EXPECT_NE(bs.find("\"inner\""), std::string::npos) << bs;  // the embedded message's envelope
}
